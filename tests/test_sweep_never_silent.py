"""The sweep is never silent (issue 16 §2, §3): what starts it, whether one bucket fits its
time, a listing that does not move on, one rule's error beside the others, and a sweep
that leaves buckets unreached. Each failure is a ``fail`` result published to the failure
topic; the fakes of Config, OSS and MNS stand in for the cloud, and a clock the test moves
stands in for time."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import config_api, member_access, sweep
from resource_repair.settings import Settings
from resource_repair.testing import OssBackend, fc_context, fc_environment, mock_oss
from resource_repair.testing.config import ConfigBackend, FakeRule, mock_config_api
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from tests.conftest import REGION, RULE_NAME, load_event

FAILURES = "resource-repair-failures"
TIMER = load_event("timer-sweep.json")


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


@pytest.fixture
def mns(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[MnsBackend]:
    backend = MnsBackend()
    backend.create_topic(FAILURES)
    with fake_mns_server(backend) as server:
        monkeypatch.setenv("failureTopic", FAILURES)
        monkeypatch.setenv("mnsEndpointOverride", server.url)
        yield backend
        backend.release()


@pytest.fixture
def clouds(
    mns: MnsBackend, monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend]]:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    sweep.clear_rule_cache()
    member_access.SESSIONS.clear()
    with mock_config_api() as config, mock_oss() as oss:
        yield config, oss
    sweep.clear_rule_cache()


@pytest.fixture
def config(clouds: tuple[ConfigBackend, OssBackend]) -> ConfigBackend:
    return clouds[0]


@pytest.fixture
def oss(clouds: tuple[ConfigBackend, OssBackend]) -> OssBackend:
    return clouds[1]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(sweep, "_clock", clock)
    return clock


@pytest.fixture
def quick_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt of at most 1 s per OSS call: one bucket's worst case is 4 s."""
    monkeypatch.setenv("ossRequestTimeout", "1")
    monkeypatch.setenv("ossMaxAttempts", "1")


def run_sweep(event: bytes = TIMER, timeout: int = 600) -> dict[str, Any]:
    result = index.sweep(event, fc_context(timeout=timeout))
    assert isinstance(result, str)
    parsed: dict[str, Any] = json.loads(result)
    return parsed


def published(backend: MnsBackend) -> list[dict[str, Any]]:
    return [json.loads(message.body) for message in backend.messages(FAILURES)]


def public_buckets(
    config: ConfigBackend, oss: OssBackend, rule: FakeRule, count: int, prefix: str
) -> list[str]:
    names = [f"{prefix}-{n:04d}" for n in range(count)]
    for name in names:
        oss.create_bucket(name, REGION, "public-read")
    config.add_results(rule, names, REGION)
    return names


def listings(config: ConfigBackend, rule: FakeRule) -> int:
    return sum(
        1
        for c in config.calls
        if c.action == "ListConfigRuleEvaluationResults"
        and c.params["ConfigRuleId"] == rule.rule_id
    )


# -- what starts it ---------------------------------------------------------------------------


@pytest.mark.parametrize("event", [TIMER, b'{"sweep": "run"}'], ids=["timer", "explicit-request"])
def test_the_timer_or_an_explicit_request_starts_a_sweep(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, event: bytes
) -> None:
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 2, "pub")
    result = run_sweep(event)
    assert (result["status"], result["complete"]) == ("success", True)
    assert all(oss.acl_of(n) == "private" for n in names)
    assert published(mns) == []


@pytest.mark.parametrize(
    "event",
    [
        b"",
        b"{}",
        b'{"triggerTime": "2026-12-04T18:00:00Z"}',
        b'{"sweep": "now"}',
        b"[1, 2]",
        load_event("noncompliance-oss-plain.json"),
        load_event("noncompliance-oss-stream.txt"),
        load_event("hostile-invalid-utf8.bin"),
        load_event("hostile-deeply-nested-plain.json"),
    ],
    ids=[
        "empty",
        "empty-object",
        "no-trigger-name",
        "other-request",
        "array",
        "config-message",
        "config-message-stream",
        "invalid-utf8",
        "deeply-nested",
    ],
)
def test_anything_else_makes_no_request_and_fails_published(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, event: bytes
) -> None:
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 1, "pub")
    result = run_sweep(event)
    assert result["status"] == "fail"
    assert result["complete"] is False
    assert result["reason"].startswith("not a sweep request")
    assert config.calls == []
    assert oss.calls == []
    [message] = published(mns)
    assert message["reason"] == result["reason"]


# -- its time -----------------------------------------------------------------------------------


def test_settings_under_which_no_bucket_fits_refuse_to_start_naming_them(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each setting within its documented range; together, one bucket's worst case is
    752 s against the 588 s a 600 s sweep has. Before: no bucket ever started, and the
    sweep said `success`."""
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 3, "pub")
    for name, value in {
        "ossRequestTimeout": "20",
        "ossMaxAttempts": "4",
        "blockPublicAccess": "true",
        "exemptTag": "public-on-purpose",
    }.items():
        monkeypatch.setenv(name, value)
    result = run_sweep(timeout=600)
    assert result["status"] == "fail"
    reason = result["reason"]
    assert "752 s" in reason
    assert "588 s" in reason
    for variable in ("ossRequestTimeout=20", "ossMaxAttempts=4", "blockPublicAccess", "exemptTag"):
        assert variable in reason
    assert config.calls == []
    assert oss.calls == []
    [message] = published(mns)
    assert "752 s" in message["reason"]


def test_the_hub_modes_budget_includes_assuming_the_member_role(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ossRequestTimeout", "10")
    monkeypatch.setenv("ossMaxAttempts", "1")
    oss_only = 4 * 10.0  # four calls of one attempt of 10 s
    assume_role = member_access.worst_case_seconds(1)
    assert assume_role > 1
    # The sweep has the OSS calls' worst case and half of AssumeRole's besides.
    timeout = round(12 + oss_only + assume_role / 2)
    rule = config.add_rule(RULE_NAME)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    assert run_sweep(timeout=timeout)["status"] == "success"  # fits, outside hub mode
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", "*")
    config.calls.clear()

    result = run_sweep(timeout=timeout)

    assert result["status"] == "fail"
    assert "memberRoleName" in result["reason"]
    assert config.calls == []
    assert len(published(mns)) == 1


def test_the_hub_modes_budget_holds_every_attempt_at_assuming_the_member_role(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AssumeRole is retried as often as an OSS call: the time kept for it holds every
    # attempt and wait, not one request.
    monkeypatch.setenv("ossRequestTimeout", "2")
    monkeypatch.setenv("ossMaxAttempts", "3")
    oss_only = sweep.bucket_budget(
        Settings.from_env({"ossRequestTimeout": "2", "ossMaxAttempts": "3"})
    )
    one_request = member_access.worst_case_seconds(1)
    every_attempt = member_access.worst_case_seconds(3)
    # The sweep has the OSS calls' worst case, one AssumeRole request, and half the rest.
    timeout = math.ceil(12 + oss_only + one_request + (every_attempt - one_request) / 2)
    rule = config.add_rule(RULE_NAME)
    monkeypatch.setenv("prepareRuleName", rule.rule_id)
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", "*")

    result = run_sweep(timeout=timeout)

    assert result["status"] == "fail"
    assert "memberRoleName" in result["reason"]
    assert config.calls == []
    assert len(published(mns)) == 1


# -- completeness -------------------------------------------------------------------------------


def test_a_sweep_that_leaves_buckets_unreached_says_so_to_the_failure_topic_with_counts(
    config: ConfigBackend,
    oss: OssBackend,
    mns: MnsBackend,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    quick_buckets: None,
) -> None:
    monkeypatch.setattr(sweep, "SWEEP_CONCURRENCY", 1)  # one moving clock: one bucket at a time
    oss.before_next("PutBucketAcl", lambda _: clock.advance(2.0), times=10**6)
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 20, "pub")
    monkeypatch.setenv("prepareRuleName", rule.rule_id)

    result = run_sweep(timeout=42)  # 30 s: room for 14 buckets of 2 s, 4 s kept each

    done = result["outcomes"]["remediated"]
    assert 0 < done < 20
    assert result["complete"] is False
    assert result["status"] == "fail"
    assert "not reached" in result["reason"]
    assert "rule(s) not listed to the end" in result["reason"]
    assert f"{done} bucket(s) reached" in result["reason"]
    [message] = published(mns)
    assert message["complete"] is False
    assert message["reason"] == result["reason"]
    assert sum(oss.acl_of(n) == "private" for n in names) == done


def test_a_bucket_taken_from_the_listing_does_not_start_once_its_time_is_gone(
    config: ConfigBackend,
    oss: OssBackend,
    mns: MnsBackend,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    quick_buckets: None,
) -> None:
    """Both buckets are taken from the listing at once, with time for each; the first one's
    write uses up what the second needed. Started, it could be cut off half done."""
    monkeypatch.setattr(sweep, "SWEEP_CONCURRENCY", 1)  # one moving clock: one bucket at a time

    def slow_write(_: object) -> None:
        time.sleep(0.2)  # real time, in which the sweep takes the second bucket from the listing
        clock.advance(27.0)

    oss.before_next("PutBucketAcl", slow_write, times=1)
    rule = config.add_rule(RULE_NAME)
    public_buckets(config, oss, rule, 2, "pub")
    monkeypatch.setenv("prepareRuleName", rule.rule_id)

    result = run_sweep(timeout=42)  # 30 s of work: one bucket's worst case is 4 s

    assert result["outcomes"] == {"remediated": 1}
    assert (result["status"], result["complete"]) == ("fail", False)
    assert "1 listed bucket(s) not reached" in result["reason"]
    assert [oss.acl_of(name) for name in ("pub-0000", "pub-0001")] == ["private", "public-read"]


def test_complete_is_false_when_a_listing_stops_at_the_deadline(
    config: ConfigBackend,
    oss: OssBackend,
    mns: MnsBackend,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    quick_buckets: None,
) -> None:
    """Every listed bucket is reached, but the next page is not asked for: too little time
    is left for one more Config request. Not complete, and reported."""
    monkeypatch.setattr(config_api, "PAGE_SIZE", 10)
    rule = config.add_rule(RULE_NAME)
    names = public_buckets(config, oss, rule, 15, "pub")
    # By name: its managed rule is learnt when the name is looked up, before the listing.
    monkeypatch.setenv("prepareRuleName", RULE_NAME)
    first_page = config.list_evaluation_results

    def slow_first_page(params: Any, *, aggregator: bool) -> dict[str, Any]:
        clock.advance(16.0)  # 30 s - 16 s: enough for buckets, not for another listing
        return first_page(params, aggregator=aggregator)

    monkeypatch.setattr(config, "list_evaluation_results", slow_first_page)

    result = run_sweep(timeout=42)

    assert result["outcomes"] == {"remediated": 10}
    assert result["complete"] is False
    assert result["rules"][0]["complete"] is False
    assert result["status"] == "fail"
    assert listings(config, rule) == 1
    [message] = published(mns)
    assert message["complete"] is False
    assert [oss.acl_of(n) for n in names].count("public-read") == 5


def test_the_second_rule_is_swept_after_the_first_rules_config_error(
    config: ConfigBackend, oss: OssBackend, mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = config.add_rule(RULE_NAME)
    second = config.add_rule("second-rule")
    public_buckets(config, oss, first, 2, "first")
    names = public_buckets(config, oss, second, 3, "second")
    monkeypatch.setenv("prepareRuleName", f"{first.rule_id},{second.rule_id}")
    config.fail_next(1, action="ListConfigRuleEvaluationResults", status=400, code="NoPermission")

    result = run_sweep()

    assert result["status"] == "fail"
    assert result["complete"] is False
    assert "NoPermission" in result["rules"][0]["error"]
    assert result["rules"][1] == {
        "reference": second.rule_id,
        "rule_id": second.rule_id,
        "buckets": 3,
        "complete": True,
        "error": None,
    }
    assert all(oss.acl_of(n) == "private" for n in names)
    assert len(published(mns)) == 1


# -- pagination cannot loop ---------------------------------------------------------------------


@pytest.mark.parametrize("tokens", ["same", "fresh"])
def test_a_listing_that_does_not_move_on_fails_that_rule_and_the_others_go_on(
    config: ConfigBackend,
    oss: OssBackend,
    mns: MnsBackend,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    tokens: str,
) -> None:
    """Before: the sweep asked for the same page until its deadline (every request here
    costs a second of the clock), and never listed the second rule."""
    monkeypatch.setattr(config_api, "PAGE_SIZE", 10)
    looping = config.add_rule(RULE_NAME)
    other = config.add_rule("other-rule")
    first_page = public_buckets(config, oss, looping, 25, "loop")[:10]
    others = public_buckets(config, oss, other, 3, "other")
    monkeypatch.setenv("prepareRuleName", f"{looping.rule_id},{other.rule_id}")
    config.looping_pages = 10**6
    config.looping_tokens = tokens
    listing = config.list_evaluation_results

    def costs_a_second(params: Any, *, aggregator: bool) -> dict[str, Any]:
        clock.advance(1.0)
        return listing(params, aggregator=aggregator)

    monkeypatch.setattr(config, "list_evaluation_results", costs_a_second)

    result = run_sweep()

    assert result["status"] == "fail"
    assert result["complete"] is False
    error = result["rules"][0]["error"]
    assert ("NextToken" in error) if tokens == "same" else ("no new result" in error)
    assert listings(config, looping) == (2 if tokens == "same" else 4)
    assert result["rules"][1]["complete"] is True
    assert result["outcomes"] == {"remediated": 10 + 3}
    assert all(oss.acl_of(n) == "private" for n in first_page + others)
    assert len(published(mns)) == 1
