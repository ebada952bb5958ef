"""What ``index.handler`` does with one delivery: decode, classify, match, check, remediate.

Every step that can refuse a message does so before any request is made, and every
refusal is a Report with a reason. Only transient OSS (or, in hub mode, STS) trouble
escapes as an exception, on purpose: FC's asynchronous invocation then delivers the message
again. Either way the handler ends, its audit line written, before FC's timeout: every OSS
attempt keeps to the Deadline (see oss_client.BucketClient).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

from resource_repair.audit import log_received, write_audit
from resource_repair.config_remediation import handle_config_call, is_config_call
from resource_repair.delivery import decode_delivery
from resource_repair.errors import ConfigurationError, InvalidEventError, TransientOssError
from resource_repair.invocation import context_text, function_region, function_timeout
from resource_repair.logtext import untrusted, untrusted_traceback
from resource_repair.message import IgnoredMessage, NonComplianceEvent, classify_message
from resource_repair.notify import Notified, notify_outcome
from resource_repair.redaction import protect_logs, redacted
from resource_repair.remediation import remediate_event
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.settings import RULE_REFERENCES, Settings

logger = logging.getLogger(__name__)

# Seconds kept back from FC's timeout for writing the audit line and returning.
_RETURN_MARGIN = 2.0
# The notification comes after the audit line and may use most of that margin: a delivery
# that failed by running out of time is the one most worth telling someone about.
_NOTIFY_MARGIN = 0.5
_DEFAULT_TIMEOUT = 60.0


def handle(event: object, context: object, environ: Mapping[str, str] | None = None) -> str:
    """Handle one delivery and return the report as JSON text."""
    protect_logs()
    env = os.environ if environ is None else environ
    fc_request_id = context_text(context, "request_id")
    timeout = function_timeout(context, _DEFAULT_TIMEOUT)
    deadline = Deadline(timeout - _RETURN_MARGIN)
    notify_deadline = Deadline(timeout - _NOTIFY_MARGIN)
    log_received(event)
    if is_config_call(event):  # Config's own call (custom remediation): never raises
        return handle_config_call(
            event,
            context,
            env,
            fc_request_id=fc_request_id,
            deadline=deadline,
            notify_deadline=notify_deadline,
        )
    form = None
    # The bucket the delivery is about, once it is known: a delivery handed back to FC
    # names it in the audit line, so that the trail shows which bucket is still public.
    target = Report(Outcome.FAILED, "")
    try:
        settings = Settings.from_env(env)
        delivery = decode_delivery(event)
        form = delivery.form
        selected = _select(delivery.message, settings)
        if isinstance(selected, Report):
            report = selected
        else:
            target = target.replace(
                bucket=selected.bucket, region=selected.region_id, rule=selected.rule_label
            )
            report = remediate_event(
                selected,
                settings,
                context=context,
                environ=env,
                account_id=context_text(context, "account_id"),
                function_region=function_region(context, env),
                deadline=deadline,
            )
    except ConfigurationError as exc:
        report = Report(Outcome.FAILED, f"configuration: {exc}")
    except InvalidEventError as exc:
        report = Report(Outcome.INVALID_EVENT, str(exc))
    except TransientOssError as exc:
        # Retries spent, or no time left for the next one.
        report = target.replace(reason=f"{exc}; handing back to FC to retry")
        _log(report)
        write_audit(report, fc_request_id, form=form, will_retry=True)
        raise
    except Exception as exc:  # a defect of ours: report it rather than have FC replay it
        logger.error("unexpected error: %s", untrusted_traceback())
        report = Report(Outcome.FAILED, f"internal error: {type(exc).__name__}")
    _log(report)
    # A handed-back delivery (the raise above) is not published: FC retries it, and once
    # FC gives up its failure destination tells the same topic. Anything else is published
    # before the audit line is written, so that the line says whether it was (a line costs
    # microseconds; the notification keeps to its deadline, short of FC's timeout).
    notified = notify_outcome(report, context, env, fc_request_id, notify_deadline, form=form)
    write_audit(report, fc_request_id, form=form, notification=notified.value)
    return _result(report, notified)


def _select(message: dict[str, object], settings: Settings) -> NonComplianceEvent | Report:
    """The event to remediate, or the report of why this message is left alone."""
    classified = classify_message(message)
    if isinstance(classified, IgnoredMessage):
        return Report(Outcome.IGNORED, classified.reason)
    event = classified
    rule = event.rule_label
    if not settings.rule_references:
        logger.warning(
            "%s is not set, so no rule is selected and nothing is remediated", RULE_REFERENCES
        )
        return Report(Outcome.IGNORED, f"{RULE_REFERENCES} is not set", rule=rule)
    if not _rule_selected(event, settings):
        return Report(Outcome.IGNORED, f"rule {rule!r} is not in {RULE_REFERENCES}", rule=rule)
    return event


def _rule_selected(event: NonComplianceEvent, settings: Settings) -> bool:
    return any(ref in settings.rule_references for ref in event.rule_references)


def _result(report: Report, notified: Notified) -> str:
    """The report, and whether the message it called for reached SMQ."""
    result = {**report.as_dict(), "notification": notified.value}
    return json.dumps(redacted(result), ensure_ascii=True)


def _log(report: Report) -> None:
    level = logging.WARNING if report.status == "fail" else logging.INFO
    # The reason carries message text (a rule name, a bucket): escaped, see logtext.
    logger.log(level, "%s: %s", report.outcome.value, untrusted(report.reason))
