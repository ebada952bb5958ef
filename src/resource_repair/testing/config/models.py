"""State and rules of the fake Cloud Config API: rules, evaluation results, faults, calls.

Evaluation results page with an opaque ``NextToken`` as the real API does; the last page's
token is absent or empty (both happen in the wild), chosen by ``last_page_token``.
"""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)

BUCKET_TYPE = "ACS::OSS::Bucket"


class ConfigServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass
class FakeRule:
    rule_id: str
    name: str
    source_identifier: str = "oss-bucket-public-read-prohibited"
    aggregator_id: str | None = None
    state: str = "ACTIVE"
    """ConfigRuleState: ACTIVE, EVALUATING, INACTIVE or DELETING."""
    risk_level: int = 1
    """1 high, 2 medium, 3 low."""
    resource_types: str = BUCKET_TYPE
    """ResourceTypesScope, comma-separated."""
    description: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    """The rule's own tags (CreateConfigRule's ``Tag``), as (key, value)."""
    trigger_types: str = "ConfigurationItemChangeNotification"
    scope: dict[str, str] = dataclasses.field(default_factory=dict)
    """Further scope parameters as CreateConfigRule takes them (RegionIdsScope,
    TagKeyScope, ResourceGroupIdsScope, ExcludeResourceIdsScope, ...)."""


@dataclasses.dataclass
class FakeDeliveryChannel:
    """A delivery channel as ListConfigDeliveryChannels lists it."""

    channel_id: str
    target_arn: str
    channel_type: str = "MNS"
    non_compliant_notification: bool = True
    status: int = 1
    """1 enabled, 0 disabled."""
    condition: str = ""
    """DeliveryChannelCondition: a JSON list of filters, or ""."""
    name: str = ""
    description: str = ""
    change_notification: bool = False
    """ConfigurationItemChangeNotification."""
    aggregator_id: str | None = None
    """The account group's channel (CreateAggregateConfigDeliveryChannel), else None."""


@dataclasses.dataclass(frozen=True)
class FakeEvaluation:
    rule_id: str
    resource_id: str
    region_id: str
    owner_id: str = DEFAULT_ACCOUNT_ID
    resource_type: str = BUCKET_TYPE
    compliance: str = "NON_COMPLIANT"
    aggregator_id: str | None = None
    evaluated_at_ms: int = dataclasses.field(default_factory=lambda: int(time.time() * 1000))
    """When Config evaluated the resource (epoch milliseconds): by default when the result
    was added, so that a bucket created before it is the bucket that was evaluated."""


@dataclasses.dataclass
class FakeRemediation:
    """A remediation of a rule, as ListRemediations lists it (remediation_actions.py
    answers the calls on it)."""

    remediation_id: str
    rule_id: str
    template_id: str
    invoke_type: str = "MANUAL_EXECUTION"
    remediation_type: str = "FC"
    source_type: str = "CUSTOM"
    params: str = "{}"
    aggregator_id: str | None = None


@dataclasses.dataclass(frozen=True)
class ConfigCall:
    action: str
    params: Mapping[str, str]
    status: int
    code: str = ""
    host: str = ""
    """The host the request was sent to (which Config site, or the loopback fake)."""


@dataclasses.dataclass
class _Fault:
    remaining: int
    action: str | None
    error: ConfigServiceError


class ConfigBackend:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rules: dict[str, FakeRule] = {}
        self.results: list[FakeEvaluation] = []
        self.calls: list[ConfigCall] = []
        self.evaluations_started: list[str] = []
        self.credentials: dict[str, FakeCredentials] = {
            DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS
        }
        self.delivery_channels: list[FakeDeliveryChannel] = []
        self.faults: list[_Fault] = []
        self.latency = 0.0
        self.last_page_token: str = "absent"
        """``absent`` or ``empty``: how the last page says there is no more."""
        self.recorder_status = "REGISTERED"
        """GetConfigurationRecorder's status: REGISTERED once Config is activated."""
        self.max_delivery_channels = 5
        self.on_rule_created: Callable[[FakeRule], None] | None = None
        """Called with each rule CreateConfigRule makes: a first evaluation (fake_cloud)."""
        self.looping_pages = 0
        """Listing requests with a NextToken that answer the first page again (a server
        that does not move on), before the fake pages normally again."""
        self.looping_tokens = "same"
        """``same``: those pages carry the token they were asked with (a repeated token);
        ``fresh``: a new token each time, over the same results (nothing new)."""
        self.remediations: list[FakeRemediation] = []
        """Rules' remediations (remediation_actions.py)."""

    # -- setting the scene -------------------------------------------------------------

    def add_rule(
        self, name: str, rule_id: str | None = None, aggregator_id: str | None = None
    ) -> FakeRule:
        rule = FakeRule(rule_id or f"cr-{uuid.uuid4().hex[:20]}", name, aggregator_id=aggregator_id)
        with self.lock:
            self.rules[rule.rule_id] = rule
        return rule

    def add_delivery_channel(
        self, target_arn: str, channel_type: str = "MNS", **changes: Any
    ) -> FakeDeliveryChannel:
        """A channel to ``target_arn`` (``acs:mns:<region>:<uid>:/topics/<name>`` for MNS),
        enabled and sending non-compliance events unless ``changes`` say otherwise."""
        channel = FakeDeliveryChannel(
            f"cdc-{uuid.uuid4().hex[:20]}", target_arn, channel_type, **changes
        )
        with self.lock:
            self.delivery_channels.append(channel)
        return channel

    def add_results(
        self,
        rule: FakeRule,
        buckets: Iterable[str],
        region: str = "ap-southeast-1",
        owner_id: str = DEFAULT_ACCOUNT_ID,
        compliance: str = "NON_COMPLIANT",
        resource_type: str = BUCKET_TYPE,
        evaluated_at_ms: int | None = None,
    ) -> None:
        """Results of ``rule`` for ``buckets``, evaluated now unless ``evaluated_at_ms``."""
        moment = int(time.time() * 1000) if evaluated_at_ms is None else evaluated_at_ms
        with self.lock:
            self.results.extend(
                FakeEvaluation(
                    rule.rule_id,
                    name,
                    region,
                    owner_id,
                    resource_type,
                    compliance,
                    rule.aggregator_id,
                    moment,
                )
                for name in buckets
            )

    def fail_next(
        self,
        times: int = 1,
        *,
        action: str | None = None,
        status: int = 503,
        code: str = "ServiceUnavailable",
        message: str = "injected",
    ) -> None:
        with self.lock:
            self.faults.append(_Fault(times, action, ConfigServiceError(status, code, message)))

    def operations(self) -> list[str]:
        return [call.action for call in self.calls]

    # -- the actions, called by wire.py --------------------------------------------------

    def take_fault(self, action: str) -> ConfigServiceError | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.action in (None, action):
                    fault.remaining -= 1
                    return fault.error
        return None

    def list_config_rules(self, params: Mapping[str, str]) -> dict[str, Any]:
        page = _int(params, "PageNumber", 1, 1, 10**6)
        size = _int(params, "PageSize", 10, 1, 100)
        name = params.get("ConfigRuleName") or params.get("Keyword") or ""
        rules = [r for r in self.rules.values() if r.aggregator_id is None and name in r.name]
        chunk = rules[(page - 1) * size : page * size]
        return {
            "ConfigRules": {
                "ConfigRuleList": [
                    {
                        "ConfigRuleId": r.rule_id,
                        "ConfigRuleName": r.name,
                        "ConfigRuleArn": f"acs:config::{DEFAULT_ACCOUNT_ID}:rule/{r.rule_id}",
                        "ConfigRuleState": r.state,
                        "SourceIdentifier": r.source_identifier,
                        "SourceOwner": "ALIYUN",
                        "RiskLevel": r.risk_level,
                        "ResourceTypesScope": r.resource_types,
                        "Tags": [{"Key": k, "Value": v} for k, v in r.tags],
                    }
                    for r in chunk
                ],
                "PageNumber": page,
                "PageSize": size,
                "TotalCount": len(rules),
            }
        }

    def list_delivery_channels(self, params: Mapping[str, str]) -> dict[str, Any]:
        wanted = set(filter(None, params.get("DeliveryChannelIds", "").split(",")))
        aggregator_id = params.get("AggregatorId") or None
        with self.lock:
            channels = [
                c
                for c in self.delivery_channels
                if (not wanted or c.channel_id in wanted) and c.aggregator_id == aggregator_id
            ]
        return {
            "DeliveryChannels": [
                {
                    "DeliveryChannelId": c.channel_id,
                    "DeliveryChannelName": c.name or c.channel_id,
                    "Description": c.description,
                    "DeliveryChannelType": c.channel_type,
                    "DeliveryChannelTargetArn": c.target_arn,
                    "DeliveryChannelAssumeRoleArn": (
                        f"acs:ram::{DEFAULT_ACCOUNT_ID}:role/aliyunserviceroleforconfig"
                    ),
                    "DeliveryChannelCondition": c.condition,
                    "ConfigurationItemChangeNotification": c.change_notification,
                    "ConfigurationSnapshot": False,
                    "NonCompliantNotification": c.non_compliant_notification,
                    "Status": c.status,
                }
                for c in channels
            ]
        }

    def list_evaluation_results(
        self, params: Mapping[str, str], *, aggregator: bool
    ) -> dict[str, Any]:
        rule_id = params.get("ConfigRuleId", "")
        aggregator_id = params.get("AggregatorId") if aggregator else None
        if aggregator and not aggregator_id:
            raise ConfigServiceError(
                400, "MissingAggregatorId", "AggregatorId is mandatory for this action."
            )
        rule = self.rules.get(rule_id)
        if rule is None or rule.aggregator_id != aggregator_id:
            raise ConfigServiceError(400, "ConfigRuleNotExists", "The ConfigRule does not exist.")
        size = _int(params, "MaxResults", 10, 1, 100)
        start = _offset(params.get("NextToken", ""))
        looping = self._looping(params.get("NextToken", ""))
        if looping is not None:
            start = 0
        regions = set(filter(None, params.get("Regions", "").split(",")))
        types = set(filter(None, params.get("ResourceTypes", "").split(",")))
        compliance = params.get("ComplianceType")
        matching = (
            e
            for e in self.results
            if e.rule_id == rule_id
            and (not regions or e.region_id in regions)
            and (not types or e.resource_type in types)
            and (not compliance or e.compliance == compliance)
        )
        chunk: list[FakeEvaluation] = []
        position = 0
        more = False
        for position, evaluation in enumerate(matching):
            if position < start:
                continue
            if len(chunk) == size:
                more = True
                break
            chunk.append(evaluation)
        page: dict[str, Any] = {
            "MaxResults": size,
            "EvaluationResultList": [_render(e, rule) for e in chunk],
        }
        if looping is not None:
            page["NextToken"] = looping
        elif more:
            page["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
        elif self.last_page_token == "empty":
            page["NextToken"] = ""
        return {"EvaluationResults": page}

    def start_evaluation(self, params: Mapping[str, str]) -> dict[str, Any]:
        rule_id = params.get("ConfigRuleId", "")
        if rule_id not in self.rules:
            raise ConfigServiceError(400, "ConfigRuleNotExists", "The ConfigRule does not exist.")
        with self.lock:
            self.evaluations_started.append(rule_id)
        return {"Result": True}

    def _looping(self, token: str) -> str | None:
        """The token a looping page carries, or None when this page is an ordinary one."""
        with self.lock:
            if not token or self.looping_pages <= 0:
                return None
            self.looping_pages -= 1
            if self.looping_tokens == "same":
                return token
            nonce = uuid.uuid4().hex[:8]
            return base64.b64encode(f"{_offset(token)}.{nonce}".encode()).decode()


def _render(evaluation: FakeEvaluation, rule: FakeRule) -> dict[str, Any]:
    return {
        "ComplianceType": evaluation.compliance,
        "RiskLevel": 1,
        "Annotation": '{"configuration":"public-read","desiredValue":"read"}',
        "InvokingEventMessageType": "ConfigurationItemChangeNotification",
        "RemediationEnabled": False,
        "EvaluationId": uuid.uuid4().hex,
        "ConfigRuleInvokedTimestamp": evaluation.evaluated_at_ms,
        "ResultRecordedTimestamp": evaluation.evaluated_at_ms + 1_000,
        "EvaluationResultIdentifier": {
            "OrderingTimestamp": evaluation.evaluated_at_ms,
            "EvaluationResultQualifier": {
                "ResourceId": evaluation.resource_id,
                "ResourceName": evaluation.resource_id,
                "ResourceType": evaluation.resource_type,
                "RegionId": evaluation.region_id,
                "ResourceOwnerId": int(evaluation.owner_id),
                "ConfigRuleId": rule.rule_id,
                "ConfigRuleName": rule.name,
                "ConfigRuleArn": f"acs:config::{evaluation.owner_id}:rule/{rule.rule_id}",
            },
        },
    }


def _int(params: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigServiceError(400, f"Invalid{key}", f"{key} is not a number.") from None
    if not low <= value <= high:
        raise ConfigServiceError(400, f"Invalid{key}", f"{key} must be between {low} and {high}.")
    return value


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        # "offset", or "offset.nonce" for a looping page's fresh token.
        return int(base64.b64decode(token, validate=True).split(b".")[0])
    except ValueError:
        raise ConfigServiceError(400, "InvalidNextToken", "The NextToken is invalid.") from None


def aggregator_of(params: Mapping[str, str]) -> str | None:
    """The account group of an ``Aggregate`` call (mandatory there), else None."""
    if "Aggregate" in params.get("Action", ""):
        value = params.get("AggregatorId", "")
        if not value:
            raise ConfigServiceError(
                400, "MissingAggregatorId", "AggregatorId is mandatory for this action."
            )
        return value
    return None
