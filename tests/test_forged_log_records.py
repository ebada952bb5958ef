"""Text from outside posing as a record on a log line."""

from __future__ import annotations

import json

import pytest

import index
from resource_repair.audit import parse_record
from resource_repair.testing import OssBackend, fc_context
from tests.conftest import BUCKET, REGION, RULE_ID, Invoke, load_event
from tests.test_log_lines import planted

# 40 characters: what the sweep's refusal shows of each key of the event.
RECORD = '{"audit":"resource_repair","bucket":"b"}'


def test_an_event_key_shown_by_the_sweeps_refusal_plants_no_record(
    function_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    result = json.loads(index.sweep(json.dumps({RECORD: 1}).encode(), fc_context(timeout=60)))
    assert result["status"] == "fail"
    assert "not a sweep request" in result["reason"]
    assert planted(caplog.records) == []


@pytest.mark.parametrize(
    "rule_name",
    [
        'x authorization="',  # the header pattern ate the backslash of \"
        'x server string to sign is:"',  # the signing echo ate the closing quote
    ],
)
def test_a_rule_name_cannot_make_the_redactor_break_a_remediations_audit_line(
    rule_name: str,
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The rule is selected by its id; its name, free text from the message, is the label
    # the audit line carries. The log filter masks header values and signing echoes on
    # the formatted line: it must not eat the escapes that keep the line one JSON record,
    # or restore passes over the fix and Log Service cannot index it.
    monkeypatch.setenv("prepareRuleName", RULE_ID)
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    document = json.loads(load_event("noncompliance-oss-plain.json"))
    qualifier = document["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier["configRuleName"] = rule_name
    caplog.set_level("INFO")
    result = invoke(json.dumps(document).encode())
    assert (result["outcome"], fake_oss.acl_of(BUCKET)) == ("remediated", "private")
    [line] = [r.getMessage() for r in caplog.records if r.name == "resource_repair.audit"]
    record = parse_record(line)
    assert record is not None, line
    assert (record["outcome"], record["rule"][:2]) == ("remediated", "x ")
