"""The fake OSS over real HTTP on loopback, for other processes: ``s local invoke`` in
Docker, benchmarks, or any client. Point the function at it with ``ossEndpointOverride``.

oss2 addresses buckets by path on IP endpoints (``http://127.0.0.1:9000/<bucket>/?acl``), so
the server serves path-style requests; a bucket is found in whichever region it was created.
``GET /_fake/state`` reports what the server has seen, for tests and benchmarks.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
from types import TracebackType
from typing import Any

from resource_repair.testing.oss.models import OssBackend
from resource_repair.testing.oss.wire import handle_request

STATE_PATH = "/_fake/state"


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, as OSS does, so connection reuse can be measured.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm on, each answer
    # would wait ~40 ms for the client's delayed ACK, which OSS never makes anyone do.
    disable_nagle_algorithm = True
    server: FakeOssHttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == STATE_PATH:
            self._reply(
                200, {"Content-Type": "application/json"}, json.dumps(self.server.state()).encode()
            )
            return
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        try:
            answer = handle_request(
                self.server.backend, self.command, url, dict(self.headers.items())
            )
        except Exception:  # an injected transport fault: drop the connection, as a reset would
            self.close_connection = True
            self.connection.close()
            return
        self._reply(answer.status, answer.headers, answer.body)

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark sends tens of thousands of requests."""


class FakeOssHttpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, backend: OssBackend, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.backend = backend
        self.connections = 0
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            self.connections += 1
        super().process_request(request, client_address)

    def state(self) -> dict[str, Any]:
        operations: dict[str, int] = {}
        for call in list(self.backend.calls):
            operations[call.operation] = operations.get(call.operation, 0) + 1
        return {
            "connections": self.connections,
            "requests": len(self.backend.calls),
            "operations": operations,
            "buckets": len(self.backend.buckets),
        }

    def __enter__(self) -> FakeOssHttpServer:
        """Serve in a background thread until the block ends."""
        self._thread = threading.Thread(target=self.serve_forever, name="fake-oss", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()
        self.server_close()
