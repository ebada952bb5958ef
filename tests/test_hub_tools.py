"""``backfill --member-role`` and ``restore --member-role`` from a workstation: the caller
(an operator role of the hub account) reaches members' buckets the way the hub function
does, through each member's role, narrowly."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_repair import member_access
from resource_repair.audit import audit_record
from resource_repair.cli import main
from resource_repair.credentials import Credentials
from resource_repair.report import Outcome, Report
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import ConfigBackend, mock_config_api
from resource_repair.testing.sts import StsBackend, mock_sts
from resource_repair.tools import restore
from tests.conftest import REGION, RULE_NAME

ROOT = Path(__file__).parent.parent
TEMPLATE = str(ROOT / "template.yml")
HUB = DEFAULT_ACCOUNT_ID
MEMBER_A = "1111222233334444"
MEMBER_B = "5555666677778888"
OUTSIDER = "9999000011112222"
MEMBER_ROLE = "resource-repair-member"
OPERATOR = f"acs:ram::{HUB}:role/resource-repair-operator"
AGGREGATOR = "ca-a4e6626a7a8c0046"


@pytest.fixture
def clouds(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend, StsBackend]]:
    """The operator's workstation: its keys are a session of the hub's operator role, which
    every member role trusts (template.member.yml's [operatorRole])."""
    member_access.SESSIONS.clear()
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_config_api() as config, mock_oss() as oss, mock_sts() as sts:
        sts.register(DEFAULT_CREDENTIALS, OPERATOR.replace(":role/", ":assumed-role/") + "/alice")
        for account in (MEMBER_A, MEMBER_B, OUTSIDER):
            sts.add_role(account, MEMBER_ROLE, OPERATOR)
        sts.serve_oss(oss)
        yield config, oss, sts
    member_access.SESSIONS.clear()


def group_results(config: ConfigBackend, oss: OssBackend) -> str:
    rule = config.add_rule(RULE_NAME, aggregator_id=AGGREGATOR)
    for owner, prefix in ((HUB, "hub"), (MEMBER_A, "a"), (MEMBER_B, "b"), (OUTSIDER, "out")):
        names = [f"{prefix}-bucket-{i}" for i in range(3)]
        for name in names:
            oss.create_bucket(name, REGION, "public-read", owner_id=owner)
        config.add_results(rule, names, REGION, owner_id=owner)
    return rule.rule_id


def backfill(*argv: str) -> int:
    rule_id = argv[argv.index("--rule-id") + 1] if "--rule-id" in argv else ""
    # The group's rule, bound to the managed rule it is built on (it cannot be looked up).
    bound = f"prepareRuleName={rule_id}=oss-bucket-public-read-prohibited"
    group = ["--aggregator-id", AGGREGATOR, "--env", bound]
    return main(["backfill", "-t", TEMPLATE, "--account-id", HUB, *group, *argv])


def test_backfill_reaches_the_members_in_the_list_and_no_other(
    clouds: tuple[ConfigBackend, OssBackend, StsBackend],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config, oss, sts = clouds
    rule_id = group_results(config, oss)
    report = tmp_path / "report.jsonl"
    code = backfill(
        "--rule-id",
        rule_id,
        "--member-role",
        MEMBER_ROLE,
        "--member-accounts",
        f"{MEMBER_A},{MEMBER_B}",
        "--apply",
        "--report",
        str(report),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "remediated" in out
    assert "invalid_event" in out
    private = sorted(b.name for b in oss.buckets.values() if b.acl == "private")
    assert private == sorted(f"{p}-bucket-{i}" for p in ("hub", "a", "b") for i in range(3))
    assert {c.role_arn for c in sts.assumed} == {
        f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}",
        f"acs:ram::{MEMBER_B}:role/{MEMBER_ROLE}",
    }
    # Two passes (a dry one, then the writes): still one session per member account.
    assert len(sts.assumed) == 2
    assert all(c.session_name == "resource-repair" for c in sts.assumed)
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    member_lines = [r for r in lines if r["bucket"].startswith("a-")]
    assert all(r["owner_account"] == MEMBER_A for r in member_lines)


def test_backfill_with_a_member_role_needs_the_accounts_named(
    clouds: tuple[ConfigBackend, OssBackend, StsBackend], capsys: pytest.CaptureFixture[str]
) -> None:
    config, oss, sts = clouds
    rule_id = group_results(config, oss)
    assert backfill("--rule-id", rule_id, "--member-role", MEMBER_ROLE) == 2
    assert "--member-accounts" in capsys.readouterr().err
    assert sts.assumed == []
    assert oss.calls == []


def test_backfill_without_a_member_role_leaves_members_alone(
    clouds: tuple[ConfigBackend, OssBackend, StsBackend],
) -> None:
    config, oss, sts = clouds
    rule_id = group_results(config, oss)
    backfill("--rule-id", rule_id, "--apply")
    assert sts.assumed == []
    assert all(b.acl == "public-read" for b in oss.buckets.values() if b.owner_id != HUB)


def test_restore_puts_a_members_bucket_back_through_its_role(
    clouds: tuple[ConfigBackend, OssBackend, StsBackend],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config, oss, sts = clouds
    rule_id = group_results(config, oss)
    report = tmp_path / "report.jsonl"
    accounts = f"{MEMBER_A},{MEMBER_B}"
    apply = ("--member-role", MEMBER_ROLE, "--member-accounts", accounts, "--apply")
    assert backfill("--rule-id", rule_id, *apply, "--report", str(report)) == 0
    capsys.readouterr()
    member_access.SESSIONS.clear()  # a later run, on another day
    credentials = Credentials(
        DEFAULT_CREDENTIALS.access_key_id,
        DEFAULT_CREDENTIALS.access_key_secret,
        DEFAULT_CREDENTIALS.security_token,
    )
    changes = restore.read_changes(report, {"a-bucket-0", "hub-bucket-0"})
    assert {c.bucket: c.account for c in changes} == {"a-bucket-0": MEMBER_A, "hub-bucket-0": None}

    out = io.StringIO()
    member_only = [c for c in changes if c.account]
    # The record names the account, the role is given: still not reached, since only
    # --member-accounts lets restore write in another account.
    assert (
        restore.restore(
            member_only,
            credentials,
            caller_account=HUB,
            apply=True,
            out=out,
            member_role=MEMBER_ROLE,
        )
        == 1
    )
    assert "--member-accounts does not list" in out.getvalue()
    assert oss.acl_of("a-bucket-0") == "private"
    out = io.StringIO()
    listed = frozenset({MEMBER_A})
    assert (
        restore.restore(
            member_only,
            credentials,
            caller_account=HUB,
            apply=True,
            out=out,
            member_accounts=listed,
        )
        == 1
    )
    assert "pass --member-role" in out.getvalue()
    assert oss.acl_of("a-bucket-0") == "private"  # not reached without the role

    before = len(sts.assumed)
    out = io.StringIO()
    code = restore.restore(
        changes,
        credentials,
        caller_account=HUB,
        apply=True,
        out=out,
        member_role=MEMBER_ROLE,
        member_accounts=listed,
    )
    assert code == 0, out.getvalue()
    assert oss.acl_of("a-bucket-0") == "public-read"
    assert oss.acl_of("hub-bucket-0") == "public-read"
    [call] = sts.assumed[before:]
    assert call.role_arn == f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}"
    assert call.policy is not None
    [statement] = json.loads(call.policy)["Statement"]
    assert statement["Action"] == ["oss:GetBucketInfo", "oss:PutBucketAcl"]
    assert statement["Resource"] == [f"acs:oss:*:{MEMBER_A}:*"]


def test_restore_reports_a_refused_role_and_writes_nothing(
    clouds: tuple[ConfigBackend, OssBackend, StsBackend], tmp_path: Path
) -> None:
    _, oss, sts = clouds
    oss.create_bucket("a-bucket-0", REGION, "private", owner_id=MEMBER_A)
    fixed = Report(
        Outcome.REMEDIATED,
        "changed public-read to private",
        bucket="a-bucket-0",
        region=REGION,
        acl_before="public-read",
        acl_after="private",
        bucket_created=oss.buckets["a-bucket-0"].creation_date,
        owner_account=MEMBER_A,
        assumed_role=f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}",
        session_key_id="STS.x",
    )
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps(audit_record(fixed, None, form="backfill")) + "\n")
    sts.roles.clear()
    credentials = Credentials(
        DEFAULT_CREDENTIALS.access_key_id,
        DEFAULT_CREDENTIALS.access_key_secret,
        DEFAULT_CREDENTIALS.security_token,
    )
    out = io.StringIO()
    changes = restore.read_changes(path)
    code = restore.restore(
        changes,
        credentials,
        caller_account=HUB,
        apply=True,
        out=out,
        member_role=MEMBER_ROLE,
        member_accounts=frozenset({MEMBER_A}),
    )
    assert code == 1
    assert "EntityNotExist.Role" in out.getvalue()
    assert oss.calls == []
