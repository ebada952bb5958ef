"""The audit trail: one JSON line per invocation, and a bounded view of what arrived."""

from __future__ import annotations

import json
import logging

from resource_repair.report import Report

audit_logger = logging.getLogger("resource_repair.audit")
logger = logging.getLogger("resource_repair.handler")

# A delivery can be up to 64 KiB of someone else's text: log enough to recognise it.
EVENT_PREVIEW_CHARS = 256


def log_received(event: object) -> None:
    if isinstance(event, (bytes, bytearray, str)):
        cut = " (truncated)" if len(event) > EVENT_PREVIEW_CHARS else ""
        preview = event[:EVENT_PREVIEW_CHARS]
        text = preview if isinstance(preview, str) else bytes(preview).decode("utf-8", "replace")
        # As a JSON string, quotes escaped: whoever can publish to the topic must not be able
        # to plant a line that reads as an audit record (restore acts on those).
        logger.info("delivery received, length %d%s: %s", len(event), cut, json.dumps(text))
    else:
        logger.info("delivery received: a %s", type(event).__name__)


def audit_record(
    report: Report,
    fc_request_id: str | None,
    *,
    form: str | None,
    will_retry: bool = False,
    notification: str | None = None,
) -> dict[str, object]:
    """The audit fields: the function logs them, the backfill writes them to its report."""
    return {
        "audit": "resource_repair",
        "fc_request_id": fc_request_id,
        **report.as_dict(),
        "delivery_form": form,
        "will_retry": will_retry,
        **_notification_field(notification),
    }


def _notification_field(notification: str | None) -> dict[str, object]:
    """``delivered``, ``undelivered`` or ``none`` (notify.Notified), on the event function's
    lines: a Log Service alert on ``notification: undelivered`` tells whoever SMQ did not."""
    return {} if notification is None else {"notification": notification}


def write_audit(
    report: Report,
    fc_request_id: str | None,
    *,
    form: str | None,
    will_retry: bool = False,
    notification: str | None = None,
) -> None:
    record = audit_record(
        report, fc_request_id, form=form, will_retry=will_retry, notification=notification
    )
    audit_logger.info(json.dumps(record, ensure_ascii=True))
