"""``resource-repair setup --config-remediation``: the deployed event function registered as
each rule's Config remediation, against the fakes of Config, FC, SMQ, STS and RAM."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from resource_repair.testing.config.remediation_actions import add_remediation
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from tests.test_setup import ACCOUNT, RULE, Cloud, cloud, offline, setup, writes

__all__ = ["cloud", "offline"]  # the fixtures, shared with test_setup

ARN = (
    f"acs:fc:ap-southeast-1:{ACCOUNT}:services/resource_repair.LATEST"
    "/functions/oss_repair_acl_trigger"
)
GROUP = "configAggregatorId=ca-0123456789abcdef"


@pytest.fixture
def fc(cloud: Cloud) -> Iterator[FcApiBackend]:
    with mock_fc_api() as backend:
        yield backend


@pytest.fixture
def deployed(fc: FcApiBackend) -> FcApiBackend:
    """template.yml's event function, deployed."""
    fc.deploy("resource_repair", "oss_repair_acl_trigger", lambda _: FunctionAnswer(b"{}"))
    return fc


def record(cloud: Cloud) -> dict[str, object]:
    path = cloud.template.parent / ".resource-repair-setup.json"
    if not path.exists():
        return {}
    document: dict[str, object] = json.loads(path.read_text())
    return document


def test_manual_registers_the_function_on_the_rule_it_creates_and_once(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = setup(cloud, capsys, "--config-remediation", "manual")
    assert code == 0, lines
    assert "CreateRemediation" not in cloud.config.operations()  # the plan only reads
    assert any(line.startswith("create remedy") and ARN in line for line in lines), lines

    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual")
    assert code == 0, lines
    [rule] = cloud.config.rules.values()
    [remediation] = cloud.config.remediations
    assert (remediation.rule_id, remediation.template_id) == (rule.rule_id, ARN)
    assert (remediation.remediation_type, remediation.source_type) == ("FC", "CUSTOM")
    assert remediation.invoke_type == "MANUAL_EXECUTION"
    assert [rule.rule_id, remediation.remediation_id] in record(cloud)[f"{ACCOUNT}/ap-southeast-1"][
        "remediations"
    ]  # type: ignore[index]

    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual")
    assert code == 0, lines
    assert lines[-1] == "nothing to change: everything is in place"
    assert len(cloud.config.remediations) == 1
    assert any(line.startswith("found  remedy") and "(setup's)" in line for line in lines)


def test_auto_is_refused_while_the_functions_run_in_dry_run(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = setup(cloud, capsys, "--apply", "--config-remediation", "auto")
    assert code == 2
    assert "dryRun" in err
    assert "manual" in err
    assert cloud.config.calls == []
    assert cloud.config.remediations == []


def test_auto_says_how_many_buckets_it_would_change_at_once(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = cloud.config.add_rule(RULE)
    cloud.config.add_results(rule, ["site-a", "site-b", "downloads"])
    argv = ("--config-remediation", "auto", "--env", "dryRun=false")
    code, lines, _ = setup(cloud, capsys, *argv)
    assert code == 0, lines
    [note] = [line for line in lines if line.startswith("note   remedy")]
    assert "3 buckets would be made private at once" in note
    assert writes(cloud) == []
    assert setup(cloud, capsys, "--apply", *argv)[0] == 0
    [remediation] = cloud.config.remediations
    assert (remediation.rule_id, remediation.invoke_type) == (rule.rule_id, "AUTO_EXECUTION")


def test_a_function_not_deployed_is_said_with_the_command_to_run(
    cloud: Cloud, fc: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual")
    assert code == 1
    [fail] = [line for line in lines if line.startswith("FAIL")]
    assert "is not deployed" in fail
    assert f"s deploy -t {cloud.template}" in fail
    assert "--config-remediation manual" in fail
    assert writes(cloud) == []  # nothing at all was made
    assert cloud.mns.topics == {}


def test_someone_elses_remediation_is_reported_never_replaced_nor_removed(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = cloud.config.add_rule(RULE)
    theirs = add_remediation(cloud.config, rule, "ACS-OSS-PutBucketAcl")
    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual")
    assert code == 0, lines
    [warning] = [line for line in lines if line.startswith("warn   remedy")]
    assert theirs.remediation_id in warning
    assert "never replaces" in warning
    assert cloud.config.remediations == [theirs]
    assert "CreateRemediation" not in cloud.config.operations()

    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert code == 0, lines
    assert cloud.config.remediations == [theirs]
    assert "DeleteRemediations" not in cloud.config.operations()


def test_teardown_removes_only_the_remediations_setup_registered(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    other = cloud.config.add_rule("someone-elses-rule")
    theirs = add_remediation(cloud.config, other, ARN)  # even one calling our function
    assert setup(cloud, capsys, "--apply", "--config-remediation", "manual")[0] == 0
    ours = [r for r in cloud.config.remediations if r is not theirs]
    assert len(ours) == 1

    code, lines, _ = setup(cloud, capsys, "--teardown")
    assert code == 0
    [line] = [line for line in lines if line.startswith("remove remedy")]
    assert ours[0].remediation_id in line
    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert code == 0, lines
    assert cloud.config.remediations == [theirs]
    ops = cloud.config.operations()
    assert ops.index("DeleteRemediations") < ops.index("DeleteConfigRules")
    assert record(cloud) == {}


def test_an_account_group_gets_the_groups_remediation(
    cloud: Cloud, deployed: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("--env", GROUP)
    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual", *argv)
    assert code == 0, lines
    assert "CreateAggregateRemediation" in cloud.config.operations()
    [remediation] = cloud.config.remediations
    assert remediation.aggregator_id == "ca-0123456789abcdef"
    assert setup(cloud, capsys, "--teardown", "--apply", *argv)[0] == 0
    assert "DeleteAggregateRemediations" in cloud.config.operations()
    assert cloud.config.remediations == []


def test_an_fc3_template_is_not_registered_under_an_unconfirmed_arn(
    cloud: Cloud, fc: FcApiBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_setup import ROOT

    fc3 = cloud.template.parent / "template.fc3.yml"
    fc3.write_text((ROOT / "template.fc3.yml").read_text(encoding="utf-8"))
    cloud.template = fc3
    code, lines, _ = setup(cloud, capsys, "--apply", "--config-remediation", "manual")
    assert code == 1
    [fail] = [line for line in lines if line.startswith("FAIL")]
    assert "not confirmed" in fail
    assert cloud.config.remediations == []
    assert writes(cloud) == []


def test_teardown_takes_no_config_remediation(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = setup(cloud, capsys, "--teardown", "--config-remediation", "manual")
    assert code == 2
    assert "--teardown takes no --config-remediation" in err
