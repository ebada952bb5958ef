"""The transport against servers that misbehave, on real loopback sockets: an answer broken
while it is read is a transient failure, no server holds the function past its timeout, and
no redirect is followed with the function's credentials."""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from resource_repair import oss_client
from resource_repair.errors import TransientOssError
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend
from resource_repair.testing.hostile_http import (
    Behaviour,
    CutBody,
    Delay,
    Honest,
    HostileHttpServer,
    Redirect,
    Stall,
    Trickle,
    hostile_oss_server,
    loopback_tls,
    recording_server,
)
from tests.conftest import BUCKET, REGION, Invoke, load_event

EVENT = load_event("noncompliance-oss-stream.txt")
RUNTIMES = ["python3.10", "python3.12"]

# A scaled-down function: FC's timeout of a few seconds, of which the handler keeps 2 s
# back for its audit line, so OSS requests get 2 s in all.
FUNCTION_TIMEOUT = 4
BUDGET = FUNCTION_TIMEOUT - 2.0
# What the handler may take beyond the budget: a thread switch and the audit line.
SLACK = 0.5
# Longest a hostile server misbehaves: it bounds how long the code before the fix took.
MISBEHAVE_FOR = 8.0

Serve = Callable[..., HostileHttpServer]


@pytest.fixture
def fake() -> OssBackend:
    """The fake OSS behind the hostile servers, with one public bucket."""
    backend = OssBackend()
    backend.create_bucket(BUCKET, REGION, "public-read")
    return backend


@pytest.fixture
def serve(
    fake: OssBackend, function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Serve]:
    """Start a hostile server in front of ``fake`` and point the function at it."""
    with contextlib.ExitStack() as stack:

        def start(
            script: Sequence[Behaviour] = (),
            then: Behaviour | None = None,
            tls: ssl.SSLContext | None = None,
        ) -> HostileHttpServer:
            server = stack.enter_context(
                hostile_oss_server(fake, script, then, misbehave_for=MISBEHAVE_FOR, tls=tls)
            )
            monkeypatch.setenv("ossEndpointOverride", server.url)
            return server

        yield start


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> Callable[[], list[dict[str, Any]]]:
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    def lines() -> list[dict[str, Any]]:
        return [
            json.loads(r.getMessage()) for r in caplog.records if r.name == "resource_repair.audit"
        ]

    return lines


def assert_handed_back_naming_the_bucket(audit_lines: list[dict[str, Any]]) -> None:
    assert len(audit_lines) == 1
    line = audit_lines[0]
    assert (line["outcome"], line["will_retry"]) == ("failed", True)
    assert (line["bucket"], line["region"]) == (BUCKET, REGION)
    assert "handing back to FC" in line["reason"]


def client_hung_up_soon(server: HostileHttpServer, seconds: float = 2.0) -> bool:
    """Whether every exchange's connection was closed by the client (within ``seconds``)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if all(x.client_hung_up is not None or x.finished for x in server.exchanges):
            return True
        time.sleep(0.05)
    return False


# -- 1. an answer broken while it is read ----------------------------------------------

BROKEN_READS: dict[str, tuple[Behaviour, dict[str, str]]] = {
    "chunked body cut mid-way": (CutBody(keep=40), {}),
    "connection reset in the body": (CutBody(keep=40, reset=True), {}),
    # The head arrives at once, then the body stalls past the per-read timeout.
    "read timeout in the body": (Stall(3.0), {"ossRequestTimeout": "0.5"}),
}


@pytest.mark.parametrize("name", BROKEN_READS)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_answer_broken_while_read_is_retried(
    serve: Serve,
    fake: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    runtime: str,
) -> None:
    behaviour, env = BROKEN_READS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = serve([behaviour])
    result = invoke(EVENT, runtime)
    assert result["outcome"] == "remediated"
    assert fake.acl_of(BUCKET) == "private"
    assert [x.method for x in server.exchanges] == ["GET", "GET", "PUT", "GET"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_error_document_broken_while_read_is_retried(
    serve: Serve, fake: OssBackend, invoke: Invoke, runtime: str
) -> None:
    """oss2 reads the body of an error answer outside its own error wrapping too."""
    fake.fail_next(1, operation="PutBucketAcl", status=503, code="ServiceUnavailable")
    server = serve([Honest(), CutBody(keep=60)])  # the read honest, the 503 cut
    assert invoke(EVENT, runtime)["outcome"] == "remediated"
    assert [x.method for x in server.exchanges] == ["GET", "PUT", "PUT", "GET"]


@pytest.mark.parametrize("name", BROKEN_READS)
def test_an_answer_broken_every_time_is_handed_back_naming_the_bucket(
    serve: Serve,
    fake: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    audit: Callable[[], list[dict[str, Any]]],
    name: str,
) -> None:
    behaviour, env = BROKEN_READS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = serve(then=behaviour)
    with pytest.raises(TransientOssError, match="GetBucketInfo"):
        invoke(EVENT, timeout=60)
    assert len(server.exchanges) == 3  # ossMaxAttempts
    assert fake.acl_of(BUCKET) == "public-read"
    assert_handed_back_naming_the_bucket(audit())


# -- 2. the function's timeout holds whatever the server does ----------------------------

SLOW_SERVERS: dict[str, tuple[Behaviour, dict[str, str], str]] = {
    # One byte at a time: each socket read succeeds long before oss2's per-read timeout.
    "trickled answer": (Trickle(0.3), {}, "python3.10"),
    "trickled body": (Trickle(0.3, body_only=True), {}, "python3.12"),
    # ossRequestTimeout is longer than the whole budget: the first attempt is cut to it.
    "no answer at all": (Stall(20.0, after_head=False), {"ossRequestTimeout": "30"}, "python3.10"),
    # Each answer comes well inside ossRequestTimeout, but three of them do not fit.
    "slow answers": (Delay(1.2), {"ossRequestTimeout": "3"}, "python3.12"),
}


@pytest.mark.parametrize("name", SLOW_SERVERS)
def test_no_server_holds_the_function_past_its_timeout(
    serve: Serve,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    audit: Callable[[], list[dict[str, Any]]],
    name: str,
) -> None:
    behaviour, env, runtime = SLOW_SERVERS[name]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = serve(then=behaviour)
    started = time.monotonic()
    try:
        outcome: object = invoke(EVENT, runtime, timeout=FUNCTION_TIMEOUT)
    except TransientOssError as exc:
        outcome = exc
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET + SLACK < FUNCTION_TIMEOUT
    # Cut off by the attempt's time limit, or by the socket's read timeout cut to the same.
    assert isinstance(outcome, TransientOssError)
    assert_handed_back_naming_the_bucket(audit())
    # The abandoned request did not linger: its connection was closed, not left reading.
    assert client_hung_up_soon(server)


def test_no_request_starts_when_no_time_is_left(
    serve: Serve, invoke: Invoke, audit: Callable[[], list[dict[str, Any]]]
) -> None:
    server = serve()
    with pytest.raises(TransientOssError, match="no time left"):
        invoke(EVENT, timeout=2)  # all of it kept back for the audit line
    assert server.exchanges == []
    assert_handed_back_naming_the_bucket(audit())


def test_the_shared_session_serves_the_next_delivery_after_an_abandoned_request(
    serve: Serve, fake: OssBackend, invoke: Invoke
) -> None:
    server = serve([Trickle(0.3)])
    with pytest.raises(TransientOssError):
        invoke(EVENT, timeout=FUNCTION_TIMEOUT)
    session = oss_client.shared_session()
    assert client_hung_up_soon(server)
    assert invoke(EVENT, timeout=FUNCTION_TIMEOUT)["outcome"] == "remediated"
    assert oss_client.shared_session() is session
    assert fake.acl_of(BUCKET) == "private"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_over_tls_too_an_abandoned_request_is_cut_and_the_next_one_served(
    serve: Serve,
    fake: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    runtime: str,
) -> None:
    """OSS speaks HTTPS: the abandoned request's TLS connection is shut down as well."""
    context, trusted = loopback_tls(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(trusted))
    server = serve([Trickle(0.3, body_only=True)], tls=context)
    assert server.url.startswith("https://")
    started = time.monotonic()
    with pytest.raises(TransientOssError, match="TimedOut"):
        invoke(EVENT, runtime, timeout=FUNCTION_TIMEOUT)
    assert time.monotonic() - started < BUDGET + SLACK
    assert client_hung_up_soon(server)
    assert invoke(EVENT, runtime, timeout=FUNCTION_TIMEOUT)["outcome"] == "remediated"
    assert fake.acl_of(BUCKET) == "private"


# -- 3. redirects ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize(
    ("operation", "honest_before"), [("GetBucketInfo", 0), ("PutBucketAcl", 1)]
)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_redirect_is_a_permanent_failure_and_is_not_followed(
    serve: Serve,
    fake: OssBackend,
    invoke: Invoke,
    status: int,
    operation: str,
    honest_before: int,
    runtime: str,
) -> None:
    with recording_server() as elsewhere:
        serve([Honest()] * honest_before + [Redirect(status, f"{elsewhere.url}/{BUCKET}/")])
        result = invoke(EVENT, runtime)
    assert result["outcome"] == "failed"
    assert f"{operation} refused" in result["reason"]
    assert f"HTTP {status}" in result["reason"]
    assert elsewhere.exchanges == []
    assert elsewhere.connections == 0
    assert fake.acl_of(BUCKET) == "public-read"
    assert DEFAULT_CREDENTIALS.security_token not in json.dumps(result)
