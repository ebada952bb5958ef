"""Read a decoded Cloud Config message: is it a bucket non-compliance, and about what?

Several kinds of message share one topic: non-compliance results (two generations),
configuration change notifications (two generations) and snapshot delivery events. Only
non-compliance results concern this function; :func:`classify_message` tells them apart
without trusting any field to have the type the documentation shows.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any

from resource_repair.errors import InvalidEventError
from resource_repair.report import bounded_label

BUCKET_RESOURCE_TYPE = "ACS::OSS::Bucket"
NON_COMPLIANT = "NON_COMPLIANT"
_NON_COMPLIANCE_DATA_TYPE = "NonCompliantNotification"
_COMPLIANCE_EVENT_TYPE = "ResourceCompliance"


@dataclasses.dataclass(frozen=True)
class NonComplianceEvent:
    """A Cloud Config result saying that one resource breaks one rule."""

    resource_id: str
    """The bucket name, for a bucket (``resourceId`` equals ``resourceName``)."""
    region_id: str
    """The region the resource lives in, as Cloud Config reports it."""
    resource_type: str | None
    """``ACS::OSS::Bucket`` for a bucket; absent in some hand-written messages."""
    rule_name: str | None
    """The rule's name as the user typed it: free text, possibly localized."""
    rule_id: str | None
    """The rule's stable id (``cr-...``)."""
    source_identifier: str | None
    """The managed rule the rule is built on (newest generation only)."""
    owner_account_id: str | None
    """The account that owns the resource (``resourceOwnerId``, else ``accountId``)."""
    annotation: dict[str, Any] | None
    """What Config saw and wanted, parsed whether it arrived as a string or an object."""
    evaluated_at: datetime.datetime | None = None
    """The latest moment the result says the evaluation was still going on (UTC), or None
    when it carries no usable timestamp. The bucket Config evaluated existed by then, so a
    bucket of the same name created later is another bucket. See :func:`evaluation_time`."""

    @property
    def bucket(self) -> str:
        return self.resource_id

    @property
    def rule_references(self) -> tuple[str, ...]:
        """Every value a configured rule reference may equal to select this message."""
        refs = (self.rule_name, self.rule_id, self.source_identifier)
        return tuple(ref for ref in refs if ref)

    @property
    def rule_label(self) -> str | None:
        """How results and logs name the rule: bounded, since a rule name is free text."""
        return bounded_label(self.rule_name or self.rule_id or self.source_identifier)


@dataclasses.dataclass(frozen=True)
class IgnoredMessage:
    """A message this function does not act on, and why."""

    reason: str


def classify_message(message: dict[str, Any]) -> NonComplianceEvent | IgnoredMessage:
    """Sort a decoded message; raise InvalidEventError for a malformed non-compliance result."""
    kind = _other_kind(message)
    if kind is not None:
        return IgnoredMessage(f"{kind}, not a non-compliance result")
    compliance = message.get("complianceType")
    if compliance is not None and compliance != NON_COMPLIANT:
        return IgnoredMessage(f"complianceType is {_show(compliance)}, not {NON_COMPLIANT}")

    qualifier = _qualifier(message)
    resource_type = _optional_text(qualifier, "resourceType")
    if resource_type is not None and resource_type != BUCKET_RESOURCE_TYPE:
        return IgnoredMessage(f"resource type {_show(resource_type)} is not an OSS bucket")

    return NonComplianceEvent(
        resource_id=_required_text(qualifier, "resourceId"),
        region_id=_required_text(qualifier, "regionId"),
        resource_type=resource_type,
        rule_name=_optional_text(qualifier, "configRuleName"),
        rule_id=_optional_text(qualifier, "configRuleId"),
        source_identifier=_optional_text(message, "sourceIdentifier")
        or _optional_text(qualifier, "sourceIdentifier"),
        owner_account_id=_account_id(qualifier, "resourceOwnerId")
        or _account_id(message, "accountId"),
        annotation=_annotation(message.get("annotation")),
        evaluated_at=evaluation_time(
            message["evaluationResultIdentifier"].get("orderingTimestamp"),  # an object, checked
            qualifier.get("captureTime"),
            message.get("configRuleInvokedTimestamp"),
            message.get("resultRecordedTimestamp"),
        ),
    )


# Timestamps outside these bounds are not Config's: ignored rather than trusted.
_EARLIEST = datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc)
_LATEST = datetime.datetime(2200, 1, 1, tzinfo=datetime.timezone.utc)


def evaluation_time(*timestamps: object) -> datetime.datetime | None:
    """The latest of a result's evaluation timestamps (epoch milliseconds), as a UTC time.

    Which ones exist depends on the source: every message generation has
    ``evaluationResultIdentifier.orderingTimestamp``, ``configRuleInvokedTimestamp`` and
    ``resultRecordedTimestamp``; the current generation adds the qualifier's
    ``captureTime``; the Config API's results carry ``OrderingTimestamp`` (and, like the
    messages, the invoked and recorded times). The evaluated resource existed no later than
    any of them, and the latest is the safest bound: OrderingTimestamp alone is the
    *trigger* of a periodic evaluation, which may read a configuration captured after it.
    Values that are not plausible epoch milliseconds are ignored, never an error: the
    timestamps only ever add caution to a report.
    """
    moments = [moment for moment in map(_epoch_millis, timestamps) if moment is not None]
    return max(moments, default=None)


def _epoch_millis(value: object) -> datetime.datetime | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if _EARLIEST <= moment <= _LATEST else None


def _other_kind(message: dict[str, Any]) -> str | None:
    """Name the kind of a message that is plainly not a non-compliance result."""
    data_type = message.get("dataType")
    if data_type is not None and data_type != _NON_COMPLIANCE_DATA_TYPE:
        return f"dataType {_show(data_type)}"
    event_type = message.get("eventType")
    if event_type is not None and event_type != _COMPLIANCE_EVENT_TYPE:
        return f"eventType {_show(event_type)}"
    if "ResourceEventType" in message or "configurationItem" in message:
        return "a configuration change notification"
    if "evaluationResultIdentifier" not in message:
        return "a message without evaluationResultIdentifier"
    return None


def _qualifier(message: dict[str, Any]) -> dict[str, Any]:
    identifier = message.get("evaluationResultIdentifier")
    if not isinstance(identifier, dict):
        raise InvalidEventError("evaluationResultIdentifier is not an object")
    qualifier = identifier.get("evaluationResultQualifier")
    if not isinstance(qualifier, dict):
        raise InvalidEventError("evaluationResultQualifier is missing or not an object")
    return qualifier


def _required_text(obj: dict[str, Any], key: str) -> str:
    value = _optional_text(obj, key)
    if value is None:
        raise InvalidEventError(f"{key} is missing or empty")
    return value


def _optional_text(obj: dict[str, Any], key: str) -> str | None:
    return _as_text(key, obj.get(key))


def _as_text(key: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    # Ids arrive as numbers in some generations; bools and containers are never valid.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidEventError(f"{key} has type {type(value).__name__}, expected a string")
    return value


def _account_id(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a JSON encoder that wrote 1.6e15 still meant an integer
    text = _as_text(key, value)
    if text is not None and not (text.isascii() and text.isdigit()):
        raise InvalidEventError(f"{key} {_show(text)} is not an account id")
    return text


def _annotation(value: object) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _show(value: object, limit: int = 64) -> str:
    """Quote a value from a message for a log line: bounded, and control characters escaped."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
