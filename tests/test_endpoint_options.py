"""Every command-line option that points a command at a local fake takes a loopback
``host:port`` and nothing more: requests to a fake carry the signature and the token in clear."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from resource_repair.cli import main
from resource_repair.endpoints import (
    EndpointOptionError,
    loopback_host_port,
    loopback_url,
)
from resource_repair.testing import DEFAULT_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]

ACCEPTED = ["127.0.0.1:9000", "127.8.9.10:1", "localhost:65535"]
REFUSED = [
    "localhost:80@example.com",  # a URL parser: user "localhost", password "80", host example.com
    "127.0.0.1:80@example.com",
    "user@127.0.0.1:80",
    "http://127.0.0.1:80",
    "127.0.0.1:80/path",
    "127.0.0.1:80?x=1",
    "127.0.0.1:80#frag",
    "127.0.0.1",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:+80",
    "127.1:80",
    "0127.0.0.1:80",
    "10.0.0.1:80",
    "example.com:80",
    "localhost.example.com:80",
    "[::1]:80",
    " 127.0.0.1:80",
    "127.0.0.1:80\n",
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_a_loopback_host_and_port_is_accepted(value: str) -> None:
    assert loopback_host_port(value, "--x") == value
    assert loopback_url(value, "--x") == f"http://{value}"


@pytest.mark.parametrize("value", REFUSED)
def test_anything_but_a_loopback_host_and_port_is_refused(value: str) -> None:
    with pytest.raises(EndpointOptionError, match=r"--x .* must be a loopback host:port"):
        loopback_host_port(value, "--x")


# Each option as a user types it, with what else its command needs to get as far as a request.
OPTIONS = {
    "whoami --sts-endpoint": ["whoami", "--sts-endpoint"],
    "remote-invoke --sts-endpoint": [
        "remote-invoke",
        "-t",
        str(ROOT / "template.yml"),
        "-e",
        "{}",
        "--sts-endpoint",
    ],
    "backfill --sts-endpoint": [
        "backfill",
        "--rule-name",
        "r",
        "-t",
        str(ROOT / "template.yml"),
        "--sts-endpoint",
    ],
    "backfill --config-endpoint": [
        "backfill",
        "--rule-name",
        "r",
        "-t",
        str(ROOT / "template.yml"),
        "--account-id",
        "1234567890123456",
        "--config-endpoint",
    ],
    "doctor --sts-endpoint": ["doctor", "-t", str(ROOT / "template.yml"), "--sts-endpoint"],
    "doctor --config-endpoint": ["doctor", "-t", str(ROOT / "template.yml"), "--config-endpoint"],
    "doctor --mns-endpoint": ["doctor", "-t", str(ROOT / "template.yml"), "--mns-endpoint"],
    "restore --endpoint": ["restore", "--report", "REPORT", "--endpoint"],
    "setup --sts-endpoint": ["setup", "-t", str(ROOT / "template.yml"), "--sts-endpoint"],
    "setup --config-endpoint": ["setup", "-t", str(ROOT / "template.yml"), "--config-endpoint"],
    "setup --ram-endpoint": ["setup", "-t", str(ROOT / "template.yml"), "--ram-endpoint"],
}


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Any]:
    """Every host a command tried to look up or connect to (none is reached)."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEFAULT_CREDENTIALS.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEFAULT_CREDENTIALS.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", DEFAULT_CREDENTIALS.security_token)
    monkeypatch.chdir(tmp_path)
    tried: list[Any] = []

    def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
        tried.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_connect(sock: socket.socket, address: Any) -> None:
        tried.append(address)
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    return tried


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("value", ["localhost:80@example.com", "user@127.0.0.1:80"])
def test_every_endpoint_option_refuses_a_foreign_host_before_any_request(
    option: str,
    value: str,
    connections: list[Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "report.jsonl"
    report.write_text("")
    argv = [str(report) if arg == "REPORT" else arg for arg in OPTIONS[option]] + [value]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert option.split()[-1] in line
    assert "must be a loopback host:port" in line
    assert connections == []
