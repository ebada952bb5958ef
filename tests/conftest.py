"""Shared helpers: recorded events, the function's environment and a way to invoke it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import index
from resource_repair import retry
from resource_repair.testing import fc_context, fc_environment
from resource_repair.testing.fc3_api import Fc3ApiBackend, mock_fc3_api
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.sts import mock_sts

EVENTS = Path(__file__).parent / "events"
RULE_NAME = "test-oss-bucket-public-read-prohibited"
RULE_ID = "cr-610ad6e0007300a80001"
BUCKET = "config-snapshot"
REGION = "ap-southeast-1"
# The fields of every result and audit line, as the README documents them.
RESULT_KEYS = frozenset(
    [
        "status",
        "outcome",
        "reason",
        "bucket",
        "region",
        "rule",
        "acl_before",
        "acl_after",
        "request_ids",
        "remedy",
    ]
)
# ... and those written only when they have something to say (Report._extras).
OPTIONAL_RESULT_KEYS = frozenset(
    [
        "policy_before",
        "policy_after",
        "policy_deleted",
        "public_access_block_before",
        "public_access_block_after",
        "bucket_created",
        "owner_account",
        "assumed_role",
        "session_key_id",
        # The event function's: whether the failure (or remediation) reached SMQ.
        "notification",
    ]
)


def load_event(name: str) -> bytes:
    """A recorded delivery, as the bytes FC would hand the handler."""
    raw = (EVENTS / name).read_bytes()
    # The stream files end with a newline for the sake of editors; FC's body has none.
    return raw.rstrip(b"\n") if name.endswith(".txt") else raw


def event_names(prefix: str) -> list[str]:
    return sorted(p.name for p in EVENTS.iterdir() if p.name.startswith(prefix))


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The deployed function's environment: the rule configured, nothing else set."""
    for name in (
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "FC_REGION",
        "prepareRuleName",
        "dryRun",
        "exemptBuckets",
        "ossEndpointMode",
        "ossRequestTimeout",
        "ossMaxAttempts",
        "exemptTag",
        "blockPublicAccess",
        "failureTopic",
        "remediationTopic",
        "notifyMailSender",
        "mnsEndpointOverride",
    ):
        monkeypatch.delenv(name, raising=False)
    env = {"prepareRuleName": RULE_NAME}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits the retry loop asked for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(retry, "_sleep", recorded.append)
    return recorded


Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def invoke(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> Invoke:
    """Call ``index.handler`` as FC would, and return the parsed result."""

    def call(event: bytes | str, runtime: str = "python3.10", **context: Any) -> dict[str, Any]:
        if runtime == "python3.12":
            for key, value in fc_environment().items():
                monkeypatch.setenv(key, value)
        result = index.handler(event, fc_context(runtime, **context))
        assert isinstance(result, str)
        return json.loads(result)

    return call


# Property tests: a meaningful number of examples in CI, many more on demand.
settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that no fake intercepts fails to resolve, as on a machine without a network:
    nothing can reach a real endpoint. Loopback still resolves, for the loopback fakes."""
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def run_as_a_new_user(
    commands: str, cwd: Path, path: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``commands`` in bash, as a user on a fresh clone runs them: no cloud keys in the
    environment, no virtual environment active, ``path`` as PATH. They must end well and
    print no traceback."""
    script = "set -euo pipefail\n" + commands + "\nwait\n"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALIBABA_CLOUD_", "ALIYUN_")) and key != "VIRTUAL_ENV"
    }
    environment["PATH"] = path
    done = subprocess.run(  # noqa: S603 - our own examples
        ["/bin/bash", "-c", script],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    return done


@pytest.fixture(params=[2, 3], ids=["fc2", "fc3"])
def fc(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, offline: None
) -> Iterator[tuple[int, FcApiBackend | Fc3ApiBackend]]:
    """The fake FC API of each version (2.0, then 3.0), with the fake STS the tools ask
    for the caller's account."""
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    mock = mock_fc_api() if request.param == 2 else mock_fc3_api()
    with mock as backend, mock_sts():
        yield request.param, backend


def deploy_event_function(
    backend: FcApiBackend | Fc3ApiBackend, behaviour: Callable[[bytes], FunctionAnswer]
) -> None:
    """The templates' event function on the fake FC API of either version."""
    if isinstance(backend, FcApiBackend):
        backend.deploy("resource_repair", "oss_repair_acl_trigger", behaviour)
    else:
        backend.deploy("oss_repair_acl_trigger", behaviour)


@pytest.fixture(autouse=True)
def no_unforeseen_error(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """cli.main turns an error nobody foresaw into one line and exit 1, so a test that only
    checks for one line and no traceback would pass over a crash: here it fails the test."""
    from resource_repair import cli

    if request.node.get_closest_marker("unforeseen_error"):
        return
    original = cli._remember_environment_keys

    def caught() -> None:
        original()
        pytest.fail(f"cli.main caught an error nobody foresaw:\n{traceback.format_exc()}")

    monkeypatch.setattr(cli, "_remember_environment_keys", caught)
