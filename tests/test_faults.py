"""Faults, races and concurrency: each ends in the documented outcome, inside the timeout,
and without a credential in the DEBUG log."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import pytest
import requests

import index
from resource_repair.errors import TransientOssError
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend, fc_context
from tests.conftest import BUCKET, REGION, Invoke, load_event

EVENT = load_event("noncompliance-oss-stream.txt")
OLD = "2020-07-22T08:00:00.000Z"
SECRETS = (
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)


def public_bucket(oss: OssBackend) -> None:
    oss.create_bucket(BUCKET, REGION, "public-read", creation_date=OLD)


def delete_it(oss: OssBackend) -> None:
    oss.delete_bucket(BUCKET)


def expire(oss: OssBackend) -> None:
    oss.expire_credentials(DEFAULT_CREDENTIALS.access_key_id)


Scene = Callable[[OssBackend], None]

# name: (how the scene is set after the public bucket exists, outcome or None for a raise)
SCENARIOS: dict[str, tuple[Scene, str | None]] = {
    "throttled first read": (lambda o: o.fail_next(2, operation="GetBucketInfo"), "remediated"),
    "throttled write": (lambda o: o.fail_next(2, operation="PutBucketAcl"), "remediated"),
    "throttled read-back": (
        lambda o: o.before_next(
            "PutBucketAcl", lambda b: b.fail_next(2, operation="GetBucketInfo")
        ),
        "remediated",
    ),
    "throttled for good on the read": (lambda o: o.fail_next(99, operation="GetBucketInfo"), None),
    "throttled for good on the write": (lambda o: o.fail_next(99, operation="PutBucketAcl"), None),
    "throttled for good on the read-back": (
        lambda o: o.before_next(
            "PutBucketAcl", lambda b: b.fail_next(99, operation="GetBucketInfo")
        ),
        None,
    ),
    "connect timeouts": (lambda o: o.raise_next(requests.exceptions.ConnectTimeout("t"), 99), None),
    "read timeout once": (
        lambda o: o.raise_next(requests.exceptions.ReadTimeout("t")),
        "remediated",
    ),
    "connection reset once": (
        lambda o: o.raise_next(
            requests.exceptions.ConnectionError("reset by peer"), operation="PutBucketAcl"
        ),
        "remediated",
    ),
    "500 then fine": (lambda o: o.fail_next(1, status=500, code="InternalError"), "remediated"),
    "read-back denied": (
        lambda o: o.before_next(
            "PutBucketAcl",
            lambda b: b.fail_next(operation="GetBucketInfo", status=403, code="AccessDenied"),
        ),
        "failed",
    ),
    "write denied": (
        lambda o: o.fail_next(operation="PutBucketAcl", status=403, code="AccessDenied"),
        "failed",
    ),
    "write silently lost": (lambda o: o.drop_next_writes(), "failed"),
    "deleted before the first read": (delete_it, "bucket_not_found"),
    "deleted between read and write": (
        lambda o: o.before_next("PutBucketAcl", delete_it),
        "bucket_replaced",
    ),
    "token expired": (expire, None),
    "wrong credentials": (lambda o: o.credentials.clear(), "failed"),
}


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_fault_scenario(
    fake_oss: OssBackend, invoke: Invoke, caplog: pytest.LogCaptureFixture, name: str, runtime: str
) -> None:
    scene, expected = SCENARIOS[name]
    public_bucket(fake_oss)
    scene(fake_oss)
    with caplog.at_level(logging.DEBUG):
        if expected is None:
            with pytest.raises(TransientOssError):
                invoke(EVENT, runtime)
        else:
            assert invoke(EVENT, runtime)["outcome"] == expected
    assert len(fake_oss.calls) <= 3 * 3  # three calls, three attempts each at most
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [secret for secret in SECRETS if secret in logged]


def test_deleted_between_read_and_write_is_reported_not_claimed(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    public_bucket(fake_oss)
    fake_oss.before_next("PutBucketAcl", delete_it)
    result = invoke(EVENT)
    assert result["status"] == "fail"
    assert "re-created" in result["reason"]
    assert fake_oss.buckets[BUCKET].created_by_put_acl  # OSS's quirk, made visible


def test_bucket_owned_by_another_account_is_not_written(
    fake_oss: OssBackend, invoke: Invoke, function_env: dict[str, str]
) -> None:
    public_bucket(fake_oss)
    # The message names no account, so only OSS's own answer can tell.
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    del message["accountId"]
    del message["evaluationResultIdentifier"]["evaluationResultQualifier"]["resourceOwnerId"]
    result = invoke(json.dumps(message), account_id="2222222222222222")
    assert result["outcome"] == "failed"
    assert "owned by account 1698272328540001" in result["reason"]
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_persistent_trouble_ends_inside_the_function_timeout(
    fake_oss: OssBackend, function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real sleeps and a slow OSS: the handler gives up in time for FC to see the raise."""
    monkeypatch.setenv("ossRequestTimeout", "1")
    public_bucket(fake_oss)
    fake_oss.latency = 0.3
    fake_oss.fail_next(99, status=503, code="MetaOperationQpsLimitExceeded")
    started = time.monotonic()
    with pytest.raises(TransientOssError):
        index.handler(EVENT, fc_context(timeout=4))
    assert time.monotonic() - started < 4


def test_the_same_message_many_times_from_many_threads(
    fake_oss: OssBackend, function_env: dict[str, str]
) -> None:
    public_bucket(fake_oss)
    fake_oss.latency = 0.01
    outcomes: list[str] = []

    def deliver() -> None:
        outcomes.append(json.loads(index.handler(EVENT, fc_context()))["outcome"])

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 16
    assert set(outcomes) <= {"remediated", "already_private"}
    assert "remediated" in outcomes
    assert fake_oss.acl_of(BUCKET) == "private"
    assert not fake_oss.buckets[BUCKET].created_by_put_acl
    assert {call.acl_header for call in fake_oss.calls if call.operation == "PutBucketAcl"} == {
        "private"
    }
