"""One Config request: none starts that the time left cannot hold, a bare 503 is throttling,
and the waits between attempts grow. Through aliyunsdkcore, against a loopback server."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Mapping

import pytest

from resource_repair import config_api
from resource_repair.config_api import ConfigClient, ConfigOutOfTimeError, ConfigPaginationError
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


def results_page(buckets: list[str], token: str = "") -> tuple[int, bytes]:
    """One page of ListConfigRuleEvaluationResults: ``buckets`` NON_COMPLIANT, then ``token``."""
    listed = [
        {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ResourceId": bucket,
                    "RegionId": "ap-southeast-1",
                    "ResourceType": "ACS::OSS::Bucket",
                    "ConfigRuleId": RULE_ID,
                }
            }
        }
        for bucket in buckets
    ]
    page = {"EvaluationResultList": listed, "NextToken": token}
    return 200, json.dumps({"RequestId": "r-page", "EvaluationResults": page}).encode()


def test_an_empty_page_now_and_then_is_followed_to_the_end_of_the_listing(
    config: Callable[..., tuple[ConfigClient, HostileHttpServer]],
) -> None:
    # Config may answer an empty page with a token; only several in a row mean a loop.
    pages = [results_page([f"bucket-{n}"], f"t{2 * n}") for n in range(4)]
    empty = [results_page([], f"t{2 * n + 1}") for n in range(4)]
    client, server = config(*[page for pair in zip(pages, empty, strict=True) for page in pair])
    listed = [event.bucket for event in client.non_compliant_buckets(RULE_ID)]
    assert listed == ["bucket-0", "bucket-1", "bucket-2", "bucket-3"]
    assert len(server.exchanges) == 9  # eight pages, and the last one's token answered empty


def test_a_rule_listing_whose_pages_repeat_stops_with_a_reason(
    config: Callable[..., tuple[ConfigClient, HostileHttpServer]],
) -> None:
    # Pages that bring back rules listed already, under a TotalCount that never comes.
    rules = {"ConfigRuleList": [{"ConfigRuleId": RULE_ID, "ConfigRuleName": "r"}]}
    page = json.dumps({"ConfigRules": {**rules, "TotalCount": 10**6}}).encode()
    client, server = config(*[(200, page)] * 20)
    with pytest.raises(ConfigPaginationError, match="repeated rules listed before"):
        list(client.rules())
    assert len(server.exchanges) == 2
