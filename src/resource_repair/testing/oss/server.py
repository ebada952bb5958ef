"""The fake OSS over HTTP. Point the function at it with ``ossEndpointOverride``.

oss2 addresses buckets by path on IP endpoints (``http://127.0.0.1:9000/<bucket>/?acl``), so
the fake serves path-style requests there; a bucket is found in whichever region it was
created. ``GET /_fake/state`` adds the buckets per ACL and the requests refused by the QPS
limit, so a benchmark can count what is still public without a request of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resource_repair.testing.http_server import STATE_PATH, FakeHttpServer
from resource_repair.testing.oss.models import OssBackend
from resource_repair.testing.oss.wire import handle_request

__all__ = ["STATE_PATH", "fake_oss_server"]


def fake_oss_server(backend: OssBackend, host: str = "127.0.0.1", port: int = 0) -> FakeHttpServer:
    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        answer = handle_request(backend, method, url, headers, body=body)
        return answer.status, answer.headers, answer.body

    def state() -> dict[str, Any]:
        with backend.lock:  # a consistent picture while requests are being served
            calls = list(backend.calls)
            buckets = list(backend.buckets.values())
        operations: dict[str, int] = {}
        for call in calls:
            operations[call.operation] = operations.get(call.operation, 0) + 1
        acls: dict[str, int] = {}
        for bucket in buckets:
            acls[bucket.acl] = acls.get(bucket.acl, 0) + 1
        return {
            "requests": len(calls),
            "operations": operations,
            "buckets": len(buckets),
            "acls": acls,
            "qps_limit": backend.qps_limit,
            "throttled": backend.throttle.throttled if backend.throttle else 0,
        }

    return FakeHttpServer(respond, state, host, port)
