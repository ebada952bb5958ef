"""What ``index.handler`` does with one delivery: decode, classify, match, check, remediate.

Every step that can refuse a message does so before any request is made, and every
refusal is a Report with a reason. Only transient OSS trouble escapes as an exception, on
purpose: FC's asynchronous invocation then delivers the message again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from resource_repair.audit import log_received, write_audit
from resource_repair.delivery import decode_delivery
from resource_repair.errors import ConfigurationError, InvalidEventError, TransientOssError
from resource_repair.message import IgnoredMessage, NonComplianceEvent, classify_message
from resource_repair.redaction import protect_logs
from resource_repair.remediation import remediate_event
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.settings import RULE_REFERENCES, Settings

logger = logging.getLogger(__name__)

# Seconds kept back from FC's timeout for writing the audit line and returning.
_RETURN_MARGIN = 2.0
_DEFAULT_TIMEOUT = 60.0
_MAX_RULE_CHARS = 256


def handle(event: object, context: object, environ: Mapping[str, str] | None = None) -> str:
    """Handle one delivery and return the report as JSON text."""
    protect_logs()
    env = os.environ if environ is None else environ
    fc_request_id = _text_attr(context, "request_id")
    deadline = Deadline(_function_timeout(context) - _RETURN_MARGIN)
    log_received(event)
    form = None
    try:
        settings = Settings.from_env(env)
        delivery = decode_delivery(event)
        form = delivery.form
        report = _handle_message(delivery.message, context, env, settings, deadline)
    except ConfigurationError as exc:
        report = Report(Outcome.FAILED, f"configuration: {exc}")
    except InvalidEventError as exc:
        report = Report(Outcome.INVALID_EVENT, str(exc))
    except TransientOssError as exc:
        report = Report(Outcome.FAILED, f"{exc}; retries spent, handing back to FC to retry")
        _log(report)
        write_audit(report, fc_request_id, form=form, will_retry=True)
        raise
    except Exception as exc:  # a defect of ours: report it rather than have FC replay it
        logger.exception("unexpected error")
        report = Report(Outcome.FAILED, f"internal error: {type(exc).__name__}")
    _log(report)
    write_audit(report, fc_request_id, form=form)
    return report.to_json()


def _handle_message(
    message: dict[str, object],
    context: object,
    environ: Mapping[str, str],
    settings: Settings,
    deadline: Deadline,
) -> Report:
    classified = classify_message(message)
    if isinstance(classified, IgnoredMessage):
        return Report(Outcome.IGNORED, classified.reason)
    event = classified
    # A rule name is free text from the message: keep the result and the audit line bounded.
    rule = event.rule_label[:_MAX_RULE_CHARS] if event.rule_label else None
    if not settings.rule_references:
        logger.warning(
            "%s is not set, so no rule is selected and nothing is remediated", RULE_REFERENCES
        )
        return Report(Outcome.IGNORED, f"{RULE_REFERENCES} is not set", rule=rule)
    if not _rule_selected(event, settings):
        return Report(Outcome.IGNORED, f"rule {rule!r} is not in {RULE_REFERENCES}", rule=rule)

    return remediate_event(
        event,
        settings,
        context=context,
        environ=environ,
        account_id=_text_attr(context, "account_id"),
        function_region=_function_region(context, environ),
        deadline=deadline,
    )


def _rule_selected(event: NonComplianceEvent, settings: Settings) -> bool:
    return any(ref in settings.rule_references for ref in event.rule_references)


def _log(report: Report) -> None:
    level = logging.WARNING if report.status == "fail" else logging.INFO
    logger.log(level, "%s: %s", report.outcome.value, report.reason)


def _text_attr(obj: object, name: str) -> str | None:
    value = getattr(obj, name, None)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and value else None


def _function_region(context: object, environ: Mapping[str, str]) -> str | None:
    return _text_attr(context, "region") or environ.get("FC_REGION") or None


def _function_timeout(context: object) -> float:
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    return _DEFAULT_TIMEOUT
