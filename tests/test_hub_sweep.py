"""The sweep over an account group (configAggregatorId) in hub mode: the group's results,
page by page, each member's buckets through the same assumed-session path as a message."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import member_access, sweep
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_context,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import ConfigBackend, mock_config_api
from resource_repair.testing.sts import StsBackend, mock_sts
from tests.conftest import REGION, load_event

HUB = DEFAULT_ACCOUNT_ID
MEMBER_A = "1111222233334444"
MEMBER_B = "5555666677778888"
OUTSIDER = "9999000011112222"
MEMBER_ROLE = "resource-repair-member"
AGGREGATOR = "ca-a4e6626a7a8c0046"
GROUP_RULE = "cr-5a0e0066a7d3001b8b7f"


@pytest.fixture
def group(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend, StsBackend]]:
    sweep.clear_rule_cache()
    member_access.SESSIONS.clear()
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("prepareRuleName", f"{GROUP_RULE}=oss-bucket-public-read-prohibited")
    monkeypatch.setenv("memberRoleName", MEMBER_ROLE)
    monkeypatch.setenv("memberAccounts", f"{MEMBER_A},{MEMBER_B}")
    monkeypatch.setenv("configAggregatorId", AGGREGATOR)
    with mock_config_api() as config, mock_oss() as oss, mock_sts() as sts:
        sts.register(
            DEFAULT_CREDENTIALS, f"acs:ram::{HUB}:assumed-role/resource-repair-oss-acl/sweep"
        )
        for account in (MEMBER_A, MEMBER_B, OUTSIDER):
            sts.add_role(account, MEMBER_ROLE, f"acs:ram::{HUB}:role/resource-repair-oss-acl")
        sts.serve_oss(oss)
        yield config, oss, sts
    member_access.SESSIONS.clear()
    sweep.clear_rule_cache()


def run_sweep(runtime: str = "python3.10") -> dict[str, Any]:
    result = index.sweep(load_event("timer-sweep.json"), fc_context(runtime, timeout=600))
    assert isinstance(result, str)
    parsed: dict[str, Any] = json.loads(result)
    return parsed


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_the_sweep_closes_every_members_public_bucket_across_pages(
    group: tuple[ConfigBackend, OssBackend, StsBackend],
    caplog: pytest.LogCaptureFixture,
    runtime: str,
) -> None:
    config, oss, sts = group
    rule = config.add_rule("group-public-read", GROUP_RULE, aggregator_id=AGGREGATOR)
    owners = {HUB: "hub", MEMBER_A: "a", MEMBER_B: "b"}
    for owner, prefix in owners.items():
        names = [f"{prefix}-bucket-{i:03d}" for i in range(45)]  # 135 results: two pages
        for name in names:
            oss.create_bucket(name, REGION, "public-read", owner_id=owner)
        config.add_results(rule, names, REGION, owner_id=owner)
    oss.create_bucket("outsider-bucket", REGION, "public-read", owner_id=OUTSIDER)
    config.add_results(rule, ["outsider-bucket"], REGION, owner_id=OUTSIDER)

    with caplog.at_level(logging.DEBUG):
        result = run_sweep(runtime)

    assert result["outcomes"] == {"remediated": 135, "invalid_event": 1}
    assert result["complete"] is True
    assert result["status"] == "fail"  # the outsider's bucket needs someone to look
    public = [b.name for b in oss.buckets.values() if b.acl != "private"]
    assert public == ["outsider-bucket"]
    listings = [c for c in config.calls if c.action == "ListAggregateConfigRuleEvaluationResults"]
    assert len(listings) == 2
    assert all(c.params["AggregatorId"] == AGGREGATOR for c in listings)
    assert "ListConfigRuleEvaluationResults" not in config.operations()
    # One session per member account for the whole sweep, none for the outsider.
    assert sorted(c.role_arn for c in sts.assumed) == [
        f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}",
        f"acs:ram::{MEMBER_B}:role/{MEMBER_ROLE}",
    ]
    # Each member's buckets were written with that member's session only.
    issued = {c.account_id: c.access_key_id for c in sts.issued()}
    for call in oss.calls:
        owner = oss.buckets[call.bucket or ""].owner_id
        expected = DEFAULT_CREDENTIALS.access_key_id if owner == HUB else issued[owner]
        assert call.signed_with == expected
    for secret in (
        DEFAULT_CREDENTIALS.access_key_secret,
        DEFAULT_CREDENTIALS.security_token,
        *(c.access_key_secret for c in sts.issued()),
        *(c.security_token for c in sts.issued()),
    ):
        assert secret not in caplog.text


@pytest.mark.parametrize("reference", ["name", "id", "managed"])
def test_an_account_groups_rule_is_looked_up_by_name_id_or_managed_rule(
    group: tuple[ConfigBackend, OssBackend, StsBackend],
    monkeypatch: pytest.MonkeyPatch,
    reference: str,
) -> None:
    """Issue 17 §3: a group's rule named without `=identifier` is looked up in the group,
    and gets the fix of the managed rule it is built on (here the write rule's: a
    public-read-write bucket keeps its reads)."""
    config, oss, _ = group
    rule = config.add_rule("group-public-write", GROUP_RULE, aggregator_id=AGGREGATOR)
    rule.source_identifier = "oss-bucket-public-write-prohibited"
    config.add_rule("group-public-write", "cr-0therrule0000000001")  # the hub's own: not it
    oss.create_bucket("a-writable", REGION, "public-read-write", owner_id=MEMBER_A)
    config.add_results(rule, ["a-writable"], REGION, owner_id=MEMBER_A)
    value = {
        "name": "group-public-write",
        "id": GROUP_RULE,
        "managed": "oss-bucket-public-write-prohibited",
    }[reference]
    monkeypatch.setenv("prepareRuleName", value)

    result = run_sweep()

    assert (result["status"], result["complete"]) == ("success", True), result
    assert result["outcomes"] == {"remediated": 1}
    assert [r["rule_id"] for r in result["rules"]] == [GROUP_RULE]
    assert oss.acl_of("a-writable") == "public-read"  # only the write taken away
    lookups = [c for c in config.calls if "Aggregate" in c.action and "Evaluation" not in c.action]
    assert all(c.params["AggregatorId"] == AGGREGATOR for c in lookups)
    assert "ListConfigRules" not in config.operations()  # never the hub's own rules
    # A name or managed rule: one listing of the group's rules; a cr- id: one read of it.
    expected = "GetAggregateConfigRule" if reference == "id" else "ListAggregateConfigRules"
    assert [c.action for c in lookups] == [expected]


def test_a_bound_group_rule_is_not_looked_up(
    group: tuple[ConfigBackend, OssBackend, StsBackend],
) -> None:
    """The binding stays accepted, and needs neither lookup (nor its permission)."""
    config, oss, _ = group
    rule = config.add_rule("group-public-read", GROUP_RULE, aggregator_id=AGGREGATOR)
    oss.create_bucket("a-readable", REGION, "public-read", owner_id=MEMBER_A)
    config.add_results(rule, ["a-readable"], REGION, owner_id=MEMBER_A)
    config.fail_next(99, action="GetAggregateConfigRule", status=403, code="NoPermission")
    config.fail_next(99, action="ListAggregateConfigRules", status=403, code="NoPermission")
    result = run_sweep()
    assert result["outcomes"] == {"remediated": 1}
    assert config.operations() == ["ListAggregateConfigRuleEvaluationResults"]


def test_a_group_rule_that_does_not_exist_is_a_failed_rule(
    group: tuple[ConfigBackend, OssBackend, StsBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, oss, sts = group
    config.add_rule("group-public-read", GROUP_RULE)  # the hub's own rule, not the group's
    monkeypatch.setenv("prepareRuleName", "group-public-read")
    result = run_sweep()
    assert result["status"] == "fail"
    [rule] = result["rules"]
    assert f"in the account group {AGGREGATOR}" in rule["error"]
    assert config.operations() == ["ListAggregateConfigRules"]
    assert oss.calls == []
    assert sts.assumed == []
