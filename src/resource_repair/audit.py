"""The audit trail: one JSON line per invocation, and a bounded view of what arrived."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from resource_repair.logtext import untrusted
from resource_repair.report import Outcome, Report

audit_logger = logging.getLogger("resource_repair.audit")
logger = logging.getLogger("resource_repair.handler")

AUDIT = "resource_repair"
"""The ``audit`` field of every per-bucket audit record."""

# A delivery can be up to 64 KiB of someone else's text: log enough to recognise it.
EVENT_PREVIEW_CHARS = 256


def log_received(event: object) -> None:
    if isinstance(event, (bytes, bytearray, str)):
        cut = " (truncated)" if len(event) > EVENT_PREVIEW_CHARS else ""
        preview = event[:EVENT_PREVIEW_CHARS]
        text = preview if isinstance(preview, str) else bytes(preview).decode("utf-8", "replace")
        # Whoever can publish to the topic must not be able to plant a line that reads as an
        # audit record (restore acts on those): see logtext.
        logger.info("delivery received, length %d%s: %s", len(event), cut, untrusted(text))
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
        "audit": AUDIT,
        # UTC, so that restore can tell which of several fixes of one bucket came last.
        "time": utc_now(),
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


def utc_now() -> str:
    """Now, as ``2026-12-04T17:31:09.123Z``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


_TEXT = (str,)
_TEXT_OR_NONE = (str, type(None))
_FLAG = (bool,)
_FLAG_OR_NONE = (bool, type(None))

# The audit record's schema, which restore checks every line against: the keys
# audit_record always writes, with their types ...
RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "audit": _TEXT,
    "fc_request_id": _TEXT_OR_NONE,
    "status": _TEXT,
    "outcome": _TEXT,
    "reason": _TEXT,
    "bucket": _TEXT_OR_NONE,
    "region": _TEXT_OR_NONE,
    "rule": _TEXT_OR_NONE,
    "acl_before": _TEXT_OR_NONE,
    "acl_after": _TEXT_OR_NONE,
    "request_ids": (list,),
    "remedy": _TEXT_OR_NONE,
    "delivery_form": _TEXT_OR_NONE,
    "will_retry": _FLAG,
}
# ... and those written only when there is something to say (Report._extras), plus
# ``time`` (records written before it was added have none). Other keys are let through:
# a newer field (the notification's, say) does not make a record unreadable.
OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "time": _TEXT,
    "policy_before": _TEXT,
    "policy_after": _TEXT,
    "policy_deleted": _FLAG,
    "public_access_block_before": _FLAG_OR_NONE,
    "public_access_block_after": _FLAG_OR_NONE,
    "bucket_created": _TEXT,
    "owner_account": _TEXT,
    "assumed_role": _TEXT,
    "session_key_id": _TEXT,
}
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


class _DuplicateKeyError(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; a record that says two things is none.
    record = dict(pairs)
    if len(record) != len(pairs):
        raise _DuplicateKeyError
    return record


def parse_record(text: str) -> dict[str, Any] | None:
    """The audit record ``text`` is, all of it, or None: a JSON object with every field of
    the schema, each of its type, ``"audit": "resource_repair"`` and a known outcome."""
    try:
        record = json.loads(text, object_pairs_hook=_refuse_duplicates)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or record.get("audit") != AUDIT:
        return None
    for key, types in RECORD_FIELDS.items():
        if key not in record or not isinstance(record[key], types):
            return None
    for key, types in OPTIONAL_FIELDS.items():
        if key in record and not isinstance(record[key], types):
            return None
    if record["outcome"] not in _OUTCOMES:
        return None
    if not all(isinstance(request_id, str) for request_id in record["request_ids"]):
        return None
    return record
