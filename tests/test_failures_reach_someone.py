"""Every failure reaches the failure topic, end to end: the event handler and the sweep
publish through the real SMQ SDK to the fake on loopback. Also: a bucket the sweep lists
gets the fix of its rule's managed rule, as a delivered message would."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import sweep
from resource_repair.testing import OssBackend, fc_context, fc_environment, mock_oss
from resource_repair.testing.config import ConfigBackend, mock_config_api
from resource_repair.testing.mns import Fault, MnsBackend, fake_mns_server
from tests.conftest import BUCKET, REGION, RULE_NAME, Invoke, load_event

FAILURES = "resource-repair-failures"
REMEDIATIONS = "resource-repair-remediations"
POLICY_RULE = "oss-bucket-policy-no-any-anonymous"


@pytest.fixture
def mns(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[MnsBackend]:
    backend = MnsBackend()
    backend.create_topic(FAILURES)
    backend.create_topic(REMEDIATIONS)
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
    with mock_config_api() as config, mock_oss() as oss:
        yield config, oss
    sweep.clear_rule_cache()


def published(backend: MnsBackend, topic: str) -> list[dict[str, Any]]:
    return [json.loads(message.body) for message in backend.messages(topic)]


def run_sweep() -> dict[str, Any]:
    result = json.loads(index.sweep(load_event("timer-sweep.json"), fc_context(timeout=600)))
    assert isinstance(result, dict)
    return result


def test_a_refused_write_is_published_by_the_event_handler(
    mns: MnsBackend, fake_oss: OssBackend, invoke: Invoke
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert result["outcome"] == "failed"
    [message] = published(mns, FAILURES)
    assert (message["outcome"], message["bucket"]) == ("failed", BUCKET)
    assert "AccessDenied" in message["reason"]


def test_a_mistyped_exemption_is_published_and_the_bucket_left_alone(
    mns: MnsBackend, fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    monkeypatch.setenv("exemptBuckets", "Config-Snapshot")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert result["status"] == "fail"
    [message] = published(mns, FAILURES)
    assert "exemptBuckets" in message["reason"]
    assert fake_oss.acl_of(BUCKET) == "public-read"


def test_a_success_publishes_nothing_unless_remediations_are_asked_for(
    mns: MnsBackend, fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    invoke(load_event("noncompliance-oss-stream.txt"))
    assert mns.all_messages() == []
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    monkeypatch.setenv("remediationTopic", REMEDIATIONS)
    invoke(load_event("noncompliance-oss-stream.txt"))
    [message] = published(mns, REMEDIATIONS)
    assert (message["notification"], message["bucket"]) == ("remediation", BUCKET)


def test_a_sweep_whose_settings_are_wrong_says_so_on_the_failure_topic(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptBuckets", "Config-Snapshot")
    result = run_sweep()
    assert result["status"] == "fail"
    [message] = published(mns, FAILURES)
    assert message["notification"] == "sweep"
    assert "exemptBuckets" in message["reason"]


def test_a_sweep_with_failing_buckets_sends_one_summary(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend
) -> None:
    config, oss = clouds
    rule = config.add_rule(RULE_NAME)
    for name in ("open-one", "open-two"):
        oss.create_bucket(name, REGION, "public-read")
    # OSS says another account owns it: never written, and someone must look.
    oss.create_bucket("not-ours", REGION, "public-read", owner_id="1111111111111111")
    config.add_results(rule, ["open-one", "open-two", "not-ours"], REGION)
    result = run_sweep()
    assert result["outcomes"] == {"remediated": 2, "failed": 1}
    [message] = published(mns, FAILURES)
    assert [b["bucket"] for b in message["buckets"]] == ["not-ours"]


def test_a_listed_bucket_gets_the_fix_of_its_rules_managed_rule(
    clouds: tuple[ConfigBackend, OssBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Config's listing of results names no managed rule; a policy rule configured by its
    # plain name must still get the policy fix, not the ACL one (which would report a
    # private-ACL bucket as already private and leave its anonymous policy in place).
    config, oss = clouds
    rule = config.add_rule("anonymous-policy-check")
    rule.source_identifier = POLICY_RULE
    anyone = {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"]}
    oss.create_bucket("leaky", REGION, "private").policy = json.dumps(
        {"Version": "1", "Statement": [anyone]}
    )
    config.add_results(rule, ["leaky"], REGION)
    monkeypatch.setenv("prepareRuleName", "anonymous-policy-check")
    result = run_sweep()
    assert result["outcomes"] == {"remediated": 1}
    assert oss.policy_of("leaky") is None


def test_a_late_failure_is_still_published_inside_the_functions_timeout(
    mns: MnsBackend, fake_oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The remediation uses most of a 4 s function, then an SMQ that does not answer must
    # not hold the handler past FC's timeout: the notification's time counts from the
    # invocation's start, not from the moment the remediation ended.
    import time

    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.latency = 0.9
    fake_oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
    mns.inject(Fault.delay(30), times=5)
    started = time.monotonic()
    result = json.loads(
        index.handler(load_event("noncompliance-oss-stream.txt"), fc_context(timeout=4))
    )
    elapsed = time.monotonic() - started
    assert result["outcome"] == "failed"
    assert elapsed < 4.0


ANYONE_READS = json.dumps(
    {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"]}],
    }
)


def test_a_bucket_two_rules_report_gets_both_fixes_from_the_sweep(
    clouds: tuple[ConfigBackend, OssBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once per bucket was once too few: the read rule's ACL fix stood in for the policy
    # rule's, and the anonymous policy stayed with a `success` summary.
    config, oss = clouds
    read = config.add_rule("read-rule")
    policy = config.add_rule("policy-rule")
    policy.source_identifier = POLICY_RULE
    oss.create_bucket("both-bucket", REGION, "public-read").policy = ANYONE_READS
    config.add_results(read, ["both-bucket"], REGION)
    config.add_results(policy, ["both-bucket"], REGION)
    monkeypatch.setenv("prepareRuleName", "read-rule,policy-rule")
    result = run_sweep()
    assert result["outcomes"] == {"remediated": 2}
    assert oss.acl_of("both-bucket") == "private"
    assert oss.policy_of("both-bucket") is None


def test_an_account_groups_rule_gets_the_fix_of_its_managed_rule_not_a_guess(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ACL fix, guessed, would make a write rule's public-read website private: the
    # group's rule is looked up (GetAggregateConfigRule), as the account's own rules are.
    config, oss = clouds
    write = config.add_rule(
        "group-write", rule_id="cr-writerule00000001", aggregator_id="ca-abcd1234"
    )
    write.source_identifier = "oss-bucket-public-write-prohibited"
    oss.create_bucket("public-site", REGION, "public-read")
    config.add_results(write, ["public-site"], REGION)
    monkeypatch.setenv("configAggregatorId", "ca-abcd1234")
    monkeypatch.setenv("prepareRuleName", "cr-writerule00000001")
    result = run_sweep()
    assert (result["status"], result["outcomes"]) == ("success", {"already_compliant": 1})
    assert oss.acl_of("public-site") == "public-read"
    assert "GetAggregateConfigRule" in config.operations()
    assert published(mns, FAILURES) == []
    # Bound to its managed rule, the same rule is swept with the same fix, no lookup.
    sweep.clear_rule_cache()
    config.calls.clear()
    monkeypatch.setenv("prepareRuleName", "cr-writerule00000001=oss-bucket-public-write-prohibited")
    assert run_sweep()["outcomes"] == {"already_compliant": 1}
    assert config.operations() == ["ListAggregateConfigRuleEvaluationResults"]
    assert oss.acl_of("public-site") == "public-read"


# -- a failure SMQ does not take at once ----------------------------------------------------


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "resource_repair.audit" and r.getMessage().startswith("{")
    ]


def test_a_failure_smq_refuses_three_times_is_still_delivered_and_says_so(
    mns: MnsBackend, fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    # A few seconds of 503s from SMQ used to lose the failure after its second try.
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
    mns.inject(Fault.error(503, "ServiceUnavailable"), times=3)
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    result = invoke(load_event("noncompliance-oss-stream.txt"))

    [message] = published(mns, FAILURES)
    assert (message["bucket"], message["outcome"]) == (BUCKET, "failed")
    assert mns.requests == 4
    assert result["notification"] == "delivered"
    [line] = audit_lines(caplog)
    assert (line["outcome"], line["notification"]) == ("failed", "delivered")


def test_a_failure_smq_never_takes_is_returned_and_logged_as_undelivered(
    mns: MnsBackend, fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    # Returned, not raised: FC would replay a fix that changed something and find nothing
    # to fix; the audit line is what a Log Service alert fires on.
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
    mns.inject(Fault.error(503, "ServiceUnavailable"), times=100)
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    result = invoke(load_event("noncompliance-oss-stream.txt"))

    assert mns.all_messages() == []
    assert (result["outcome"], result["notification"]) == ("failed", "undelivered")
    [line] = audit_lines(caplog)
    assert (line["bucket"], line["notification"]) == (BUCKET, "undelivered")
    assert "AccessDenied" in line["reason"]


def test_a_failure_with_no_failure_topic_is_undelivered_a_success_needs_no_message(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    caplog.set_level(logging.INFO, logger="resource_repair.audit")
    assert invoke(load_event("noncompliance-oss-stream.txt"))["notification"] == "none"
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
    assert invoke(load_event("noncompliance-oss-stream.txt"))["notification"] == "undelivered"
    assert [line["notification"] for line in audit_lines(caplog)] == ["none", "undelivered"]


# -- the sweep: every run tells of every bucket still failing -------------------------------


def test_each_sweep_publishes_again_a_bucket_still_failing(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend
) -> None:
    config, oss = clouds
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("not-ours", REGION, "public-read", owner_id="1111111111111111")
    oss.create_bucket("open-one", REGION, "public-read")
    config.add_results(rule, ["not-ours", "open-one"], REGION)

    first, second = run_sweep(), run_sweep()

    named = [[b["bucket"] for b in m["buckets"]] for m in published(mns, FAILURES)]
    assert named == [["not-ours"], ["not-ours"]]
    assert (first["notification"], second["notification"]) == ("delivered", "delivered")


def test_a_sweep_summary_smq_never_takes_is_logged_as_undelivered(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend, caplog: pytest.LogCaptureFixture
) -> None:
    config, oss = clouds
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("not-ours", REGION, "public-read", owner_id="1111111111111111")
    config.add_results(rule, ["not-ours"], REGION)
    mns.inject(Fault.error(503, "ServiceUnavailable"), times=100)
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    result = run_sweep()

    assert mns.all_messages() == []
    assert (result["status"], result["notification"]) == ("fail", "undelivered")
    [summary] = [line for line in audit_lines(caplog) if line["audit"] == "resource_repair_sweep"]
    assert summary["notification"] == "undelivered"


def test_a_sweep_whose_failures_smq_refuses_is_undelivered_though_its_remediations_went(
    clouds: tuple[ConfigBackend, OssBackend], mns: MnsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The remediation summary reaching its topic says nothing of the failures: the result
    # says delivered only when every message due was published.
    config, oss = clouds
    monkeypatch.setenv("failureTopic", "resource-repair-no-such-topic")
    monkeypatch.setenv("remediationTopic", REMEDIATIONS)
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("not-ours", REGION, "public-read", owner_id="1111111111111111")
    oss.create_bucket("open-one", REGION, "public-read")
    config.add_results(rule, ["not-ours", "open-one"], REGION)

    result = run_sweep()

    [remediated] = published(mns, REMEDIATIONS)
    assert [b["bucket"] for b in remediated["buckets"]] == ["open-one"]
    assert (result["status"], result["notification"]) == ("fail", "undelivered")
