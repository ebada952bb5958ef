"""index.sweep, end to end through aliyunsdkcore and oss2 against the fake Config API and
the fake OSS: the level-triggered half of the function."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import config_api, sweep
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_context,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import ConfigBackend, FakeRule, mock_config_api
from tests.conftest import REGION, RESULT_KEYS, RULE_NAME, load_event

OTHER_ACCOUNT = "1111111111111111"
MANAGED_RULE = "oss-bucket-public-read-prohibited"
RUNTIMES = ["python3.10", "python3.12"]


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    sweep.clear_rule_cache()
    yield
    sweep.clear_rule_cache()


@pytest.fixture
def clouds(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend]]:
    # FC sets the role's credentials in the environment on every runtime (python3.12 has
    # nothing else); python3.10's context carries the same ones.
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


def run_sweep(runtime: str = "python3.10", **context: Any) -> dict[str, Any]:
    context.setdefault("timeout", 600)
    result = index.sweep(load_event("timer-sweep.json"), fc_context(runtime, **context))
    assert isinstance(result, str)
    parsed: dict[str, Any] = json.loads(result)
    return parsed


def public_buckets(
    config: ConfigBackend, oss: OssBackend, rule: FakeRule, count: int, prefix: str = "pub"
) -> list[str]:
    names = [f"{prefix}-{index:04d}" for index in range(count)]
    for name in names:
        oss.create_bucket(name, REGION, "public-read")
    config.add_results(rule, names, REGION)
    return names


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "resource_repair.audit" and r.getMessage().startswith("{")
    ]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_two_rules_several_pages_mixed_outcomes(
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    runtime: str,
) -> None:
    monkeypatch.setattr(config_api, "PAGE_SIZE", 10)
    by_name = config.add_rule(RULE_NAME)
    by_id = config.add_rule("public-write-check")
    config.add_rule("unrelated-rule")
    public = public_buckets(config, oss, by_name, 27)
    oss.create_bucket("already-private", REGION, "private")
    oss.create_bucket("website", REGION, "public-read")
    oss.create_bucket("theirs", REGION, "public-read", owner_id=OTHER_ACCOUNT)
    oss.create_bucket("not-reported", REGION, "public-read")
    config.add_results(by_name, ["already-private", "deleted-since", "website"], REGION)
    config.add_results(by_name, ["theirs"], REGION, owner_id=OTHER_ACCOUNT)
    config.add_results(by_name, ["compliant-one"], REGION, compliance="COMPLIANT")
    second = public_buckets(config, oss, by_id, 6, prefix="write")
    config.add_results(by_id, public[:3], REGION)  # reported by both rules: worked on once
    oss.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied")
    monkeypatch.setenv("prepareRuleName", f"{RULE_NAME},{by_id.rule_id}")
    monkeypatch.setenv("exemptBuckets", "website")
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    result = run_sweep(runtime)

    assert set(result) == {"status", "outcomes", "complete", "rules", "notification"}
    assert result["status"] == "fail"  # one AccessDenied, one foreign bucket: someone is told
    assert result["complete"] is True
    assert result["outcomes"] == {
        "remediated": 27 + 6 - 1,
        "already_private": 1,
        "bucket_not_found": 1,
        "exempt": 1,
        "invalid_event": 1,
        "failed": 1,
    }
    assert result["rules"] == [
        {
            "reference": RULE_NAME,
            "rule_id": by_name.rule_id,
            "buckets": 27 + 4,
            "complete": True,
            "error": None,
        },
        {
            "reference": by_id.rule_id,
            "rule_id": by_id.rule_id,
            "buckets": 6,
            "complete": True,
            "error": None,
        },
    ]
    private = [n for n in public + second if oss.acl_of(n) == "private"]
    assert len(private) == 27 + 6 - 1
    assert [oss.acl_of(n) for n in ("website", "theirs", "not-reported")] == ["public-read"] * 3
    assert "deleted-since" not in oss.buckets  # never re-created
    listings = [c for c in config.calls if c.action == "ListConfigRuleEvaluationResults"]
    assert len(listings) == 4 + 1  # 31 results of the first rule in pages of 10, then 9
    assert all(call.host == "config.ap-southeast-1.aliyuncs.com" for call in config.calls)

    lines = audit_lines(caplog)
    per_bucket = [line for line in lines if line["audit"] == "resource_repair"]
    assert len(per_bucket) == 37
    assert all(line["delivery_form"] == "sweep" for line in per_bucket)
    assert all(set(line) >= RESULT_KEYS for line in per_bucket)
    [summary] = [line for line in lines if line["audit"] == "resource_repair_sweep"]
    assert {k: summary[k] for k in result} == result


def test_a_deadline_halfway_stops_cleanly_and_the_next_run_finishes(
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Time is a clock the fake OSS moves: a read costs 0.5 s, a write 1 s. With one-attempt
    calls of at most 1 s a bucket may need 3 s, so none starts with less than that left."""
    clock = FakeClock()
    monkeypatch.setattr(sweep, "_clock", clock)
    monkeypatch.setattr(sweep, "SWEEP_CONCURRENCY", 1)  # one moving clock: one bucket at a time
    oss.before_next("GetBucketInfo", lambda _: clock.advance(0.5), times=10**6)
    oss.before_next("PutBucketAcl", lambda _: clock.advance(1.0), times=10**6)
    rule = config.add_rule(RULE_NAME)
    public = public_buckets(config, oss, rule, 20)
    monkeypatch.setenv("ossRequestTimeout", "1")
    monkeypatch.setenv("ossMaxAttempts", "1")
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    start = clock()
    first = run_sweep(timeout=42)  # 30 s of work after 12 s kept back to notify and return

    assert clock() - start <= 30
    assert first["complete"] is False
    # Nothing failed, but buckets are left public until the next run: someone is told.
    assert first["status"] == "fail"
    assert "not reached" in first["reason"]
    assert first["rules"][0]["complete"] is False
    done = first["outcomes"]["remediated"]
    assert done == 14  # started at 30, 28, ..., 4 s left; at 2 s left none starts
    assert first["rules"][0]["buckets"] == done
    assert sorted(oss.acl_of(n) for n in public) == ["private"] * done + ["public-read"] * (
        20 - done
    )
    written = [c.bucket for c in oss.calls if c.operation == "PutBucketAcl"]
    assert all(oss.acl_of(name) == "private" for name in written)  # none left half done
    per_bucket = [line for line in audit_lines(caplog) if line["audit"] == "resource_repair"]
    assert len(per_bucket) == done

    second = run_sweep(timeout=42)

    assert second["complete"] is True
    assert second["outcomes"] == {"remediated": 20 - done, "already_private": done}
    assert all(oss.acl_of(n) == "private" for n in public)


@pytest.mark.parametrize("reference", ["id", "name", "managed"])
def test_steady_state_is_one_listing_request_and_no_oss_request(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("quiet", REGION, "private")
    value = {"id": rule.rule_id, "name": RULE_NAME, "managed": MANAGED_RULE}[reference]
    monkeypatch.setenv("prepareRuleName", value)

    first = run_sweep()
    config.calls.clear()
    second = run_sweep()

    assert (
        first
        == second
        == {
            "status": "success",
            "outcomes": {},
            "complete": True,
            "notification": "none",
            "rules": [
                {
                    "reference": value,
                    "rule_id": rule.rule_id,
                    "buckets": 0,
                    "complete": True,
                    "error": None,
                }
            ],
        }
    )
    # The name (or identifier) was looked up once for the instance; each tick lists once.
    assert config.operations() == ["ListConfigRuleEvaluationResults"]
    assert oss.calls == []


def test_a_rule_id_needs_no_lookup_even_on_a_cold_instance(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = config.add_rule(RULE_NAME)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    assert run_sweep()["complete"] is True
    assert config.operations() == ["ListConfigRuleEvaluationResults"]
    assert oss.calls == []


def test_the_managed_identifier_selects_every_rule_built_on_it(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = config.add_rule(RULE_NAME)
    second = config.add_rule("another-name-same-check")
    other = config.add_rule("oss-versioning")
    other.source_identifier = "oss-bucket-versioning-enabled"
    a = public_buckets(config, oss, first, 2, prefix="a")
    b = public_buckets(config, oss, second, 2, prefix="b")
    c = public_buckets(config, oss, other, 2, prefix="c")
    monkeypatch.setenv("prepareRuleName", MANAGED_RULE)
    result = run_sweep()
    assert [r["rule_id"] for r in result["rules"]] == [first.rule_id, second.rule_id]
    assert result["outcomes"] == {"remediated": 4}
    assert [oss.acl_of(n) for n in a + b + c] == ["private"] * 4 + ["public-read"] * 2


def test_an_unknown_rule_fails_loudly_and_the_others_are_still_swept(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 3)
    monkeypatch.setenv("prepareRuleName", f"no-such-rule,{RULE_NAME}")
    result = run_sweep()
    assert result["status"] == "fail"
    assert result["complete"] is False
    assert result["outcomes"] == {"remediated": 3}
    assert result["rules"][0] == {
        "reference": "no-such-rule",
        "rule_id": None,
        "buckets": 0,
        "complete": False,
        "error": "no Config rule is named 'no-such-rule' or built on a managed rule of that"
        " identifier",
    }
    assert all(oss.acl_of(n) == "private" for n in names)


@pytest.mark.parametrize(
    ("status", "code", "retried"),
    [(400, "NoPermission", False), (503, "ServiceUnavailable", True)],
)
def test_config_refusing_is_a_failed_incomplete_sweep_not_a_crash(
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    waits: list[float],
    status: int,
    code: str,
    retried: bool,
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 2)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    config.fail_next(99, status=status, code=code)
    result = run_sweep()
    assert result["status"] == "fail"
    assert result["complete"] is False
    assert result["outcomes"] == {}
    assert code in result["rules"][0]["error"]
    assert oss.calls == []
    assert (len(waits) > 0) is retried


def test_throttled_listing_is_retried_and_the_sweep_completes(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 3)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    config.fail_next(2, status=400, code="Throttling.User")
    result = run_sweep()
    assert (result["status"], result["complete"]) == ("success", True)
    assert result["outcomes"] == {"remediated": 3}
    assert len(waits) == 2


def test_the_event_functions_settings_apply_dry_run_included(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 4)
    monkeypatch.setenv("dryRun", "true")
    monkeypatch.setenv("exemptBuckets", names[0])
    result = run_sweep()
    assert result["outcomes"] == {"dry_run": 3, "exempt": 1}
    assert "PutBucketAcl" not in oss.operations()


@pytest.mark.parametrize(
    ("name", "value"),
    [("dryRun", "maybe"), ("exemptBuckets", "Config-Snapshot"), ("configSite", "mars")],
)
def test_a_bad_setting_fails_before_any_request(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    config.add_rule(RULE_NAME)
    monkeypatch.setenv(name, value)
    result = run_sweep()
    assert result["status"] == "fail"
    assert result["complete"] is False
    assert result["reason"].startswith(f"configuration: {name}")
    assert config.calls == []
    assert oss.calls == []


def test_no_rule_configured_sweeps_nothing(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("prepareRuleName")
    result = run_sweep()
    assert (result["status"], result["outcomes"], result["rules"]) == ("success", {}, [])
    assert config.calls == []


def test_no_credentials_is_a_failed_sweep(
    config: ConfigBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in fc_environment():
        monkeypatch.delenv(key)
    result = run_sweep("python3.12")
    assert result["status"] == "fail"
    assert result["reason"] == "no credentials: the function has no role"
    assert config.calls == []


@pytest.mark.parametrize(
    ("region", "site", "host"),
    [
        ("cn-hangzhou", "", "config.cn-shanghai.aliyuncs.com"),
        ("eu-central-1", "", "config.ap-southeast-1.aliyuncs.com"),
        ("cn-hangzhou", "international", "config.ap-southeast-1.aliyuncs.com"),
    ],
)
def test_the_config_site_follows_the_function_region_unless_set(
    config: ConfigBackend, monkeypatch: pytest.MonkeyPatch, region: str, site: str, host: str
) -> None:
    rule = config.add_rule(RULE_NAME)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    monkeypatch.setenv("configSite", site)
    run_sweep(region=region)
    assert [call.host for call in config.calls] == [host]


def test_it_calls_exactly_the_config_actions_it_declares(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 2)
    run_sweep()
    called = {f"config:{action}" for action in config.operations()}
    assert called == set(config_api.SWEEP_PERMISSIONS)


def test_debug_logging_never_shows_the_security_token(
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 1)
    caplog.set_level(logging.DEBUG)
    run_sweep()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really was on
    for secret in (DEFAULT_CREDENTIALS.security_token, DEFAULT_CREDENTIALS.access_key_secret):
        assert secret not in text


def test_a_bucket_in_another_account_is_refused_before_any_request(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("theirs", REGION, "public-read", owner_id=OTHER_ACCOUNT)
    config.add_results(rule, ["theirs"], REGION, owner_id=OTHER_ACCOUNT)
    result = run_sweep(account_id=DEFAULT_ACCOUNT_ID)
    assert result["outcomes"] == {"invalid_event": 1}
    assert oss.calls == []


class FakeClock:
    def __init__(self) -> None:
        self._now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def test_a_defect_of_ours_is_a_failed_summary_not_a_crash(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sweep, "_resolve_rules", broken)
    result = run_sweep()
    assert result["status"] == "fail"
    assert result["complete"] is False
    assert result["reason"] == "internal error: RuntimeError"
