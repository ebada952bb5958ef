"""The handler end to end under the fake OSS: every outcome, every fault, exactly the
requests described in the README."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest
import requests

import index
from resource_repair import oss_client
from resource_repair.errors import TransientOssError
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend, fc_context
from tests.conftest import (
    BUCKET,
    OPTIONAL_RESULT_KEYS,
    REGION,
    RESULT_KEYS,
    RULE_ID,
    RULE_NAME,
    Invoke,
    event_names,
    load_event,
)

# Before every recorded event's evaluation: the bucket Config evaluated, not a newer one.
EVALUATED_BUCKET_CREATED = "2020-01-01T00:00:00.000Z"
READ_WRITE_READ = ["GetBucketInfo", "PutBucketAcl", "GetBucketInfo"]

NON_COMPLIANCE = [
    "noncompliance-oss-stream.txt",
    "noncompliance-oss-attrs.json",
    "noncompliance-oss-json-envelope.json",
    "noncompliance-oss-json-envelope-plain-message.json",
    "noncompliance-oss-plain.json",
    "noncompliance-oss-current-stream.txt",
    "noncompliance-oss-current-attrs.json",
    "noncompliance-oss-current-json-envelope.json",
    "noncompliance-oss-current-plain.json",
]


@pytest.mark.parametrize("name", NON_COMPLIANCE)
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_documented_message_in_every_form_makes_the_bucket_private(
    fake_oss: OssBackend, invoke: Invoke, name: str, runtime: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event(name), runtime)
    assert result["status"] == "success"
    assert result["outcome"] == "remediated"
    assert (result["acl_before"], result["acl_after"]) == ("public-read", "private")
    assert (result["bucket"], result["region"], result["rule"]) == (BUCKET, REGION, RULE_NAME)
    assert result["request_ids"] == [call.request_id for call in fake_oss.calls]
    assert fake_oss.acl_of(BUCKET) == "private"
    assert fake_oss.operations() == READ_WRITE_READ
    assert all(call.url.startswith(f"https://{BUCKET}.oss-{REGION}") for call in fake_oss.calls)
    assert all(call.signed_with == DEFAULT_CREDENTIALS.access_key_id for call in fake_oss.calls)


def test_public_read_write_is_made_private(fake_oss: OssBackend, invoke: Invoke) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read-write")
    result = invoke(load_event("noncompliance-oss-public-read-write-plain.json"))
    assert (result["outcome"], result["acl_before"]) == ("remediated", "public-read-write")
    assert fake_oss.acl_of(BUCKET) == "private"


def test_already_private_bucket_is_read_and_not_written(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    # Created before the recorded evaluation (2020): the very bucket Config evaluated.
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=EVALUATED_BUCKET_CREATED)
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("success", "already_private")
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_the_same_message_twice_writes_once(fake_oss: OssBackend, invoke: Invoke) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=EVALUATED_BUCKET_CREATED)
    event = load_event("noncompliance-oss-stream.txt")
    assert invoke(event)["outcome"] == "remediated"
    assert invoke(event)["outcome"] == "already_private"
    assert fake_oss.operations().count("PutBucketAcl") == 1


def test_missing_bucket_is_never_written_so_never_created(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("success", "bucket_not_found")
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.buckets == {}
    assert result["request_ids"] == [fake_oss.calls[0].request_id]


def test_dry_run_reads_and_reports_without_writing(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dryRun", "true")
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("success", "dry_run")
    assert "would change public-read to private" in result["reason"]
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.acl_of(BUCKET) == "public-read"


def test_exempt_bucket_gets_no_request(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptBuckets", f"website-assets, {BUCKET}")
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"], result["bucket"]) == ("success", "exempt", BUCKET)
    assert fake_oss.calls == []


@pytest.mark.parametrize(
    "name",
    [
        "change-notification-oss-plain.json",
        "change-notification-oss-stream.txt",
        "change-notification-oss-legacy-plain.json",
        "change-notification-oss-legacy-stream.txt",
        "snapshot-delivery-success-plain.json",
        "snapshot-delivery-success-stream.txt",
        "noncompliance-ecs-current-plain.json",
        "noncompliance-ecs-current-stream.txt",
        "compliant-oss-plain.json",
    ],
)
def test_other_messages_are_ignored_without_a_request(
    fake_oss: OssBackend, invoke: Invoke, name: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.create_bucket("test-bucket", "cn-beijing", "public-read")
    result = invoke(load_event(name))
    assert (result["status"], result["outcome"]) == ("success", "ignored")
    assert fake_oss.calls == []


@pytest.mark.parametrize(
    "rule_setting",
    [RULE_NAME, RULE_ID, "oss-bucket-public-read-prohibited", f"other-rule, {RULE_ID}"],
)
def test_rule_matches_by_name_id_or_managed_identifier(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, rule_setting: str
) -> None:
    monkeypatch.setenv("prepareRuleName", rule_setting)
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "remediated"


def test_localized_rule_names_match_exactly(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    event = load_event("noncompliance-oss-localized-rule-name-plain.json")
    monkeypatch.setenv("prepareRuleName", "OSS存储空间禁止公共读")
    assert invoke(event)["outcome"] == "remediated"


# A rule whose name holds the message's rule's name is another rule all the same.
@pytest.mark.parametrize("rule_setting", ["some-other-rule", f"{RULE_NAME}-copy"])
def test_another_rules_message_is_ignored(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, rule_setting: str
) -> None:
    monkeypatch.setenv("prepareRuleName", rule_setting)
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert result["outcome"] == "ignored"
    assert "not in prepareRuleName" in result["reason"]
    assert fake_oss.calls == []


def test_unset_rule_matches_nothing_and_warns(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("prepareRuleName")
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    with caplog.at_level(logging.WARNING):
        result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["outcome"], result["reason"]) == ("ignored", "prepareRuleName is not set")
    assert any("prepareRuleName is not set" in r.getMessage() for r in caplog.records)
    assert fake_oss.calls == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hostile-crafted-region-stream.txt", "not a valid region id"),
        ("hostile-crafted-bucket-name-plain.json", "not a valid OSS bucket name"),
        ("hostile-foreign-account-plain.json", "belongs to account 1111111111111111"),
        ("hostile-wrong-types-plain.json", "resourceId has type list"),
        ("hostile-identifier-not-object-plain.json", "not an object"),
        ("hostile-broken-base64-stream.txt", "neither JSON nor valid base64"),
        ("hostile-invalid-utf8.bin", "not UTF-8"),
        ("hostile-deeply-nested-plain.json", "nested too deeply"),
        # hostile-not-an-object-plain.json is an array, Config's own form of call:
        # test_config_remediation_call.py.
        ("hostile-envelope-message-not-string.json", "Message must be a non-empty string"),
    ],
)
def test_hostile_messages_are_invalid_with_no_request_at_all(
    fake_oss: OssBackend, invoke: Invoke, name: str, reason: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event(name))
    assert (result["status"], result["outcome"]) == ("fail", "invalid_event")
    assert reason in result["reason"]
    assert fake_oss.calls == []
    assert fake_oss.refused == []
    assert set(fake_oss.buckets) == {BUCKET}


def test_a_one_megabyte_delivery_is_invalid(fake_oss: OssBackend, invoke: Invoke) -> None:
    result = invoke(b"A" * 1_048_576)
    assert result["outcome"] == "invalid_event"
    assert fake_oss.calls == []


def test_access_denied_is_failed_with_code_and_request_id(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied", message="denied")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "PutBucketAcl refused: AccessDenied (HTTP 403)" in result["reason"]
    assert result["request_ids"][-1] == fake_oss.calls[-1].request_id
    assert fake_oss.operations() == ["GetBucketInfo", "PutBucketAcl"]


def test_a_write_that_does_not_stick_is_failed(fake_oss: OssBackend, invoke: Invoke) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.drop_next_writes()
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert result["acl_after"] == "public-read"
    assert "reads back as public-read" in result["reason"]
    assert fake_oss.operations() == READ_WRITE_READ


@pytest.mark.parametrize(
    "code", ["MetaOperationQpsLimitExceeded", "TotalQpsLimitExceeded", "ServiceUnavailable"]
)
def test_throttling_is_retried_then_succeeds(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float], code: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(2, operation="PutBucketAcl", status=503, code=code)
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert result["outcome"] == "remediated"
    assert fake_oss.operations() == ["GetBucketInfo", *["PutBucketAcl"] * 3, "GetBucketInfo"]
    assert len(waits) == 2


def test_persistent_throttling_raises_after_bounded_retries(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(100, status=503, code="MetaOperationQpsLimitExceeded")
    with pytest.raises(TransientOssError, match="MetaOperationQpsLimitExceeded"):
        invoke(load_event("noncompliance-oss-stream.txt"))
    assert fake_oss.operations() == ["GetBucketInfo"] * 3
    assert len(waits) == 2
    # Throttling waits out OSS's one-second window, doubling (retry.RetryPolicy.delay).
    assert 1.0 <= waits[0] <= 2.0 <= waits[1] <= 4.0
    assert fake_oss.acl_of(BUCKET) == "public-read"


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection reset by peer"),
    ],
)
def test_network_failures_raise_after_bounded_retries(
    fake_oss: OssBackend, invoke: Invoke, exc: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ossMaxAttempts", "4")
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.raise_next(exc, times=100)
    with pytest.raises(TransientOssError, match="RequestError"):
        invoke(load_event("noncompliance-oss-stream.txt"))
    assert len(fake_oss.calls) == 4


def test_no_retry_starts_that_the_function_timeout_cannot_hold(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(100, status=503)
    with pytest.raises(TransientOssError):
        invoke(load_event("noncompliance-oss-stream.txt"), timeout=3)
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert waits == []


def test_requests_carry_a_timeout_well_below_oss2s_default(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private")
    invoke(load_event("noncompliance-oss-stream.txt"))
    assert fake_oss.calls[0].timeout == 5.0


@pytest.mark.parametrize(
    ("mode", "function_region", "internal"),
    [
        ("auto", REGION, True),
        ("auto", "cn-hangzhou", False),
        ("public", REGION, False),
        ("internal", "cn-hangzhou", True),
    ],
)
def test_endpoint_mode(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    function_region: str,
    internal: bool,
) -> None:
    monkeypatch.setenv("ossEndpointMode", mode)
    fake_oss.create_bucket(BUCKET, REGION, "private")
    invoke(load_event("noncompliance-oss-stream.txt"), region=function_region)
    assert fake_oss.calls[0].internal is internal
    assert fake_oss.calls[0].url.startswith("https://")


def test_invalid_setting_fails_with_the_variable_named(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ossEndpointMode", "sideways")
    result = invoke(load_event("noncompliance-oss-stream.txt"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "ossEndpointMode='sideways'" in result["reason"]
    assert fake_oss.calls == []


def test_python312_without_credential_variables_fails_cleanly(
    fake_oss: OssBackend, function_env: dict[str, str]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = json.loads(
        index.handler(load_event("noncompliance-oss-stream.txt"), fc_context("python3.12"))
    )
    assert (result["outcome"], result["reason"]) == (
        "failed",
        "no credentials: the function has no role",
    )
    assert fake_oss.calls == []


def test_one_connection_pool_serves_every_invocation(fake_oss: OssBackend, invoke: Invoke) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    invoke(load_event("noncompliance-oss-stream.txt"))
    first = oss_client.shared_session()
    invoke(load_event("noncompliance-oss-stream.txt"))
    assert oss_client.shared_session() is first


def test_audit_line_has_the_result_and_fc_request_id(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    with caplog.at_level(logging.INFO, logger="resource_repair.audit"):
        result = invoke(load_event("noncompliance-oss-stream.txt"), request_id="req-123")
    lines = [r.getMessage() for r in caplog.records if r.name == "resource_repair.audit"]
    assert len(lines) == 1
    audit = json.loads(lines[0])
    assert audit["fc_request_id"] == "req-123"
    assert audit["delivery_form"] == "stream"
    assert {k: audit[k] for k in result} == result


def test_raw_event_is_logged_truncated(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        invoke(b"{" + b" " * 100_000 + b"}")
    received = [r.getMessage() for r in caplog.records if "delivery received" in r.getMessage()]
    assert len(received) == 1
    assert "(truncated)" in received[0]
    assert len(received[0]) < 1000


@pytest.mark.parametrize("scenario", ["remediated", "throttled", "denied"])
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_no_credential_reaches_the_logs_at_debug(
    fake_oss: OssBackend,
    invoke: Invoke,
    caplog: pytest.LogCaptureFixture,
    scenario: str,
    runtime: str,
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    if scenario == "throttled":
        fake_oss.fail_next(100, status=503)
    if scenario == "denied":
        fake_oss.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied")
    with caplog.at_level(logging.DEBUG), contextlib.suppress(TransientOssError):
        invoke(load_event("noncompliance-oss-stream.txt"), runtime)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "oss2.http" in {r.name for r in caplog.records}  # oss2 really logged its headers
    for secret in (
        DEFAULT_CREDENTIALS.access_key_secret,
        DEFAULT_CREDENTIALS.security_token,
        DEFAULT_CREDENTIALS.access_key_id,
    ):
        assert secret not in text
    assert "authorization': 'OSS" not in text


def test_every_recorded_event_gives_a_well_formed_result(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    # Config's own call (an array) has a result per entry: test_config_remediation_call.py.
    for name in (n for n in event_names("") if not load_event(n).lstrip().startswith(b"[")):
        result = invoke(load_event(name))
        assert result["status"] in ("success", "fail"), name
        assert RESULT_KEYS <= set(result) <= RESULT_KEYS | OPTIONAL_RESULT_KEYS
    assert fake_oss.refused == []
    assert not any(b.created_by_put_acl for b in fake_oss.buckets.values())


@pytest.mark.parametrize("region", [f"{REGION}.evil.example/#", "cn-" + "a" * 60])
def test_a_region_id_only_partly_well_formed_is_invalid_with_no_request(
    fake_oss: OssBackend, invoke: Invoke, region: str
) -> None:
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    message["evaluationResultIdentifier"]["evaluationResultQualifier"]["regionId"] = region
    result = invoke(json.dumps(message))
    assert (result["status"], result["outcome"]) == ("fail", "invalid_event")
    assert "not a valid region id" in result["reason"]
    assert fake_oss.calls == []
    assert fake_oss.refused == []


def test_a_well_formed_region_that_does_not_exist_fails_without_a_retry_storm(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float]
) -> None:
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    message["evaluationResultIdentifier"]["evaluationResultQualifier"]["regionId"] = "xx-nowhere-9"
    result = invoke(json.dumps(message))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "EndpointNotFound" in result["reason"]
    assert fake_oss.refused == [f"https://{BUCKET}.oss-xx-nowhere-9.aliyuncs.com/?bucketInfo="]
    assert waits == []


def test_an_enormous_rule_name_is_ignored_with_bounded_output(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    message["evaluationResultIdentifier"]["evaluationResultQualifier"]["configRuleName"] = (
        "r" * 50_000
    )
    result = invoke(json.dumps(message))
    assert result["outcome"] == "ignored"
    assert len(json.dumps(result)) < 2_000


# -- the write rule (oss-bucket-public-write-prohibited) --------------------------------

WRITE_RULE_NAME = "test-oss-bucket-public-write-prohibited"


@pytest.mark.parametrize(
    "name", ["noncompliance-write-current-stream.txt", "noncompliance-write-current-plain.json"]
)
def test_the_write_rule_takes_away_only_the_write(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("prepareRuleName", WRITE_RULE_NAME)
    fake_oss.create_bucket(
        BUCKET, REGION, "public-read-write", creation_date=EVALUATED_BUCKET_CREATED
    )
    result = invoke(load_event(name))
    assert (result["outcome"], result["remedy"]) == (
        "remediated",
        "oss-bucket-public-write-prohibited",
    )
    assert (result["acl_before"], result["acl_after"]) == ("public-read-write", "public-read")
    assert fake_oss.acl_of(BUCKET) == "public-read"
    assert [c.acl_header for c in fake_oss.calls if c.operation == "PutBucketAcl"] == [
        "public-read"
    ]


def test_the_write_rule_leaves_a_bucket_that_serves_reads_on_purpose(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("prepareRuleName", WRITE_RULE_NAME)
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=EVALUATED_BUCKET_CREATED)
    result = invoke(load_event("noncompliance-write-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("success", "already_compliant")
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_the_write_rule_goes_to_private_when_the_read_rule_is_configured_too(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "prepareRuleName", f"{WRITE_RULE_NAME},{RULE_NAME}=oss-bucket-public-read-prohibited"
    )
    fake_oss.create_bucket(
        BUCKET, REGION, "public-read-write", creation_date=EVALUATED_BUCKET_CREATED
    )
    result = invoke(load_event("noncompliance-write-current-plain.json"))
    assert (result["outcome"], result["acl_after"]) == ("remediated", "private")


def test_another_plain_rule_name_does_not_make_the_write_rule_go_to_private(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain name may be the policy rule: a bucket that serves reads keeps serving them.
    monkeypatch.setenv("prepareRuleName", f"{WRITE_RULE_NAME},my-policy-rule")
    fake_oss.create_bucket(
        BUCKET, REGION, "public-read-write", creation_date=EVALUATED_BUCKET_CREATED
    )
    result = invoke(load_event("noncompliance-write-current-plain.json"))
    assert (result["outcome"], result["acl_after"]) == ("remediated", "public-read")


@pytest.mark.parametrize(
    ("rule_names", "acl"),
    [
        (f"{WRITE_RULE_NAME}=oss-bucket-public-write-prohibited", "public-read"),
        (WRITE_RULE_NAME, "private"),  # a plain name: the ACL fix, as the sample did
    ],
)
def test_an_older_write_rule_message_gets_the_configured_entrys_remedy(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    rule_names: str,
    acl: str,
) -> None:
    monkeypatch.setenv("prepareRuleName", rule_names)
    fake_oss.create_bucket(
        BUCKET, REGION, "public-read-write", creation_date=EVALUATED_BUCKET_CREATED
    )
    assert invoke(load_event("noncompliance-write-legacy-plain.json"))["outcome"] == "remediated"
    assert fake_oss.acl_of(BUCKET) == acl
