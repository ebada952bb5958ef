"""Settings that would misdirect the function, refused by the handler as FC calls it: an
endpoint override that would leave the machine (or is malformed) and a mistyped exemption
each fail the delivery with a clear reason before any request; a private override works
only when explicitly allowed."""

from __future__ import annotations

import logging

import pytest

from resource_repair.testing import OssBackend
from tests.conftest import BUCKET, REGION, Invoke, load_event

EVENT = load_event("noncompliance-oss-stream.txt")
RUNTIMES = ["python3.10", "python3.12"]
BEFORE_EVALUATION = "2020-07-22T08:00:00.000Z"


def public_bucket(oss: OssBackend) -> None:
    oss.create_bucket(BUCKET, REGION, "public-read", creation_date=BEFORE_EVALUATION)


# -- ossEndpointOverride ---------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://100.100.100.200:80", "metadata service"),
        ("http://192.168.0.10:9000", "private address"),
        ("http://10.1.2.3:9000", "private address"),
        ("http://47.88.1.1:80", "not a loopback or private address"),
        ("http://169.254.169.254:80", "link-local"),
        ("http://127.0.0.1:x", "needs a port"),
        ("http://127.0.0.1:99999", "needs a port"),
        ("http://[::1]:9000", "IPv6"),
    ],
)
def test_an_override_that_would_leave_the_machine_or_is_malformed_fails_before_any_request(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    runtime: str,
    value: str,
    problem: str,
) -> None:
    monkeypatch.setenv("ossEndpointOverride", value)
    public_bucket(fake_oss)
    with caplog.at_level(logging.INFO):
        result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert result["reason"].startswith("configuration: ossEndpointOverride=")
    assert problem in result["reason"]
    assert "internal error" not in result["reason"]
    assert fake_oss.calls == []
    assert fake_oss.refused == []
    assert fake_oss.acl_of(BUCKET) == "public-read"
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged


def test_a_private_override_works_when_explicitly_allowed(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Docker recipe for `s local invoke`: the fake runs on the host's bridge address."""
    monkeypatch.setenv("ossEndpointOverride", "http://172.17.0.1:9000")
    monkeypatch.setenv("ossEndpointOverrideAllowPrivate", "true")
    public_bucket(fake_oss)
    result = invoke(EVENT)
    assert result["outcome"] == "remediated"
    assert all(call.url.startswith("http://172.17.0.1:9000/") for call in fake_oss.calls)


# -- exemptBuckets ---------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(
    "entry", ["Config-Snapshot", f"{BUCKET}.oss-{REGION}.aliyuncs.com", f"oss://{BUCKET}"]
)
def test_a_mistyped_exemption_fails_loudly_instead_of_making_the_bucket_private(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    runtime: str,
    entry: str,
) -> None:
    monkeypatch.setenv("exemptBuckets", f"website-assets, {entry}")
    public_bucket(fake_oss)
    result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "exemptBuckets entry" in result["reason"]
    assert entry in result["reason"]
    assert fake_oss.calls == []
    assert fake_oss.acl_of(BUCKET) == "public-read"
