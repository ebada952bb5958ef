"""resource-repair backfill, end to end through the real SDKs against the fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_repair import config_api
from resource_repair.cli import main
from resource_repair.testing import DEFAULT_ACCOUNT_ID, OssBackend, fc_environment, mock_oss
from resource_repair.testing.config import ConfigBackend, FakeRule, mock_config_api
from tests.conftest import REGION, RESULT_KEYS, RULE_NAME

ROOT = Path(__file__).parent.parent
TEMPLATE = str(ROOT / "template.yml")
OTHER_ACCOUNT = "1111111111111111"


@pytest.fixture
def clouds(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend]]:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_config_api() as config, mock_oss() as oss:
        yield config, oss


@pytest.fixture
def config(clouds: tuple[ConfigBackend, OssBackend]) -> ConfigBackend:
    return clouds[0]


@pytest.fixture
def oss(clouds: tuple[ConfigBackend, OssBackend]) -> OssBackend:
    return clouds[1]


def public_buckets(
    config: ConfigBackend, oss: OssBackend, rule: FakeRule, count: int, prefix: str = "pub"
) -> list[str]:
    names = [f"{prefix}-{index:04d}" for index in range(count)]
    for name in names:
        oss.create_bucket(name, REGION, "public-read")
    config.add_results(rule, names, REGION)
    return names


def run(*argv: str) -> int:
    """``resource-repair backfill``; the account given, so that no STS request is made."""
    account = [] if "--account-id" in argv else ["--account-id", DEFAULT_ACCOUNT_ID]
    return main(["backfill", "-t", TEMPLATE, *account, *argv])


def backfill(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, int], str]:
    code = run(*argv)
    captured = capsys.readouterr()
    summary = {}
    for line in captured.out.splitlines()[1:]:
        name, count = line.split()
        summary[name] = int(count)
    return code, summary, captured.err


@pytest.mark.parametrize("last_page", ["absent", "empty"])
def test_dry_run_over_several_pages_lists_every_bucket_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend, last_page: str
) -> None:
    config.last_page_token = last_page
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 250)
    before = oss.snapshot()
    code, summary, _ = backfill(capsys, "--rule-id", rule.rule_id)
    assert code == 0
    assert summary == {"dry_run": 250, "total": 250}
    # The listing, plus one lookup of the rule's managed rule, which picks each bucket's fix.
    assert config.operations().count("ListConfigRuleEvaluationResults") == 3
    assert config.operations().count("ListConfigRules") == 1
    listing = [call for call in config.calls if call.action == "ListConfigRuleEvaluationResults"]
    tokens = [call.params.get("NextToken") for call in listing]
    assert tokens[0] is None
    assert all(tokens[1:])
    assert "PutBucketAcl" not in oss.operations()
    assert oss.snapshot() == before


def test_apply_makes_every_public_bucket_private_and_touches_no_other(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend, tmp_path: Path
) -> None:
    rule = config.add_rule(RULE_NAME)
    public = public_buckets(config, oss, rule, 12)
    oss.create_bucket("already-private", REGION, "private")
    oss.create_bucket("website", REGION, "public-read")
    oss.create_bucket("not-listed", REGION, "public-read")
    oss.create_bucket("theirs", REGION, "public-read", owner_id=OTHER_ACCOUNT)
    config.add_results(rule, ["already-private", "deleted-since", "website"], REGION)
    config.add_results(rule, ["theirs"], REGION, owner_id=OTHER_ACCOUNT)
    report = tmp_path / "report.jsonl"
    code, summary, _ = backfill(
        capsys,
        "--rule-id",
        rule.rule_id,
        "--apply",
        "--env",
        "exemptBuckets=website",
        "--report",
        str(report),
    )
    assert code == 0
    assert summary == {
        "remediated": 12,
        "already_private": 1,
        "bucket_not_found": 1,
        "exempt": 1,
        "invalid_event": 1,
        "total": 16,
    }
    assert all(oss.acl_of(name) == "private" for name in public)
    assert [oss.acl_of(n) for n in ("website", "not-listed", "theirs")] == ["public-read"] * 3
    assert "deleted-since" not in oss.buckets  # never re-created
    written = {c.bucket for c in oss.calls if c.operation == "PutBucketAcl"}
    assert written == set(public)
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(lines) == 16
    assert {line["bucket"] for line in lines} == {
        *public,
        "already-private",
        "deleted-since",
        "website",
        "theirs",
    }
    by_outcome: dict[str, int] = {}
    for line in lines:
        by_outcome[line["outcome"]] = by_outcome.get(line["outcome"], 0) + 1
        assert set(line) >= RESULT_KEYS
    assert by_outcome == {k: v for k, v in summary.items() if k != "total"}


def test_max_changes_refuses_to_apply_until_raised(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 30)
    code, summary, err = backfill(capsys, "--rule-id", rule.rule_id, "--apply")
    assert code == 1
    assert "30 buckets would change, more than --max-changes 25; nothing was written" in err
    assert summary == {"dry_run": 30, "total": 30}
    assert "PutBucketAcl" not in oss.operations()
    code, summary, _ = backfill(capsys, "--rule-id", rule.rule_id, "--apply", "--max-changes", "30")
    assert (code, summary) == (0, {"remediated": 30, "total": 30})


def test_rule_found_by_exact_name(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    config.add_rule(f"{RULE_NAME}-copy")
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 3)
    code, summary, _ = backfill(capsys, "--rule-name", RULE_NAME)
    assert (code, summary) == (0, {"dry_run": 3, "total": 3})
    listed = [c for c in config.calls if c.action == "ListConfigRuleEvaluationResults"]
    assert {c.params["ConfigRuleId"] for c in listed} == {rule.rule_id}


@pytest.mark.parametrize(
    ("names", "message"),
    [([], "no Config rule is named"), ([RULE_NAME, RULE_NAME], "2 rules are named")],
)
def test_rule_name_must_match_exactly_one_rule(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, names: list[str], message: str
) -> None:
    for name in names:
        config.add_rule(name)
    assert run("--rule-name", RULE_NAME) == 1
    assert message in capsys.readouterr().err


def test_aggregator_mode_reports_member_buckets_without_touching_them(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME, aggregator_id="ca-0001")
    mine = public_buckets(config, oss, rule, 2)
    oss.create_bucket("member-bucket", REGION, "public-read", owner_id=OTHER_ACCOUNT)
    config.add_results(rule, ["member-bucket"], REGION, owner_id=OTHER_ACCOUNT)
    bound = f"prepareRuleName={rule.rule_id}=oss-bucket-public-read-prohibited"
    code, summary, _ = backfill(
        capsys, "--rule-id", rule.rule_id, "--aggregator-id", "ca-0001", "--apply", "--env", bound
    )
    assert (code, summary) == (0, {"remediated": 2, "invalid_event": 1, "total": 3})
    assert all(c.params["AggregatorId"] == "ca-0001" for c in config.calls)
    assert set(config.operations()) == {"ListAggregateConfigRuleEvaluationResults"}
    assert oss.acl_of("member-bucket") == "public-read"
    assert all(oss.acl_of(name) == "private" for name in mine)


@pytest.mark.parametrize("by", ["--rule-id", "--rule-name"])
def test_an_account_groups_rule_is_looked_up_and_gets_its_managed_rules_fix(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend, by: str
) -> None:
    """Issue 17 §3: no `--env prepareRuleName=cr-...=oss-...` needed any more; the group's
    rule says it checks writes, so a public-read-write bucket keeps its reads."""
    rule = config.add_rule("group-write", aggregator_id="ca-0001")
    rule.source_identifier = "oss-bucket-public-write-prohibited"
    oss.create_bucket("writable", REGION, "public-read-write")
    config.add_results(rule, ["writable"], REGION)
    value = rule.rule_id if by == "--rule-id" else "group-write"
    code, summary, err = backfill(capsys, by, value, "--aggregator-id", "ca-0001", "--apply")
    assert (code, summary) == (0, {"remediated": 1, "total": 1}), err
    assert oss.acl_of("writable") == "public-read"
    lookups = {"GetAggregateConfigRule", "ListAggregateConfigRules"} & set(config.operations())
    assert lookups == (
        {"GetAggregateConfigRule"}
        if by == "--rule-id"
        else {"ListAggregateConfigRules", "GetAggregateConfigRule"}
    )
    assert "ListConfigRules" not in config.operations()


def test_regions_filter(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 2)
    oss.create_bucket("beijing-bucket", "cn-beijing", "public-read")
    config.add_results(rule, ["beijing-bucket"], "cn-beijing")
    code, summary, _ = backfill(
        capsys, "--rule-id", rule.rule_id, "--regions", "cn-beijing", "--apply"
    )
    assert (code, summary) == (0, {"remediated": 1, "total": 1})
    assert config.calls[0].params["Regions"] == "cn-beijing"


def test_throttling_by_config_and_oss_is_retried(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend, waits: list[float]
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 150)
    config.fail_next(
        2, action="ListConfigRuleEvaluationResults", status=503, code="ServiceUnavailable"
    )
    config.fail_next(
        1, action="ListConfigRuleEvaluationResults", status=400, code="Throttling.User"
    )
    oss.fail_next(
        2, status=503, code="MetaOperationQpsLimitExceeded"
    )  # fewer than one bucket's attempts
    code, summary, err = backfill(
        capsys, "--rule-id", rule.rule_id, "--apply", "--max-changes", "150"
    )
    assert (code, summary) == (0, {"remediated": 150, "total": 150}), err
    assert len(waits) == 3 + 2


def test_one_bucket_failing_does_not_stop_the_run(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend, tmp_path: Path
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 10)
    oss.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied")
    report = tmp_path / "r.jsonl"
    code, summary, _ = backfill(
        capsys, "--rule-id", rule.rule_id, "--apply", "--concurrency", "4", "--report", str(report)
    )
    assert code == 1
    assert summary == {"remediated": 9, "failed": 1, "total": 10}
    [failed] = [json.loads(x) for x in report.read_text().splitlines() if '"failed"' in x]
    assert "AccessDenied" in failed["reason"]


def test_config_failing_for_good_fails_the_run_clearly(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    config.fail_next(99, status=503)
    assert run("--rule-id", rule.rule_id) == 1
    err = capsys.readouterr().err
    assert "backfill failed: ListConfigRuleEvaluationResults: ServiceUnavailable (HTTP 503" in err


def test_reevaluate_after_an_applied_run_only(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 2)
    backfill(capsys, "--rule-id", rule.rule_id, "--reevaluate")
    assert config.evaluations_started == []
    backfill(capsys, "--rule-id", rule.rule_id, "--apply", "--reevaluate")
    assert config.evaluations_started == [rule.rule_id]


def test_results_do_not_depend_on_concurrency(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 40)
    _, one, _ = backfill(capsys, "--rule-id", rule.rule_id, "--concurrency", "1")
    _, many, _ = backfill(capsys, "--rule-id", rule.rule_id, "--concurrency", "16")
    assert one == many == {"dry_run": 40, "total": 40}


def test_no_credentials_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("--rule-id", "cr-1") == 2
    assert "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID" in capsys.readouterr().err
    assert run("--rule-id", "cr-1", "--profile", "work") == 2
    assert "profile 'work'" in capsys.readouterr().err


def test_credentials_from_an_aliyun_cli_profile(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from resource_repair.testing import DEFAULT_CREDENTIALS

    creds = DEFAULT_CREDENTIALS
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".aliyun").mkdir()
    profile = {
        "name": "work",
        "mode": "StsToken",
        "access_key_id": creds.access_key_id,
        "access_key_secret": creds.access_key_secret,
        "sts_token": creds.security_token,
        "region_id": REGION,
    }
    (tmp_path / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "work", "profiles": [profile]})
    )
    with mock_config_api() as config, mock_oss() as oss:
        rule = config.add_rule(RULE_NAME)
        public_buckets(config, oss, rule, 2)
        code, summary, _ = backfill(
            capsys, "--rule-id", rule.rule_id, "--profile", "work", "--apply"
        )
    assert (code, summary) == (0, {"remediated": 2, "total": 2})


def test_a_run_that_could_examine_no_bucket_fails_and_says_why(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    """The first-day trap: a wrong account id makes every bucket someone else's. Exit 0
    with the reason only in --report read as "nothing to do"; it is a failed run."""
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 230)
    code, summary, err = backfill(capsys, "--rule-id", rule.rule_id, "--account-id", OTHER_ACCOUNT)
    assert code == 1
    assert summary == {"invalid_event": 230, "total": 230}
    assert "no bucket could be examined: all 230 were invalid_event or failed" in err
    reason = (
        f"invalid_event: bucket belongs to account {DEFAULT_ACCOUNT_ID},"
        f" the function runs in {OTHER_ACCOUNT}"
    )
    assert f"     230  {reason}" in err.splitlines()
    assert "PutBucketAcl" not in oss.operations()


def test_most_frequent_reasons_are_shown_when_only_some_buckets_fail(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend, oss: OssBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 5)
    config.add_results(rule, ["theirs-1", "theirs-2"], REGION, owner_id=OTHER_ACCOUNT)
    config.add_results(rule, ["Not_A_Bucket"], REGION)
    code, summary, err = backfill(capsys, "--rule-id", rule.rule_id)
    assert code == 0  # five buckets were read: the run did its job, and says what it skipped
    assert summary == {"dry_run": 5, "invalid_event": 3, "total": 8}
    lines = err.splitlines()
    assert "3 of 8 buckets were invalid_event or failed" in lines
    counts = [line.split()[0] for line in lines[lines.index("most frequent reasons:") + 1 :]]
    assert counts == ["2", "1"]  # most frequent first


def test_a_rule_with_nothing_to_do_is_not_a_failure(
    capsys: pytest.CaptureFixture[str], config: ConfigBackend
) -> None:
    rule = config.add_rule(RULE_NAME)
    code, summary, err = backfill(capsys, "--rule-id", rule.rule_id)
    assert (code, summary) == (0, {"total": 0})
    assert "reasons" not in err


# -- pagination cannot loop; the site follows the region (issue 16 §2, §3) -------------------


@pytest.mark.parametrize("tokens", ["same", "fresh"])
def test_a_listing_that_does_not_move_on_ends_the_backfill_with_exit_1(
    capsys: pytest.CaptureFixture[str],
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    tokens: str,
) -> None:
    """Before: the backfill asked for the same page again for as long as Config answered
    with it (forever, against a server that always does); here the fake stops after 5."""
    monkeypatch.setattr(config_api, "PAGE_SIZE", 10)
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 25)
    config.looping_pages = 5
    config.looping_tokens = tokens
    code = run("--rule-id", rule.rule_id)
    err = capsys.readouterr().err
    assert code == 1
    assert "backfill failed" in err
    assert ("NextToken" in err) if tokens == "same" else ("no new result" in err)
    assert config.operations().count("ListConfigRuleEvaluationResults") <= 4


def test_a_bucket_listed_on_two_pages_is_examined_once(
    capsys: pytest.CaptureFixture[str],
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # One page comes twice under a new token (results that moved while being paged).
    monkeypatch.setattr(config_api, "PAGE_SIZE", 10)
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 25)
    config.looping_pages = 1
    config.looping_tokens = "fresh"
    report = tmp_path / "report.jsonl"
    code, summary, _ = backfill(capsys, "--rule-id", rule.rule_id, "--report", str(report))
    assert (code, summary) == (0, {"dry_run": 25, "total": 25})
    examined = [json.loads(line)["bucket"] for line in report.read_text().splitlines()]
    assert sorted(examined) == sorted(names)


@pytest.mark.parametrize(
    ("region", "site", "host"),
    [
        ("cn-hangzhou", [], "config.cn-shanghai.aliyuncs.com"),
        ("eu-central-1", [], "config.ap-southeast-1.aliyuncs.com"),
        ("cn-hangzhou", ["--site", "international"], "config.ap-southeast-1.aliyuncs.com"),
        (
            "cn-hangzhou",
            ["--env", "configSite=international"],
            "config.ap-southeast-1.aliyuncs.com",
        ),
    ],
)
def test_the_config_site_follows_the_templates_region_as_the_sweeps_does(
    capsys: pytest.CaptureFixture[str],
    config: ConfigBackend,
    tmp_path: Path,
    region: str,
    site: list[str],
    host: str,
) -> None:
    text = Path(TEMPLATE).read_text(encoding="utf-8")
    template = tmp_path / "template.yml"
    template.write_text(text.replace("  region: ap-southeast-1", f"  region: {region}", 1))
    rule = config.add_rule(RULE_NAME)
    argv = ["-t", str(template), "--account-id", DEFAULT_ACCOUNT_ID, "--rule-id", rule.rule_id]
    code = main(["backfill", *argv, *site])
    assert code == 0, capsys.readouterr().err
    assert {call.host for call in config.calls} == {host}
