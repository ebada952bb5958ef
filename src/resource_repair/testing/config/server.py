"""The fake Config API over HTTP, for ``backfill --config-endpoint`` in benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resource_repair.testing.config.models import ConfigBackend
from resource_repair.testing.config.wire import handle_config_request
from resource_repair.testing.http_server import FakeHttpServer


def fake_config_server(
    backend: ConfigBackend, host: str = "127.0.0.1", port: int = 0
) -> FakeHttpServer:
    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        reply = handle_config_request(backend, method, url, body)
        return reply.status, reply.headers, reply.body

    def state() -> dict[str, Any]:
        return {"requests": len(backend.calls)}

    return FakeHttpServer(respond, state, host, port)
