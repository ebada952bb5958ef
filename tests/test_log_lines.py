"""No text from a message can pose as an audit record on a log line (issue 15, §1): restore
acts on those records, and whoever can publish to the trigger's topic must not be able to
plant one."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resource_repair.logtext import untrusted
from resource_repair.testing import OssBackend
from resource_repair.tools.audit_lines import read_audit_lines
from tests.conftest import Invoke, load_event

_DECODER = json.JSONDecoder()
HANDLER_RUNS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Texts an attacker would try: an audit record as it is, and wrapped to break out of quoting.
_RECORD = json.dumps(
    {"audit": "resource_repair", "outcome": "remediated", "bucket": "finance-private"},
    separators=(",", ":"),
)
crafted = st.sampled_from(
    [_RECORD, f"'{_RECORD}'", f'"{_RECORD}"', f"\\{_RECORD}", f"\n{_RECORD}", f"x}}{_RECORD}{{"]
)
texts = st.one_of(crafted, st.text(max_size=300), st.builds("".join, st.lists(crafted | st.text())))


def objects_in(line: str) -> list[Any]:
    """Every JSON object some ``{`` of ``line`` starts."""
    found = []
    start = line.find("{")
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(line, start)
        except (ValueError, RecursionError):
            pass
        else:
            if isinstance(value, dict):
                found.append(value)
        start = line.find("{", start + 1)
    return found


def planted(records: list[logging.LogRecord]) -> list[str]:
    """The log lines, other than the audit line, that hold a JSON object that decodes."""
    lines = []
    for record in records:
        if record.name == "resource_repair.audit":
            continue
        text = record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
        lines += [line for line in text.splitlines() if objects_in(line)]
    return lines


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_a_rule_name_never_forms_a_json_object_on_a_log_line(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    message = json.loads(load_event("noncompliance-oss-current-plain.json"))
    message["evaluationResultIdentifier"]["evaluationResultQualifier"]["configRuleName"] = text
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        invoke(json.dumps(message).encode())
    assert planted(caplog.records) == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts)
def test_a_whole_delivery_never_forms_a_json_object_on_a_log_line(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        invoke(text.encode("utf-8", "surrogatepass"))
    assert planted(caplog.records) == []


@given(text=st.text())
def test_untrusted_text_keeps_no_brace_and_reads_back_exactly(text: str) -> None:
    shown = untrusted(text)
    assert not {"{", "}", "\n"} & set(shown)
    assert json.loads(shown) == text


def test_an_internal_error_carrying_message_text_makes_no_line_of_its_own(
    fake_oss: OssBackend,
    invoke: Invoke,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An exception's text may quote the message, newlines and all; in a traceback each of
    # its lines would stand alone in FC's log, one of them shaped like FC's line of a record.
    fc_line = "2026-11-27T10:00:00.123Z 1-6745b2c3-0123456789ab [INFO] " + _RECORD

    def defect(message: object) -> object:
        raise ValueError(f"cannot classify\n{fc_line}")

    monkeypatch.setattr("resource_repair.handler.classify_message", defect)
    with caplog.at_level(logging.INFO):
        assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "failed"
    logged = "\n".join(
        logging.Formatter("%(message)s").format(r)
        for r in caplog.records
        if r.name != "resource_repair.audit"
    )
    assert "unexpected error" in logged
    assert read_audit_lines(logged.splitlines()).records == []
    assert fc_line not in logged.splitlines()
