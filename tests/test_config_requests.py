"""One Config request: none starts that the time left cannot hold, a bare 503 is throttling,
and the waits between attempts grow. Through aliyunsdkcore, against a loopback server."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Mapping

import pytest

from resource_repair import config_api
from resource_repair.config_api import ConfigClient, ConfigOutOfTimeError
from resource_repair.credentials import Credentials
from resource_repair.retry import Deadline
from resource_repair.testing import DEFAULT_CREDENTIALS
from resource_repair.testing.hostile_http import HostileHttpServer
from tests.conftest import RULE_ID

KEYS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
PAGE = json.dumps({"RequestId": "r-ok", "EvaluationResults": {"EvaluationResultList": []}})


class ScriptedConfig:
    """Answers its first requests with the statuses and bodies given, then an empty page."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers = list(answers)

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, answer = self.answers.pop(0) if self.answers else (200, PAGE.encode())
        return status, {"Content-Type": "application/json"}, answer


def error(code: str) -> bytes:
    return json.dumps({"Code": code, "Message": "try later", "RequestId": "r-err"}).encode()


@pytest.fixture
def config() -> Iterator[Callable[..., tuple[ConfigClient, HostileHttpServer]]]:
    servers: list[HostileHttpServer] = []

    def start(
        *answers: tuple[int, bytes], deadline: Deadline | None = None
    ) -> tuple[ConfigClient, HostileHttpServer]:
        server = HostileHttpServer(ScriptedConfig(*answers)).__enter__()
        servers.append(server)
        host, port = server.server_address[:2]
        client = ConfigClient(
            KEYS, "international", endpoint=f"{host}:{port}", deadline=deadline or Deadline(600)
        )
        return client, server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_no_request_starts_that_the_time_left_cannot_hold(
    config: Callable[..., tuple[ConfigClient, HostileHttpServer]],
) -> None:
    client, server = config(deadline=Deadline(config_api._REQUEST_SECONDS - 1))
    with pytest.raises(ConfigOutOfTimeError):
        list(client.non_compliant_buckets(RULE_ID))
    assert server.exchanges == []


def test_a_bare_503_is_throttling_and_waits_a_second_or_more(
    config: Callable[..., tuple[ConfigClient, HostileHttpServer]], waits: list[float]
) -> None:
    # A 503 from a load balancer in front of Config carries no Config error code.
    client, server = config((503, b""))
    assert list(client.non_compliant_buckets(RULE_ID)) == []
    assert len(server.exchanges) == 2
    [wait] = waits
    assert wait >= 1.0  # OSS and Config count their limits per second


@pytest.mark.parametrize(
    ("answer", "longest_waits"),
    [
        ((500, error("InternalError")), [0.5, 1.0, 2.0, 4.0]),
        ((503, error("ServiceUnavailable")), [2.0, 4.0, 8.0, 16.0]),
    ],
)
def test_the_wait_grows_with_every_attempt(
    config: Callable[..., tuple[ConfigClient, HostileHttpServer]],
    waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
    answer: tuple[int, bytes],
    longest_waits: list[float],
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the jitter's longest
    client, server = config(*[answer] * 4)
    assert list(client.non_compliant_buckets(RULE_ID)) == []
    assert len(server.exchanges) == 5
    assert waits == longest_waits
