"""An ``aliyun`` CLI profile for the command-line tools: a role profile whose AssumeRole
fails is one line and exit 1, never the SDK's retries with the signed URL in clear."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from resource_repair.cli import main
from resource_repair.testing.sts import StsBackend, handle_sts_request

PROFILE_KEY_ID = "LTAIProfileKeyIdDoNotLog01"
PROFILE_SECRET = "ProfileSecretDoNotLog0123456"


@pytest.fixture
def role_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A RamRoleArn profile in ~/.aliyun/config.json (HOME in tmp_path); its name."""
    folder = tmp_path / ".aliyun"
    folder.mkdir()
    profile = {
        "name": "dev-role",
        "mode": "RamRoleArn",
        "access_key_id": PROFILE_KEY_ID,
        "access_key_secret": PROFILE_SECRET,
        "ram_role_arn": "acs:ram::1234567890123456:role/resource-repair-dev",
        "ram_session_name": "resource-repair",
        "expired_seconds": 900,
    }
    (folder / "config.json").write_text(json.dumps({"current": "dev-role", "profiles": [profile]}))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("ALIBABA_CLOUD_STS_REGION", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    return "dev-role"


def run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; capfd, since the SDK writes to stderr on its own."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capfd.readouterr()
    return code, captured.out, captured.err


def assert_no_signed_request(text: str) -> None:
    for leaked in (PROFILE_KEY_ID, PROFILE_SECRET, "Signature=", "Traceback"):
        assert leaked not in text


def test_a_role_profile_whose_sts_cannot_be_reached_is_one_line_and_exit_1(
    role_profile: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def no_such_host(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    code, out, err = run(["whoami", "--profile", role_profile], capfd)
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert f"profile {role_profile!r}: cannot reach STS" in line
    assert_no_signed_request(err)


@pytest.fixture
def sts_over_requests() -> Iterator[StsBackend]:
    """The fake STS behind ordinary ``requests``, which alibabacloud-credentials uses."""
    backend = StsBackend()

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return handle_sts_request(backend, str(request.method), str(request.url), request.body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(r".*"), callback=answer)
        yield backend


def test_a_role_profile_refused_by_sts_is_one_line_naming_the_code_and_exit_1(
    role_profile: str, sts_over_requests: StsBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    # The profile's key is unknown to STS: AssumeRole is refused.
    code, out, err = run(["whoami", "--profile", role_profile], capfd)
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert "STS AssumeRole refused: InvalidAccessKeyId.NotFound (HTTP 404" in line
    assert sts_over_requests.calls == [PROFILE_KEY_ID]
    assert_no_signed_request(err)


def test_a_missing_profile_is_a_usage_error_in_one_line(
    role_profile: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["whoami", "--profile", "no-such-profile"], capfd)
    assert code == 2
    [line] = err.splitlines()
    assert "no-such-profile" in line


def config_text(home: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """``text`` as the aliyun CLI's config.json of a HOME in ``home``."""
    (home / ".aliyun").mkdir(exist_ok=True)
    (home / ".aliyun" / "config.json").write_text(text, encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))


def _config(home: Path, document: object, monkeypatch: pytest.MonkeyPatch) -> None:
    config_text(home, monkeypatch, json.dumps(document))


def test_a_key_that_is_not_text_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    profile = {"name": "ak", "mode": "AK", "access_key_id": "LTAI5tKey", "access_key_secret": 12345}
    _config(tmp_path, {"profiles": [profile]}, monkeypatch)
    code, out, err = run(["whoami", "--profile", "ak"], capfd)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "is not text" in line


@pytest.mark.parametrize("document", [["not", "a", "config"], {"profiles": "none"}, "text"])
def test_a_file_that_is_not_the_cli_config_is_said_so_not_blamed_on_sts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    document: object,
) -> None:
    _config(tmp_path, document, monkeypatch)
    code, _, err = run(["whoami", "--profile", "dev-role"], capfd)
    assert code == 2
    [line] = err.splitlines()
    assert "not the aliyun CLI's" in line
    assert "STS" not in line


@pytest.mark.parametrize(
    "command", [["whoami"], ["doctor"], ["setup"]], ids=lambda command: command[0]
)
def test_a_role_profile_is_not_exchanged_at_the_real_sts_when_a_fake_one_is_named(
    role_profile: str,
    sts_over_requests: StsBackend,
    capfd: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    code, _, err = run(
        [*command, "--profile", role_profile, "--sts-endpoint", "127.0.0.1:9"], capfd
    )
    assert code == 2
    assert "--sts-endpoint" in err
    assert "mode RamRoleArn" in err
    assert sts_over_requests.calls == []  # the profile's keys went nowhere
    assert_no_signed_request(err)
