"""What a notification says: the message for one outcome and the summary of a sweep, each
bounded to what one SMQ message holds whatever a report contains. Which message is due,
and to which topic, is notify.py's; how it travels, smq.py's."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterator, Mapping

from resource_repair.audit import audit_record
from resource_repair.redaction import redacted
from resource_repair.report import Outcome, Report
from resource_repair.validation import is_account_id

# Size: MNS takes 64 KB; these bounds keep a message near 4 KB whatever a report holds.
_MAX_REASON_CHARS = 1024
_MAX_FIELD_CHARS = 256
_MAX_REQUEST_IDS = 8
_MAX_LISTED_BUCKETS = 25
_MAX_LISTED_RULES = 10
_MAX_BODY_BYTES = 16384
_CUT_CHARS = 64
"""What a text keeps in a sweep summary that had to be shortened to fit."""
_MAX_TAG_CHARS = 16  # MNS's limit; subscriptions can filter on the tag
_MAX_SUBJECT_CHARS = 100


@dataclasses.dataclass(frozen=True)
class Notification:
    """One MNS message: where it goes and what it says."""

    topic: str
    kind: str
    """``failure``, ``remediation`` or ``sweep``: in the body, for whoever reads it."""
    tag: str
    """MNS message tag, at most 16 characters: a subscription's FilterTag can select on it."""
    subject: str
    """The e-mail subject, when a DirectMail sender is configured."""
    body: str


def origin(account_id: str | None, region: str | None) -> dict[str, object]:
    """Where and when a message comes from: the same head on every message."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "source": "resource_repair",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "account_id": account_id if is_account_id(account_id) else None,
        "function_region": short(region, 40),
    }


def outcome_notification(
    report: Report,
    topic: str,
    kind: str,
    head: Mapping[str, object],
    fc_request_id: str | None,
    form: str | None,
) -> Notification:
    """One outcome's message (``kind``: ``failure`` or ``remediation``): its audit record."""
    record = audit_record(report, fc_request_id, form=form)
    record.pop("audit", None)
    document = {
        "notification": kind,
        **head,
        **_bounded_record(record),
    }
    bucket = short(report.bucket or "no bucket", 63)
    where = f" in {short(report.region, 40)}" if report.region else ""
    subject = f"resource_repair {report.outcome.value}: {bucket}{where}"
    return Notification(
        topic, kind, report.outcome.value[:_MAX_TAG_CHARS], _subject(subject), _body(document)
    )


def sweep_notification(
    summary: Mapping[str, object],
    reports: list[Report],
    topic: str,
    kind: str,
    head: Mapping[str, object],
    fc_request_id: str | None,
) -> Notification:
    """A sweep's summary (``kind``: ``sweep`` for its failures, ``remediation`` for the
    buckets it made private), listing ``reports``."""
    document: dict[str, object] = {
        "notification": kind,
        **head,
        "delivery_form": "sweep",
        "fc_request_id": short(fc_request_id, _MAX_FIELD_CHARS),
        "status": short(_text(summary.get("status")), 16),
        "complete": summary.get("complete") is True,
        "outcomes": _counts(summary.get("outcomes")),
        "reason": short(_text(summary["reason"]), _MAX_REASON_CHARS)
        if "reason" in summary
        else None,
    }
    buckets = [
        {
            "bucket": short(r.bucket, 63),
            "region": short(r.region, 40),
            "outcome": r.outcome.value,
            "reason": short(r.reason, _MAX_FIELD_CHARS),
        }
        for r in reports[:_MAX_LISTED_BUCKETS]
    ]
    body = _sweep_body(document, _rules(summary.get("rules")), buckets, len(reports))
    if kind == "sweep":
        failing = _failing(_counts(summary.get("outcomes")))
        subject = f"resource_repair sweep: {max(failing, len(reports))} bucket(s) failed"
        tag = "sweep_failed"
    else:
        subject = f"resource_repair sweep: {len(reports)} bucket(s) made private"
        tag = "remediated"
    return Notification(topic, kind, tag, _subject(subject), body)


def summary_failed(summary: Mapping[str, object]) -> bool:
    """The sweep's summary says something failed (its status, or a failing outcome)."""
    return summary.get("status") == "fail" or _failing(_counts(summary.get("outcomes"))) > 0


# -- bounding what goes into a message ------------------------------------------------------


def _bounded_record(record: Mapping[str, object]) -> dict[str, object]:
    bounded: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, str):
            limit = _MAX_REASON_CHARS if key == "reason" else _MAX_FIELD_CHARS
            bounded[key] = short(value, limit)
        elif isinstance(value, list):
            bounded[key] = [short(_text(v), 64) for v in value[:_MAX_REQUEST_IDS]]
        else:
            bounded[key] = value
    return bounded


def short(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    known = {o.value for o in Outcome}
    return {
        str(k): int(v)
        for k, v in value.items()
        if k in known and isinstance(v, int) and not isinstance(v, bool)
    }


def _rules(value: object) -> list[object]:
    """The sweep's per-rule entries (``{"reference", "rule_id", "buckets", "complete",
    "error"}``), scalars only and bounded; a plain name passes as a string."""
    if not isinstance(value, (list, tuple)):
        return []
    rules: list[object] = []
    for entry in value[:_MAX_LISTED_RULES]:
        if isinstance(entry, Mapping):
            rules.append(
                {
                    str(k)[:32]: short(v, _MAX_FIELD_CHARS) if isinstance(v, str) else v
                    for k, v in list(entry.items())[:8]
                    if v is None or isinstance(v, (str, int, float, bool))
                }
            )
        else:
            rules.append(short(_text(entry), _MAX_FIELD_CHARS))
    return rules


def _failing(counts: Mapping[str, int]) -> int:
    """Buckets whose outcome has status ``fail`` (failed, invalid_event, bucket_replaced)."""
    return sum(n for outcome, n in counts.items() if Outcome(outcome).status == "fail")


def _subject(text: str) -> str:
    # Printable ASCII only: a bucket or rule name must not inject a header line.
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    return printable[:_MAX_SUBJECT_CHARS]


def _json(document: Mapping[str, object]) -> str:
    # Every message body is made here: masked as the log lines are (a reason may quote a
    # server's answer, and a server may echo the token it was sent).
    return json.dumps(redacted(document), ensure_ascii=True, separators=(",", ":"))


def _body(document: Mapping[str, object]) -> str:
    body = _json(document)
    if len(body) <= _MAX_BODY_BYTES:
        return body
    # Unreachable with the bounds above; kept so that no input can make a message too big,
    # and even then the message still names the bucket.
    kept = ("notification", "source", "time", "status", "outcome", "bucket", "region")
    fallback = {k: short(_text(document.get(k)), 64) for k in kept}
    fallback["reason"] = "message too large to send; see the audit log"
    return _json(fallback)


def _sweep_body(
    head: Mapping[str, object],
    rules: list[object],
    buckets: list[dict[str, str | None]],
    total: int,
) -> str:
    """The sweep's summary, shortened until it fits SMQ's message: first the texts (reasons,
    rule names and errors cut), then the list of buckets halved; the counts always stay, and
    so does the first bucket's name, since a summary that names none sends people hunting."""
    for document in _shortened_sweeps(head, rules, buckets, total):
        body = _json(document)
        if len(body) <= _MAX_BODY_BYTES:
            break
    return body


def _shortened_sweeps(
    head: Mapping[str, object],
    rules: list[object],
    buckets: list[dict[str, str | None]],
    total: int,
) -> Iterator[dict[str, object]]:
    def document(
        head: Mapping[str, object], rules: list[object], shown: list[dict[str, str | None]]
    ) -> dict[str, object]:
        return {**head, "rules": rules, "buckets": shown, "buckets_not_listed": total - len(shown)}

    yield document(head, rules, buckets)
    head = {
        **head,
        "reason": short(_text(head["reason"]), _CUT_CHARS) if head.get("reason") else None,
    }
    rules = [_cut_rule(entry) for entry in rules]
    buckets = [{**b, "reason": short(b["reason"], _CUT_CHARS)} for b in buckets]
    shown = len(buckets)
    while True:
        yield document(head, rules, buckets[:shown])
        if shown <= 1:
            break
        shown //= 2
    # The last resort, a few hundred bytes whatever the rules say: counts and one bucket.
    yield {**document(head, [], buckets[:1]), "rules_not_listed": len(rules)}


def _cut_rule(entry: object) -> object:
    if isinstance(entry, Mapping):
        return {k: short(v, _CUT_CHARS) if isinstance(v, str) else v for k, v in entry.items()}
    return short(_text(entry), _CUT_CHARS)
