"""Every network call ends within the time its invocation has, whatever the server does.

Config (the sweep's listing), STS (hub mode's AssumeRole), SMQ (a failure's notification)
and the FC API (``remote-invoke``) each answer here from a loopback server that trickles
its answer a byte at a time, which no per-read socket timeout notices: the handler, the
sweep and the command still end in time, the audit line written. The real endpoints' names
are pointed at loopback (and a certificate made for them), so that the SDKs speak HTTPS to
the hosts they would really use.

Scaled down like tests/test_transport.py: a request to Config or STS may take 3 s here,
not 15 s, and the functions' timeouts are a few seconds.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import index
from resource_repair import config_api, member_access
from resource_repair.credentials import Credentials
from resource_repair.errors import TransientOssError
from resource_repair.testing import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, fc_context
from resource_repair.testing.hostile_http import (
    Behaviour,
    Honest,
    HostileHttpServer,
    Trickle,
    loopback_tls,
)
from resource_repair.tools import remote
from resource_repair.tools.caller import CloudServiceError
from tests.conftest import RULE_ID, load_event

# aliyunsdkcore's vendored urllib3 on TLS, and FC 3.0's SDK: their concern.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning"),
]

CONFIG_HOST = "config.ap-southeast-1.aliyuncs.com"
STS_HOST = "sts.aliyuncs.com"
FC_HOST = f"{DEFAULT_ACCOUNT_ID}.ap-southeast-1.fc.aliyuncs.com"
MEMBER = "1111222233334444"
KEYS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
# What one Config or STS request may take here (15 s in a deployment).
REQUEST_SECONDS = 3.0
# A byte every half second: far below every per-read timeout in play.
TRICKLE = Trickle(0.5)
# How long a trickling server keeps at it: what the code before the fix took.
MISBEHAVE_FOR = 12.0
# What a handler may take beyond its bound: thread switches, the audit line.
SLACK = 1.0

Respond = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]
Serve = Callable[..., HostileHttpServer]

SWEEP_REQUEST = b'{"sweep": "run"}'  # what a sweep run by hand is sent


def answering(document: object, status: int = 200) -> Respond:
    """A responder that answers every request with ``document`` as JSON."""
    body = json.dumps(document).encode()

    def respond(
        method: str, url: str, headers: Mapping[str, str], request_body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, body

    return respond


EMPTY_PAGE = answering({"RequestId": "r-1", "EvaluationResults": {"EvaluationResultList": []}})
NO_SESSION = answering({"RequestId": "r-2", "Credentials": {}})


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """Start an HTTPS server on loopback that the SDKs reach under a real endpoint's name:
    that name resolves to the server (every other name to nothing), and the server's
    certificate, made for it, is the one the SDKs trust."""
    names: dict[str, int] = {}
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            address = ("127.0.0.1", names[host])
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]
        if host in ("127.0.0.1", "localhost"):
            return resolve(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    servers: list[HostileHttpServer] = []

    def start(
        host: str,
        respond: Respond,
        script: list[Behaviour],
        server_names: list[str | None] | None = None,
    ) -> HostileHttpServer:
        context, trusted = loopback_tls(tmp_path, names=[host])
        if server_names is not None:  # the names clients ask for in TLS (SNI)
            context.sni_callback = lambda _socket, name, _context: server_names.append(name)
        for variable in ("ALIBABA_CLOUD_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
            monkeypatch.setenv(variable, str(trusted))  # aliyunsdkcore's, requests'
        # FC 3.0's SDK hands requests verify=True, which reads only the default bundle.
        monkeypatch.setattr("requests.adapters.DEFAULT_CA_BUNDLE_PATH", str(trusted))
        server = HostileHttpServer(
            respond, script, Honest(), misbehave_for=MISBEHAVE_FOR, tls=context
        ).__enter__()
        servers.append(server)
        names[host] = server.server_address[1]
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def scaled_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_api, "_REQUEST_SECONDS", REQUEST_SECONDS)
    monkeypatch.setattr(member_access, "_REQUEST_SECONDS", REQUEST_SECONDS)
    member_access.SESSIONS.clear()


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> Callable[[], list[dict[str, Any]]]:
    caplog.set_level(logging.INFO, logger="resource_repair.audit")

    def lines() -> list[dict[str, Any]]:
        return [
            json.loads(r.getMessage()) for r in caplog.records if r.name == "resource_repair.audit"
        ]

    return lines


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    try:
        result: object = call()
    except Exception as exc:
        result = exc
    return result, time.monotonic() - started


def member_message() -> bytes:
    """Cloud Config's documented message, about a bucket of the member account."""
    document = json.loads(load_event("noncompliance-oss-plain.json"))
    qualifier = document["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier["resourceOwnerId"] = MEMBER
    document["accountId"] = MEMBER
    return json.dumps(document).encode()


@pytest.fixture
def hub_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", MEMBER)


@pytest.fixture
def sweep_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("prepareRuleName", RULE_ID)  # an id: the listing is the first request
    # Single 0.5 s attempts: one bucket fits the short sweeps below (else none could start,
    # and the sweep would refuse to).
    monkeypatch.setenv("ossRequestTimeout", "0.5")
    monkeypatch.setenv("ossMaxAttempts", "1")


# -- Config: the sweep's listing ---------------------------------------------------------


def test_a_trickling_config_answer_ends_the_sweep_in_time_with_its_summary(
    serve: Serve, sweep_env: None, audit: Callable[[], list[dict[str, Any]]]
) -> None:
    # A 16 s sweep keeps 12 s for its notifications and its return: 4 s to work in.
    serve(CONFIG_HOST, EMPTY_PAGE, [TRICKLE])
    output, took = timed(lambda: index.sweep(SWEEP_REQUEST, fc_context("python3.10", timeout=16)))
    assert took < 4.0 + SLACK
    assert isinstance(output, str)
    result = json.loads(output)
    [rule] = result["rules"]
    assert (result["status"], result["complete"], rule["complete"]) == ("fail", False, False)
    assert "no answer in time" in rule["error"]
    [summary] = [line for line in audit() if line.get("audit") == "resource_repair_sweep"]
    assert summary["rules"] == result["rules"]


def test_a_deeply_nested_config_answer_fails_the_rule_with_a_reason(
    serve: Serve, sweep_env: None
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    serve(CONFIG_HOST, lambda *_: (200, {"Content-Type": "application/json"}, nested), [])
    result = json.loads(index.sweep(SWEEP_REQUEST, fc_context("python3.10", timeout=60)))
    [rule] = result["rules"]
    assert result["status"] == "fail"
    assert "internal error" not in json.dumps(result)
    assert "nested too deeply" in rule["error"]


def test_config_is_asked_for_by_name_in_tls_on_every_runtime(serve: Serve, sweep_env: None) -> None:
    # aliyunsdkcore's vendored urllib3 takes SNI for missing on Python 3.12 (it imports
    # ssl.wrap_socket, which 3.12 removed), and would ask the endpoint for no name at all.
    server_names: list[str | None] = []
    serve(CONFIG_HOST, EMPTY_PAGE, [], server_names)
    result = json.loads(index.sweep(SWEEP_REQUEST, fc_context("python3.10", timeout=60)))
    assert result["status"] == "success"
    assert server_names == [CONFIG_HOST]


# -- STS: hub mode's AssumeRole ------------------------------------------------------------


def test_a_trickling_sts_answer_hands_the_delivery_back_in_time_with_its_audit_line(
    serve: Serve, hub_env: None, audit: Callable[[], list[dict[str, Any]]]
) -> None:
    # An 8 s handler keeps 2 s back for its audit line: 6 s to work in.
    server = serve(STS_HOST, NO_SESSION, [TRICKLE])
    outcome, took = timed(lambda: index.handler(member_message(), fc_context(timeout=8)))
    assert took < 6.0 + SLACK
    assert isinstance(outcome, TransientOssError)  # handed back to FC, which retries
    assert "AssumeRole" in str(outcome)
    [line] = audit()
    assert (line["outcome"], line["will_retry"], line["bucket"]) == (
        "failed",
        True,
        "config-snapshot",
    )
    assert len(server.exchanges) == 1  # one attempt: no time for another


def test_a_deeply_nested_sts_answer_fails_the_delivery_with_a_reason(
    serve: Serve, hub_env: None
) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    serve(STS_HOST, lambda *_: (200, {"Content-Type": "application/json"}, nested), [])
    result = json.loads(index.handler(member_message(), fc_context(timeout=60)))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "nested too deeply" in result["reason"]
    assert "no OSS request made" in result["reason"]


# -- SMQ: a failure's notification ----------------------------------------------------------


def test_a_trickling_smq_ends_the_notification_in_time_after_the_audit_line(
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    audit: Callable[[], list[dict[str, Any]]],
) -> None:
    with HostileHttpServer(
        answering({}), [TRICKLE, TRICKLE], misbehave_for=MISBEHAVE_FOR
    ) as server:
        monkeypatch.setenv("failureTopic", "alerts")
        monkeypatch.setenv("mnsEndpointOverride", server.url)
        hostile = load_event("hostile-crafted-region-stream.txt")  # a `fail`: it notifies
        output, took = timed(lambda: index.handler(hostile, fc_context(timeout=4)))
    assert took < 4.0
    assert isinstance(output, str)
    assert json.loads(output)["status"] == "fail"
    assert [line["outcome"] for line in audit()] == ["invalid_event"]
    assert server.exchanges  # the publication was tried, and given up in time


# -- the FC API: remote-invoke ----------------------------------------------------------------


@pytest.mark.parametrize("fc_version", [2, 3])
def test_a_trickling_fc_api_ends_remote_invoke_in_time(
    serve: Serve, monkeypatch: pytest.MonkeyPatch, fc_version: int
) -> None:
    # Connecting (1 s here), then the function's timeout (1 s) and FC's margin (none here).
    monkeypatch.setattr(remote, "CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(remote, "_ANSWER_MARGIN", 0, raising=False)
    serve(FC_HOST, answering({"status": "success"}), [Trickle(0.3)])
    invocation = remote.RemoteInvocation(
        event=b"{}",
        account_id=DEFAULT_ACCOUNT_ID,
        region="ap-southeast-1",
        service="resource_repair",
        function="oss_repair_acl_trigger",
        function_timeout=1,
        fc_version=fc_version,
    )
    outcome, took = timed(
        lambda: remote.remote_invoke(invocation, KEYS, io.StringIO(), io.StringIO())
    )
    assert took < 2.0 + SLACK
    assert isinstance(outcome, CloudServiceError)
    assert str(outcome) == f"cannot reach {FC_HOST}: no complete answer within 2s"
