"""The audit records in a file given to ``restore``, in the forms it documents, and nothing
else.

Restore writes to buckets on the strength of these records, so a line counts only when it
is one of these forms and its record runs from right after the form's prefix to the end of
the line (audit.parse_record checks it against the record's schema):

- ``fc``: a line of the function's log as FC writes it, ``<time> <request id> [INFO] <record>``
  (tests/restore_logs/fc-log.txt);
- ``invoke``: the audit line ``resource-repair invoke`` prints on stderr,
  ``INFO resource_repair.audit: <record>`` (tests/restore_logs/invoke.txt);
- ``sls``: one Log Service entry as a JSON object per line, its ``message`` field holding
  the FC log line above (tests/restore_logs/sls-export.jsonl), and its ``functionName``
  one of the function names restore was given (the template's event and sweep functions):
  every function of a service may log to the same logstore, and any of them could log a
  line that reads as an audit record;
- ``backfill``: the record alone on the line, as ``backfill --report`` writes it
  (tests/restore_logs/backfill-report.jsonl). Only in a file without a line of the other
  forms: in a log, a line that is a bare object is a continuation of something else.

Every other line is passed over and counted. Text from a message cannot reach the start of
a log line, and is escaped wherever it is logged (logtext), so none of this can be forged by
whoever publishes to the trigger's topic.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from typing import Any

from resource_repair.audit import parse_record

_FC_LINE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z?"  # UTC time
    r" [0-9A-Za-z-]{1,64}"  # FC's request id
    # FC's Python runtime separates the message by whitespace (its docs show three spaces).
    r" \[INFO\][ \t]+(?P<record>.*)"
)
_INVOKE_LINE = re.compile(r"INFO resource_repair\.audit: (?P<record>.*)")
SLS_FIELD = "message"
"""The Log Service field that holds FC's log line (FC's log fields: message, functionName,
serviceName, qualifier, versionId, __topic__)."""
SLS_FUNCTION_FIELD = "functionName"
"""The Log Service field that names the function that logged the line."""


@dataclasses.dataclass
class AuditLines:
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    passed_over: int = 0
    """Non-blank lines that are no audit record in a documented form."""
    other_functions: int = 0
    """Of those, Log Service entries logged by a function restore was not given."""


def read_audit_lines(
    lines: Iterable[str | None], functions: frozenset[str] = frozenset()
) -> AuditLines:
    """``functions``: the names of the functions whose Log Service entries count (none
    count without them). A line None stands for one too long to be read (file_bounds): no
    audit record is that long, so it is passed over."""
    found = AuditLines()
    bare: list[dict[str, Any]] = []
    in_log = False
    for line in lines:
        if line is None:
            found.passed_over += 1
            continue
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        form, text = _form(line, functions)
        if form == "sls-other-function":
            in_log = True
            found.other_functions += 1
            found.passed_over += 1
            continue
        if form == "backfill":
            record = parse_record(text)
            if record is None:
                found.passed_over += 1
            else:
                bare.append(record)
            continue
        if form is not None:
            in_log = True
            record = parse_record(text)
            if record is not None:
                found.records.append(record)
                continue
        found.passed_over += 1
    if in_log:
        found.passed_over += len(bare)
    else:
        found.records.extend(bare)
    return found


def _form(line: str, functions: frozenset[str]) -> tuple[str | None, str]:
    """(form, the record's text) of ``line``; form None: no documented form."""
    for form, pattern in (("fc", _FC_LINE), ("invoke", _INVOKE_LINE)):
        match = pattern.fullmatch(line)
        if match:
            return form, match["record"]
    if line.startswith("{"):
        entry, function = _sls_entry(line)
        if entry is not None and not (isinstance(function, str) and function in functions):
            return "sls-other-function", ""
        if entry is not None:
            match = _FC_LINE.fullmatch(entry)
            return ("sls", match["record"]) if match else ("sls", "")
        return "backfill", line
    return None, ""


def _sls_entry(line: str) -> tuple[str | None, object]:
    """(the FC log line a Log Service entry holds, the function that logged it); the line
    None when ``line`` is no such entry."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(entry, dict) or "audit" in entry:
        return None, None
    message = entry.get(SLS_FIELD)
    if not isinstance(message, str):
        return None, None
    message = message.removesuffix("\n")
    if "\n" in message or "\r" in message:
        return None, None
    return message, entry.get(SLS_FUNCTION_FIELD)
