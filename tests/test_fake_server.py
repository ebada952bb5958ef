"""The fake OSS over HTTP on loopback, and the function pointed at it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import oss2
import pytest

import index
from resource_repair.errors import ConfigurationError
from resource_repair.settings import Settings
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend, fc_context
from resource_repair.testing.http_server import FakeHttpServer
from resource_repair.testing.oss.server import STATE_PATH, fake_oss_server
from tests.conftest import BUCKET, REGION, load_event

EVENT = load_event("noncompliance-oss-stream.txt")


@pytest.fixture
def backend() -> OssBackend:
    return OssBackend()


@pytest.fixture
def server(backend: OssBackend) -> Iterator[FakeHttpServer]:
    with fake_oss_server(backend) as running:
        yield running


def test_oss2_talks_to_it_path_style(server: FakeHttpServer, backend: OssBackend) -> None:
    backend.create_bucket(BUCKET, REGION, "public-read")
    creds = DEFAULT_CREDENTIALS
    bucket = oss2.Bucket(
        oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token),
        server.url,
        BUCKET,
    )
    assert bucket.get_bucket_info().acl.grant == "public-read"
    bucket.put_bucket_acl("private")
    assert backend.acl_of(BUCKET) == "private"
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2.Bucket(bucket.auth, server.url, "missing-bucket").get_bucket_info()


def test_function_with_the_override_remediates_through_one_connection(
    server: FakeHttpServer,
    backend: OssBackend,
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ossEndpointOverride", server.url)
    for name in ("bucket-a", "bucket-b", "bucket-c"):
        backend.create_bucket(name, REGION, "public-read")
    for name in ("bucket-a", "bucket-b", "bucket-c"):
        message = json.loads(load_event("noncompliance-oss-plain.json"))
        qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
        qualifier["resourceId"] = qualifier["resourceName"] = name
        assert (
            json.loads(index.handler(json.dumps(message), fc_context()))["outcome"] == "remediated"
        )
    state = json.loads(urllib.request.urlopen(server.url + STATE_PATH, timeout=5).read())  # noqa: S310
    assert state["requests"] == 9
    assert state["operations"] == {"GetBucketInfo": 6, "PutBucketAcl": 3}
    assert server.connections == 1 + 1  # the function's one pooled connection, and ours just now


def test_wrong_credentials_are_still_refused_over_http(
    server: FakeHttpServer,
    backend: OssBackend,
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ossEndpointOverride", server.url)
    backend.create_bucket(BUCKET, REGION, "public-read")
    backend.credentials.clear()
    result = json.loads(index.handler(EVENT, fc_context()))
    assert result["outcome"] == "failed"
    assert "InvalidAccessKeyId" in result["reason"]


@pytest.mark.parametrize(
    "value",
    [
        "ftp://127.0.0.1:9000",
        "http://fake-oss.example.com:9000",
        "http://127.0.0.1:9000/x",
        "http://u:p@127.0.0.1:1",
        "127.0.0.1:9000",
    ],
)
def test_override_must_be_a_plain_ip_url(value: str) -> None:
    with pytest.raises(ConfigurationError, match="ossEndpointOverride"):
        Settings.from_env({"ossEndpointOverride": value})


def test_fake_oss_command_serves_until_stopped(
    tmp_path: Path, function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "resource_repair",
            "fake-oss",
            "--port",
            "0",
            "--bucket",
            f"{BUCKET}:{REGION}:public-read",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        monkeypatch.setenv("ossEndpointOverride", url)
        result = json.loads(index.handler(EVENT, fc_context()))
        assert (result["outcome"], result["acl_before"]) == ("remediated", "public-read")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert '"PutBucketAcl": 1' in err


def test_a_client_that_went_away_is_not_printed_but_a_fakes_own_error_is(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Printed, a gone client's BrokenPipeError lands in the stderr of whatever test runs
    # when the handler thread next writes (a test of one line on stderr then fails).
    server = FakeHttpServer(lambda *request: (200, {}, b""))
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ValueError("the fake's own bug")):
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.server_close()
    err = capfd.readouterr().err
    assert "BrokenPipeError" not in err
    assert "the fake's own bug" in err
