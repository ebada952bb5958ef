"""A hostile or broken server on the other end of a call."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping

import pytest

import index
from resource_repair.credentials import Credentials
from resource_repair.errors import TransientOssError
from resource_repair.notify import Notified, Notifier
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.testing import fc_context
from resource_repair.testing.hostile_http import Answer, Delivery, HostileHttpServer
from resource_repair.testing.http_server import Responder
from tests.conftest import load_event

# How much the flooding server offers at most: far more than any answer we read.
OFFERED = 256 * 1024 * 1024
CHUNK = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)


@dataclasses.dataclass
class Flood:
    """A 200 with a chunked body that never ends (up to OFFERED), sent as fast as the
    client reads it; ``sent`` counts the most body bytes one client took."""

    sent: int = 0

    def answer(
        self, respond: Responder, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
        return Answer(head + b"Transfer-Encoding: chunked\r\n\r\n", b"")

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        if not out.send(answer.head):
            return False
        sent = 0
        while sent < OFFERED and out.send(CHUNK):
            sent += len(CHUNK)
            self.sent = max(self.sent, sent)
        return False


def test_an_endless_answer_is_not_read_into_memory(
    function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # oss2 reads a whole answer before parsing it: without a bound on its size, a server
    # that never ends its body fills the function's memory (a gigabyte in seconds here)
    # long before the attempt's time runs out, and FC kills the instance, audit line unsent.
    flood = Flood()
    caplog.set_level(logging.INFO, logger="resource_repair.audit")
    with HostileHttpServer(lambda *_: (500, {}, b""), [], flood, misbehave_for=30) as server:
        monkeypatch.setenv("ossEndpointOverride", server.url)
        monkeypatch.setenv("ossMaxAttempts", "1")
        with pytest.raises(TransientOssError) as raised:
            index.handler(load_event("noncompliance-oss-plain.json"), fc_context(timeout=20))
    assert flood.sent < 32 * 1024 * 1024
    assert "larger than" in str(raised.value)
    [line] = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "resource_repair.audit"
    ]
    assert line["will_retry"] is True


def test_an_endless_smq_answer_is_not_read_into_memory() -> None:
    # The MNS SDK reads the whole answer with http.client, as oss2 does with requests.
    flood = Flood()
    keys = Credentials("STS.flood-key-id", "flood-secret-0000", "flood-token-0000")
    with HostileHttpServer(lambda *_: (500, {}, b""), [], flood, misbehave_for=30) as server:
        environ = {"failureTopic": "repair-failures", "mnsEndpointOverride": server.url}
        notifier = Notifier.from_env(environ, keys, "cn-hangzhou", "1234567890123456")
        sent = notifier.report_outcome(Report(Outcome.FAILED, "x", bucket="b"), "r", Deadline(10))
    assert sent is Notified.UNDELIVERED
    assert flood.sent < 32 * 1024 * 1024
