"""Input without end, through the handler as FC calls it and through the path the sweep and
the backfill share: an 80,000-character rule name and a 5,000-digit integer each end in a
clear, bounded result and audit line, with no traceback."""

from __future__ import annotations

import json
import logging

import pytest

from resource_repair.message import NonComplianceEvent
from resource_repair.remediation import remediate_event
from resource_repair.retry import Deadline
from resource_repair.settings import Settings
from resource_repair.testing import DEFAULT_ACCOUNT_ID, OssBackend, fc_context
from tests.conftest import BUCKET, REGION, RULE_ID, Invoke, load_event

RUNTIMES = ["python3.10", "python3.12"]
BEFORE_EVALUATION = "2020-07-22T08:00:00.000Z"


def public_bucket(oss: OssBackend) -> None:
    oss.create_bucket(BUCKET, REGION, "public-read", creation_date=BEFORE_EVALUATION)


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "resource_repair.audit"]


# -- an endless rule name ----------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_80000_character_rule_name_matched_by_id_gives_a_bounded_result_and_audit_line(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    runtime: str,
) -> None:
    monkeypatch.setenv("prepareRuleName", RULE_ID)
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier["configRuleName"] = "\u89c4" * 80_000  # each one six bytes once escaped
    public_bucket(fake_oss)
    with caplog.at_level(logging.INFO):
        result = invoke(json.dumps(message, ensure_ascii=False).encode(), runtime)
    assert result["outcome"] == "remediated"
    assert len(json.dumps(result)) < 3_000
    assert result["rule"].startswith("\u89c4")
    assert result["rule"].endswith("...")
    (audit,) = audit_lines(caplog)
    assert len(audit) < 3_000


def test_the_shared_path_bounds_the_rule_of_an_event_built_from_the_config_api(
    fake_oss: OssBackend,
) -> None:
    """The sweep and the backfill make the event themselves and call remediate_event."""
    public_bucket(fake_oss)
    event = NonComplianceEvent(
        resource_id=BUCKET,
        region_id=REGION,
        resource_type="ACS::OSS::Bucket",
        rule_name="r" * 80_000,
        rule_id=RULE_ID,
        source_identifier=None,
        owner_account_id=DEFAULT_ACCOUNT_ID,
        annotation=None,
    )
    report = remediate_event(
        event,
        Settings.from_env({"prepareRuleName": RULE_ID}),
        context=fc_context(),
        environ={},
        account_id=DEFAULT_ACCOUNT_ID,
        function_region=REGION,
        deadline=Deadline(30),
    )
    assert report.outcome.value == "remediated"
    assert len(report.to_json()) < 1_000


# -- an endless integer ----------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_5000_digit_integer_is_an_invalid_event_without_a_traceback(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture, runtime: str
) -> None:
    public_bucket(fake_oss)
    with caplog.at_level(logging.DEBUG):
        result = invoke(load_event("hostile-huge-integer-plain.json"), runtime)
    assert (result["status"], result["outcome"]) == ("fail", "invalid_event")
    assert "integer of 5000 digits" in result["reason"]
    assert not [r for r in caplog.records if r.exc_info]
    assert fake_oss.calls == []
