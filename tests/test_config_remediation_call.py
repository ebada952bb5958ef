"""Cloud Config's own call of the function (custom remediation): the array of resources of
Alibaba's published sample, end to end through aliyunsdkcore and oss2 against the fake Config
and the fake OSS. The payload is a pointer: only Config's own answer is acted on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import config_remediation, sweep
from resource_repair.audit import parse_record
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    OssBackend,
    fc_context,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import ConfigBackend, mock_config_api
from tests.conftest import (
    BUCKET,
    OPTIONAL_RESULT_KEYS,
    REGION,
    RESULT_KEYS,
    RULE_NAME,
    event_names,
    load_event,
)

SAMPLE = "config-remediation-sample-oss-plain.json"
OTHER_ACCOUNT = "1111111111111111"
CONFIG_READ = "ListResourceEvaluationResults"
# The bucket Config evaluated existed before the evaluation the fake records "now".
CREATED_BEFORE = "2020-01-01T00:00:00.000Z"


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    sweep.clear_rule_cache()
    yield
    sweep.clear_rule_cache()


@pytest.fixture
def clouds(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend]]:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("dryRun", "false")
    with mock_config_api() as config, mock_oss() as oss:
        yield config, oss


@pytest.fixture
def config(clouds: tuple[ConfigBackend, OssBackend]) -> ConfigBackend:
    return clouds[0]


@pytest.fixture
def oss(clouds: tuple[ConfigBackend, OssBackend]) -> OssBackend:
    return clouds[1]


def call(event: bytes | str, runtime: str = "python3.10") -> dict[str, Any]:
    result = index.handler(event, fc_context(runtime, timeout=60))
    assert isinstance(result, str)
    parsed: dict[str, Any] = json.loads(result)
    return parsed


def entries(count: int, bucket: str = BUCKET, **extra: Any) -> str:
    return json.dumps(
        [
            {
                "accountId": DEFAULT_ACCOUNT_ID,
                "resourceId": bucket if count == 1 else f"{bucket}-{i:04d}",
                "resourceType": "ACS::OSS::Bucket",
                "regionId": REGION,
                **extra,
            }
            for i in range(count)
        ]
    )


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "resource_repair.audit" and r.getMessage().startswith("{")
    ]


def reported(config: ConfigBackend, oss: OssBackend, bucket: str = BUCKET) -> None:
    """The scene of a button press in Config's console: a public bucket Config reports."""
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket(bucket, REGION, "public-read", creation_date=CREATED_BEFORE)
    config.add_results(rule, [bucket], REGION)


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
@pytest.mark.parametrize("as_text", [False, True])
def test_the_sample_payload_for_a_public_bucket_is_remediated_after_config_confirms(
    config: ConfigBackend,
    oss: OssBackend,
    caplog: pytest.LogCaptureFixture,
    runtime: str,
    as_text: bool,
) -> None:
    reported(config, oss)
    caplog.set_level(logging.INFO)
    event = load_event(SAMPLE)
    result = call(event.decode() if as_text else event, runtime)
    assert (result["status"], result["form"]) == ("success", "config-remediation")
    [entry] = result["entries"]
    assert (entry["outcome"], entry["bucket"], entry["rule"]) == ("remediated", BUCKET, RULE_NAME)
    assert entry["will_retry"] is False
    assert oss.acl_of(BUCKET) == "private"
    # Config was asked first, about that bucket only; then the rule's fix ran.
    asked = [c for c in config.calls if c.action == CONFIG_READ]
    assert [(c.params["ResourceId"], c.params["Region"]) for c in asked] == [(BUCKET, REGION)]
    assert config.operations()[0] == CONFIG_READ
    [line] = audit_lines(caplog)
    assert parse_record(json.dumps(line)) == line  # restore can read it back
    assert line["time"].endswith("Z")
    assert line["bucket_created"] == CREATED_BEFORE
    assert (line["delivery_form"], line["outcome"], line["bucket"]) == (
        "config-remediation",
        "remediated",
        BUCKET,
    )


def test_extra_keys_and_a_text_account_id_are_tolerated(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    event = json.loads(entries(1, configRuleId="cr-unknown", extra={"a": [1]}))
    event[0]["accountId"] = str(event[0]["accountId"])
    result = call(json.dumps(event))
    assert [e["outcome"] for e in result["entries"]] == ["remediated"]


@pytest.mark.parametrize("compliance", [None, "COMPLIANT"])
def test_a_bucket_config_does_not_report_gets_no_oss_request(
    config: ConfigBackend, oss: OssBackend, compliance: str | None
) -> None:
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket(BUCKET, REGION, "public-read")
    if compliance:
        config.add_results(rule, [BUCKET], REGION, compliance=compliance)
    result = call(load_event(SAMPLE))
    [entry] = result["entries"]
    assert entry["outcome"] == "ignored"
    assert "NON_COMPLIANT under no rule in prepareRuleName" in entry["reason"]
    assert oss.calls == []
    assert oss.acl_of(BUCKET) == "public-read"


def test_a_result_under_a_rule_not_selected_gets_no_oss_request(
    config: ConfigBackend, oss: OssBackend
) -> None:
    other = config.add_rule("someone-elses-rule")
    oss.create_bucket(BUCKET, REGION, "public-read")
    config.add_results(other, [BUCKET], REGION)
    [entry] = call(load_event(SAMPLE))["entries"]
    assert entry["outcome"] == "ignored"
    assert "under no rule in prepareRuleName" in entry["reason"]
    assert oss.calls == []


@pytest.mark.parametrize(
    ("ignored", "reported_as"),
    [
        ("ResourceId", {"buckets": ["another-bucket"]}),
        ("Region", {"buckets": [BUCKET], "region": "cn-hangzhou"}),  # that name elsewhere
        ("ResourceAccountId", {"buckets": [BUCKET], "owner_id": OTHER_ACCOUNT}),
    ],
)
def test_config_answering_about_another_bucket_is_not_acted_on(
    config: ConfigBackend,
    oss: OssBackend,
    monkeypatch: pytest.MonkeyPatch,
    ignored: str,
    reported_as: dict[str, Any],
) -> None:
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket(BUCKET, REGION, "public-read")
    oss.create_bucket("another-bucket", REGION, "public-read")
    config.add_results(rule, **{"region": REGION, **reported_as})
    # A Config that ignored one of the filters asked for answers with another bucket's result.
    from resource_repair.testing.config import remediation_actions

    original = remediation_actions._HANDLERS[CONFIG_READ]

    def sloppy(backend: ConfigBackend, params: dict[str, str]) -> dict[str, Any]:
        if ignored == "ResourceId":
            return original(backend, {**params, "ResourceId": "another-bucket"})
        return original(backend, {k: v for k, v in params.items() if k != ignored})

    monkeypatch.setitem(remediation_actions._HANDLERS, CONFIG_READ, sloppy)
    [entry] = call(load_event(SAMPLE))["entries"]
    assert entry["outcome"] == "ignored"
    assert oss.calls == []


def test_a_bucket_created_since_the_evaluation_is_not_the_one_config_evaluated(
    config: ConfigBackend, oss: OssBackend
) -> None:
    """Config's evaluation time, not the payload's silence, dates the bucket: a private
    bucket of that name made since is reported as another bucket, not as fixed."""
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket(BUCKET, REGION, "private", creation_date="2030-01-01T00:00:00.000Z")
    config.add_results(rule, [BUCKET], REGION, evaluated_at_ms=1_600_000_000_000)
    [entry] = call(load_event(SAMPLE))["entries"]
    assert (entry["status"], entry["outcome"]) == ("fail", "bucket_replaced")
    assert "after Config's evaluation at 2020-09-13T12:26:41.000Z" in entry["reason"]
    assert oss.operations() == ["GetBucketInfo"]


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("config-remediation-sample-foreign-account-plain.json", "invalid_event"),
        ("config-remediation-sample-kms-plain.json", "ignored"),
        ("config-remediation-sample-hostile-region-plain.json", "invalid_event"),
        ("config-remediation-sample-hostile-bucket-name-plain.json", "invalid_event"),
    ],
)
def test_refused_entries_make_no_request_at_all(
    config: ConfigBackend, oss: OssBackend, name: str, outcome: str
) -> None:
    reported(config, oss)
    config.add_results(config.add_rule("other"), [BUCKET], REGION, owner_id=OTHER_ACCOUNT)
    [entry] = call(load_event(name))["entries"]
    assert entry["outcome"] == outcome, entry
    assert config.calls == []
    assert oss.calls == []
    assert oss.refused == []


def test_a_thousand_entries_act_on_ten_and_refuse_the_rest_with_a_reason(
    config: ConfigBackend, oss: OssBackend, caplog: pytest.LogCaptureFixture
) -> None:
    rule = config.add_rule(RULE_NAME)
    names = [f"{BUCKET}-{i:04d}" for i in range(1000)]
    for name in names:
        oss.create_bucket(name, REGION, "public-read", creation_date=CREATED_BEFORE)
    config.add_results(rule, names, REGION)
    caplog.set_level(logging.INFO)
    result = call(entries(1000))
    outcomes = [e["outcome"] for e in result["entries"]]
    assert outcomes == ["remediated"] * 10 + ["ignored"] * 990
    assert "only the first 10 entries" in result["entries"][10]["reason"]
    assert [c.action for c in config.calls].count(CONFIG_READ) == 10
    assert oss.operations().count("PutBucketAcl") == 10
    assert sum(oss.acl_of(n) == "private" for n in names) == 10
    assert len(audit_lines(caplog)) == 1000


def test_the_same_bucket_twice_is_asked_about_once(config: ConfigBackend, oss: OssBackend) -> None:
    reported(config, oss)
    event = json.loads(load_event(SAMPLE)) * 2
    outcomes = [e["outcome"] for e in call(json.dumps(event))["entries"]]
    assert outcomes == ["remediated", "ignored"]
    assert [c.action for c in config.calls].count(CONFIG_READ) == 1


def test_config_unavailable_is_the_entrys_result_never_a_raise(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    config.fail_next(100, action=CONFIG_READ)
    result = call(load_event(SAMPLE))
    [entry] = result["entries"]
    assert (entry["status"], entry["will_retry"]) == ("fail", True)
    assert "the sweep tries again" in entry["reason"]
    assert oss.calls == []


def test_one_entrys_unexpected_error_is_its_result_and_the_others_are_acted_on(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resource_repair import remediation

    names = [f"{BUCKET}-0000", f"{BUCKET}-0001"]
    for name in names:
        reported(config, oss, name)
    original = remediation.remediate_event

    def defect_on_the_first(event: Any, *args: Any, **kwargs: Any) -> Any:
        if event.bucket == names[0]:
            raise RuntimeError("a defect")
        return original(event, *args, **kwargs)

    monkeypatch.setattr(remediation, "remediate_event", defect_on_the_first)
    result = call(entries(2))
    assert result["status"] == "fail"
    assert [(e["bucket"], e["outcome"]) for e in result["entries"]] == [
        (names[0], "failed"),
        (names[1], "remediated"),
    ]
    assert "internal error: RuntimeError" in result["entries"][0]["reason"]
    assert oss.acl_of(names[1]) == "private"


def test_oss_unavailable_is_the_entrys_result_never_a_raise(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    oss.fail_next(100, status=503, code="ServiceUnavailable")
    [entry] = call(load_event(SAMPLE))["entries"]
    assert (entry["status"], entry["will_retry"]) == ("fail", True)
    assert oss.acl_of(BUCKET) == "public-read"


@pytest.mark.parametrize(
    "event",
    [b"[", "[1, 2]", "[[]]", "[]", '[{"resourceType": "ACS::OSS::Bucket"}]', "[" * 5000],
)
def test_malformed_arrays_are_results_with_reasons(
    config: ConfigBackend, oss: OssBackend, event: bytes | str
) -> None:
    result = call(event)
    assert result["entries"]
    for entry in result["entries"]:
        assert entry["outcome"] in ("invalid_event", "ignored")
        assert entry["reason"]
    assert config.calls == []
    assert oss.calls == []


def test_an_array_of_strings_is_refused_entry_by_entry(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    result = call(load_event("hostile-not-an-object-plain.json"))
    assert result["status"] == "fail"
    assert [e["reason"] for e in result["entries"]] == [
        "entry is a JSON str, expected an object"
    ] * 2
    assert config.calls == []
    assert oss.calls == []


def test_every_recorded_config_call_gives_well_formed_entries(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    names = event_names("config-remediation-")
    assert len(names) >= 5
    for name in names:
        result = call(load_event(name))
        assert result["status"] in ("success", "fail"), name
        for entry in result["entries"]:
            keys = set(entry)
            assert RESULT_KEYS | {"will_retry", "notification"} <= keys
            assert keys <= RESULT_KEYS | OPTIONAL_RESULT_KEYS | {"will_retry"}


def test_the_role_grants_the_read_this_needs() -> None:
    from resource_repair.tools.doctor.policy import required_actions

    assert set(config_remediation.PERMISSIONS) <= set(required_actions({}))
    hub = {"configAggregatorId": "ca-a4e6626a7a8c0046"}
    assert set(config_remediation.AGGREGATE_PERMISSIONS) <= set(required_actions(hub))


@pytest.mark.parametrize(
    "value",
    ["config.example.com:80", "10.0.0.1:9000", "127.0.0.1", "x", "127.0.0.1.example.com:80"],
)
def test_a_config_endpoint_off_this_machine_is_refused_before_any_request(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    reported(config, oss)
    monkeypatch.setenv("configEndpointOverride", value)
    [entry] = call(load_event(SAMPLE))["entries"]
    assert (entry["status"], entry["outcome"]) == ("fail", "failed")
    assert "configEndpointOverride" in entry["reason"]
    assert config.calls == []
    assert oss.calls == []


def test_in_an_account_group_the_groups_result_for_the_members_bucket_is_asked_for(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    """Hub mode: the member's bucket is confirmed with the account group's results
    (ListAggregateResourceEvaluationResults, the member's account), then fixed through the
    member's role; an outsider's entry makes no request."""
    from resource_repair import member_access
    from resource_repair.testing import DEFAULT_CREDENTIALS
    from resource_repair.testing.sts import mock_sts

    member, outsider, aggregator = "1111222233334444", "9999000011112222", "ca-a4e6626a7a8c0046"
    member_access.SESSIONS.clear()
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("dryRun", "false")
    monkeypatch.setenv(
        "prepareRuleName", "cr-5a0e0066a7d3001b8b7f=oss-bucket-public-read-prohibited"
    )
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", member)
    monkeypatch.setenv("configAggregatorId", aggregator)
    with mock_config_api() as config, mock_oss() as oss, mock_sts() as sts:
        sts.register(
            DEFAULT_CREDENTIALS,
            f"acs:ram::{DEFAULT_ACCOUNT_ID}:assumed-role/resource-repair-oss-acl/event",
        )
        for account in (member, outsider):
            sts.add_role(
                account,
                "resource-repair-member",
                f"acs:ram::{DEFAULT_ACCOUNT_ID}:role/resource-repair-oss-acl",
            )
        sts.serve_oss(oss)
        rule = config.add_rule("group-rule", "cr-5a0e0066a7d3001b8b7f", aggregator_id=aggregator)
        for owner, name in ((member, "member-site"), (outsider, "outsider-site")):
            oss.create_bucket(
                name, REGION, "public-read", owner_id=owner, creation_date=CREATED_BEFORE
            )
            config.add_results(rule, [name], REGION, owner_id=owner)
        event = json.loads(entries(1, bucket="member-site", accountId=member))
        event += json.loads(entries(1, bucket="outsider-site", accountId=outsider))
        result = call(json.dumps(event))
    member_access.SESSIONS.clear()
    first, second = result["entries"]
    assert (first["outcome"], first["owner_account"]) == ("remediated", member)
    assert second["outcome"] == "invalid_event"
    assert "memberAccounts" in second["reason"]
    [asked] = config.calls
    assert asked.action == "ListAggregateResourceEvaluationResults"
    assert (asked.params["AggregatorId"], asked.params["ResourceAccountId"]) == (aggregator, member)
    assert oss.acl_of("member-site") == "private"
    assert oss.acl_of("outsider-site") == "public-read"


def test_failures_reach_the_failure_topic_but_a_long_array_does_not_flood_it(
    config: ConfigBackend, oss: OssBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resource_repair.testing.mns import MnsBackend, fake_mns_server

    mns = MnsBackend()
    mns.create_topic("resource-repair-failures")
    with fake_mns_server(mns) as server:
        monkeypatch.setenv("failureTopic", "resource-repair-failures")
        monkeypatch.setenv("mnsEndpointOverride", server.url)
        reported(config, oss)
        oss.fail_next(1, status=403, code="AccessDenied", operation="PutBucketAcl")
        hostile = [{"resourceType": "ACS::OSS::Bucket", "resourceId": "x/y", "regionId": REGION}]
        result = call(json.dumps(json.loads(load_event(SAMPLE)) + hostile * 200))
        messages = [json.loads(m.body) for m in mns.messages("resource-repair-failures")]
        mns.release()
    entries_ = result["entries"]
    assert entries_[0]["outcome"] == "failed"
    assert entries_[0]["notification"] == "delivered"
    assert {e["notification"] for e in entries_[10:]} == {"none"}
    # The refused write, and the nine hostile entries within the limit: ten, not 201.
    assert len(messages) == 10
    assert "AccessDenied" in messages[0]["reason"]


def test_no_time_left_for_config_is_the_entrys_retry_not_an_oss_request(
    config: ConfigBackend, oss: OssBackend
) -> None:
    reported(config, oss)
    result = index.handler(load_event(SAMPLE), fc_context(timeout=5))
    [entry] = json.loads(result)["entries"]
    assert (entry["status"], entry["will_retry"]) == ("fail", True)
    assert "no time left" in entry["reason"]
    assert config.calls == []
    assert oss.calls == []
