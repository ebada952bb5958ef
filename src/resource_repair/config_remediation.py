"""Cloud Config's own call of the function: the "custom remediation" that
``resource-repair setup --config-remediation`` registers, run from Config's console for one
bucket (or by Config itself, with ``auto``).

What arrives is, as far as Alibaba's published sample shows (aliyun/alibabacloud-config-
samples, ``remediation/terraform/fc/fc_function_for_kms_tag.py``), a JSON array of
resources, each with ``accountId``, ``resourceId``, ``resourceType`` and ``regionId``.
Nothing documents whether it names the rule or what else it holds, and anyone who may
invoke the function or publish to its topic can send the same array. So the array is a
pointer, never proof:

- every entry is checked as a message is (bucket name, region id, owner account) before any
  request, and at most :data:`MAX_ENTRIES` are acted on;
- for each, the function asks Config itself whether the bucket is NON_COMPLIANT under a rule
  ``prepareRuleName`` selects, and remediates Config's answer (its rule's fix, its evaluation
  time), never the payload; no such answer, no OSS request;
- it never raises (whether Config retries is unknown): transient trouble is the entry's
  result, ``will_retry``, and the sweep's to finish;
- one audit line per entry (delivery form :data:`FORM`), and a result naming each outcome.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from resource_repair.audit import write_audit
from resource_repair.endpoints import EndpointOptionError, loopback_host_port
from resource_repair.errors import ConfigurationError, InvalidEventError, TransientError
from resource_repair.invocation import context_text, function_region
from resource_repair.logtext import untrusted, untrusted_traceback
from resource_repair.message import BUCKET_RESOURCE_TYPE, NonComplianceEvent
from resource_repair.notify import Notified, notify_outcome
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.settings import CONFIG_ENDPOINT_OVERRIDE, RULE_REFERENCES, Settings
from resource_repair.validation import check_event

logger = logging.getLogger(__name__)

FORM = "config-remediation"
"""The delivery form of the audit lines and the result."""
MAX_ENTRIES = 10
"""Entries acted on per call. Config's console runs a remediation for one bucket at a time;
more than a few in one call is not Config's doing, and each costs a Config read and OSS
requests within the one function timeout."""
PERMISSIONS = ("config:ListResourceEvaluationResults",)
"""What the role needs for this call, beside the remediations' OSS actions (doctor's role
check and the templates follow this declaration)."""
AGGREGATE_PERMISSIONS = ("config:ListAggregateResourceEvaluationResults",)
"""... and with configAggregatorId (hub mode), the account group's reads instead."""

_SHOWN = 64


@dataclasses.dataclass(frozen=True)
class EntryResult:
    report: Report
    will_retry: bool = False
    notification: str = Notified.NONE.value

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.report.as_dict(),
            "will_retry": self.will_retry,
            "notification": self.notification,
        }


def is_config_call(event: object) -> bool:
    """True when the event is JSON text that opens an array: no SMQ delivery does."""
    if isinstance(event, (bytes, bytearray, memoryview)):
        head = bytes(event[:64]).lstrip()
        return head.startswith(b"[")
    return isinstance(event, str) and event[:64].lstrip().startswith("[")


def handle_config_call(
    event: object,
    context: object,
    environ: Mapping[str, str],
    *,
    fc_request_id: str | None,
    deadline: Deadline,
    notify_deadline: Deadline,
) -> str:
    """Every entry to a result, one audit line each; the result as JSON text. Never raises."""
    try:
        results = _results(event, context, environ, fc_request_id, deadline, notify_deadline)
    except Exception as exc:  # a defect of ours: one failed result, never a raise
        logger.error("unexpected error in a Config remediation call: %s", untrusted_traceback())
        report = Report(Outcome.FAILED, f"internal error: {type(exc).__name__}")
        write_audit(report, fc_request_id, form=FORM)
        results = [EntryResult(report)]
    failed = sum(1 for r in results if r.report.status == "fail")
    summary = {
        "status": "fail" if failed else "success",
        "form": FORM,
        "reason": f"{len(results)} entr{'y' if len(results) == 1 else 'ies'}, {failed} failed",
        "entries": [r.as_dict() for r in results],
    }
    return json.dumps(summary, ensure_ascii=True)


def _results(
    event: object,
    context: object,
    environ: Mapping[str, str],
    fc_request_id: str | None,
    deadline: Deadline,
    notify_deadline: Deadline,
) -> list[EntryResult]:
    def finish(result: EntryResult, notify: bool = True) -> EntryResult:
        # Failures and fixes are published as a message's are (notify.py); entries past
        # the limit are not, so that one long array cannot flood the topic.
        notified = Notified.NONE
        if notify:
            notified = notify_outcome(
                result.report, context, environ, fc_request_id, notify_deadline, form=FORM
            )
        return _finish(result.report, fc_request_id, result.will_retry, notified.value)

    try:
        settings = Settings.from_env(environ)
        endpoint = config_endpoint(environ)
        entries = _decode(event)
    except ConfigurationError as exc:
        return [finish(EntryResult(Report(Outcome.FAILED, f"configuration: {exc}")))]
    except InvalidEventError as exc:
        return [finish(EntryResult(Report(Outcome.INVALID_EVENT, str(exc))))]
    if not entries:
        return [finish(EntryResult(Report(Outcome.IGNORED, "the array is empty")))]
    account_id = context_text(context, "account_id")
    may_act_in = settings.may_act_in if settings.member_role_name else None
    # Every entry checked before any request is made for any of them.
    checked = [_checked(entry, account_id, may_act_in) for entry in entries]
    results: list[EntryResult] = []
    acted: set[tuple[str, str]] = set()
    config: _Config | None = None
    asked = False
    for position, item in enumerate(checked, start=1):
        if position > MAX_ENTRIES:
            reason = (
                f"entry {position} of {len(checked)}: only the first {MAX_ENTRIES} entries of"
                " one call are acted on; the sweep covers the rest"
            )
            report = item if isinstance(item, Report) else _about(item, Outcome.IGNORED, reason)
            results.append(finish(EntryResult(report), notify=False))
            continue
        if isinstance(item, Report):
            results.append(finish(EntryResult(item)))
            continue
        if not settings.rule_references:
            reason = f"{RULE_REFERENCES} is not set, so no rule is selected"
            results.append(finish(EntryResult(_about(item, Outcome.IGNORED, reason))))
            continue
        key = (item.bucket, item.region_id)
        if key in acted:
            reason = "the same bucket is an earlier entry of this call"
            results.append(finish(EntryResult(_about(item, Outcome.IGNORED, reason))))
            continue
        acted.add(key)
        if not asked:
            config = _config_client(settings, context, environ, deadline, endpoint)
            asked = True
        results.append(finish(_act(item, config, settings, context, environ, account_id, deadline)))
    return results


def _decode(event: object) -> list[Any]:
    from resource_repair.delivery import decode_json_array

    return decode_json_array(event)


def _finish(
    report: Report,
    fc_request_id: str | None,
    will_retry: bool = False,
    notification: str = Notified.NONE.value,
) -> EntryResult:
    level = logging.WARNING if report.status == "fail" else logging.INFO
    # The reason carries payload text (a bucket, a region): escaped, see logtext.
    logger.log(level, "%s: %s", report.outcome.value, untrusted(report.reason))
    write_audit(report, fc_request_id, form=FORM, will_retry=will_retry, notification=notification)
    return EntryResult(report, will_retry, notification)


def _about(event: NonComplianceEvent, outcome: Outcome, reason: str) -> Report:
    return Report(outcome, reason, bucket=event.bucket, region=event.region_id)


def _checked(entry: object, account_id: str | None, may_act_in: Any) -> NonComplianceEvent | Report:
    """The entry as a bucket to ask Config about, or the report of why it is refused."""
    if not isinstance(entry, dict):
        return Report(
            Outcome.INVALID_EVENT, f"entry is a JSON {type(entry).__name__}, expected an object"
        )
    try:
        resource_type = _text(entry, "resourceType")
        if resource_type != BUCKET_RESOURCE_TYPE:
            return Report(
                Outcome.IGNORED,
                f"resource type {_show(resource_type)} is not an OSS bucket",
            )
        event = NonComplianceEvent(
            resource_id=_required(entry, "resourceId"),
            region_id=_required(entry, "regionId"),
            resource_type=resource_type,
            rule_name=None,
            rule_id=None,
            source_identifier=None,
            owner_account_id=_account(entry),
            annotation=None,
        )
        check_event(event, account_id, may_act_in)
    except InvalidEventError as exc:
        bucket = entry.get("resourceId")
        region = entry.get("regionId")
        return Report(
            Outcome.INVALID_EVENT,
            str(exc),
            bucket=bucket[:80] if isinstance(bucket, str) else None,
            region=region[:40] if isinstance(region, str) else None,
        )
    return event


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"{key} has type {type(value).__name__}, expected a string")
    return value


def _required(entry: Mapping[str, Any], key: str) -> str:
    value = _text(entry, key)
    if value is None:
        raise InvalidEventError(f"{key} is missing or empty")
    return value


def _account(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("accountId")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # Config's account ids are numbers in some answers
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        raise InvalidEventError(f"accountId {_show(value)} is not an account id")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclasses.dataclass(frozen=True)
class _Config:
    client: Any
    """config_api.ConfigClient, imported only once a call needs it."""
    site: str


def config_endpoint(environ: Mapping[str, str]) -> str | None:
    """``configEndpointOverride``: a fake Config on this machine (``127.0.0.1:port``), for
    local runs. Requests to it carry the signature and token in clear: loopback only."""
    value = environ.get(CONFIG_ENDPOINT_OVERRIDE, "").strip()
    try:
        return loopback_host_port(value, CONFIG_ENDPOINT_OVERRIDE)
    except EndpointOptionError as exc:
        raise ConfigurationError(str(exc)) from None


def _config_client(
    settings: Settings,
    context: object,
    environ: Mapping[str, str],
    deadline: Deadline,
    endpoint: str | None,
) -> _Config | None:
    from resource_repair.config_api import ConfigClient, site_for_region
    from resource_repair.credentials import resolve_credentials

    credentials = resolve_credentials(context, environ)
    if credentials is None:
        return None
    site = settings.config_site or site_for_region(function_region(context, environ))
    return _Config(ConfigClient(credentials, site, endpoint=endpoint, deadline=deadline), site)


def _act(
    entry: NonComplianceEvent,
    config: _Config | None,
    settings: Settings,
    context: object,
    environ: Mapping[str, str],
    account_id: str | None,
    deadline: Deadline,
) -> EntryResult:
    """Ask Config, then remediate what it answers; every failure is this entry's result."""
    from resource_repair.config_api import ConfigApiError, ConfigOutOfTimeError
    from resource_repair.remediation import remediate_event

    if config is None:
        return EntryResult(
            _about(entry, Outcome.FAILED, "no credentials: the function has no role")
        )
    try:
        confirmed = _confirmed(entry, config, settings, account_id)
        if isinstance(confirmed, Report):
            return EntryResult(confirmed)
        report = remediate_event(
            confirmed,
            settings,
            context=context,
            environ=environ,
            account_id=account_id,
            function_region=function_region(context, environ),
            deadline=deadline,
        )
        return EntryResult(report)
    except InvalidEventError as exc:
        return EntryResult(_about(entry, Outcome.INVALID_EVENT, str(exc)))
    except TransientError as exc:
        reason = f"{exc}; not retried here, the sweep tries again"
        return EntryResult(_about(entry, Outcome.FAILED, reason), will_retry=True)
    except ConfigOutOfTimeError as exc:
        reason = f"{exc}; no OSS request made, the sweep tries again"
        return EntryResult(_about(entry, Outcome.FAILED, reason), will_retry=True)
    except ConfigApiError as exc:
        return EntryResult(_about(entry, Outcome.FAILED, f"{exc}; no OSS request made"))
    except Exception as exc:  # a defect of ours: this entry's, not the others'
        logger.error(
            "unexpected error on bucket %s: %s", untrusted(entry.bucket), untrusted_traceback()
        )
        return EntryResult(_about(entry, Outcome.FAILED, f"internal error: {type(exc).__name__}"))


def _confirmed(
    entry: NonComplianceEvent, config: _Config, settings: Settings, account_id: str | None
) -> NonComplianceEvent | Report:
    """Config's own NON_COMPLIANT result for this bucket under a selected rule, or the
    report of why there is none (then no OSS request is made)."""
    from resource_repair.rule_lookup import with_rule_identifier

    owner = entry.owner_account_id or account_id
    results: list[NonComplianceEvent] = config.client.resource_non_compliance(
        entry.bucket,
        entry.region_id,
        aggregator_id=settings.config_aggregator_id,
        account_id=owner,
    )
    for result in results:
        if (result.bucket, result.region_id) != (entry.bucket, entry.region_id):
            continue  # not the resource asked about: Config's answer is read strictly
        if owner and result.owner_account_id and result.owner_account_id != owner:
            continue
        if not settings.config_aggregator_id:
            # The rule's managed rule, as a message would carry it: its fix is chosen by it.
            # An account group's rule is not among the account's own rules: the entry's
            # `=identifier` in prepareRuleName picks the fix, as in the sweep.
            result = with_rule_identifier(config.client, config.site, result)
        if any(ref in settings.rule_references for ref in result.rule_references):
            return dataclasses.replace(
                result, owner_account_id=result.owner_account_id or entry.owner_account_id
            )
    reason = (
        f"Config reports the bucket NON_COMPLIANT under no rule in {RULE_REFERENCES}"
        if not results
        else f"Config's NON_COMPLIANT results for it are under no rule in {RULE_REFERENCES}"
    )
    return _about(entry, Outcome.IGNORED, f"{reason}; no OSS request made")
