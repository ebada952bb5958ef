"""Serve a fake over real HTTP on loopback, for other processes to use.

Any fake with a transport-free ``respond(method, url, headers, body)`` can be served; the
fake OSS and the fake Config API both are. ``GET /_fake/state`` answers the fake's
``state()`` plus the number of TCP connections accepted, for tests and benchmarks.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import sys
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

STATE_PATH = "/_fake/state"

Responder = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, as the real services do, so reuse can be measured.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm on, each answer
    # would wait ~40 ms for the client's delayed ACK, which no real service makes anyone do.
    disable_nagle_algorithm = True
    server: FakeHttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == STATE_PATH:
            state = {"connections": self.server.connections, **self.server.state()}
            self._reply(200, {"Content-Type": "application/json"}, json.dumps(state).encode())
            return
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        try:
            status, headers, answer = self.server.respond(
                self.command, url, dict(self.headers.items()), body
            )
        except Exception:  # an injected transport fault: drop the connection, as a reset would
            self.close_connection = True
            self.connection.close()
            return
        self._reply(status, headers, answer)

    def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
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


class FakeHttpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(
        self,
        respond: Responder,
        state: Callable[[], dict[str, Any]] = dict,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.respond = respond
        self.state = state
        self.connections = 0
        self._count_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            self.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a command that ended, a test that gave up waiting) is no
        error of the fake's: socketserver would print its traceback into whatever runs next.
        Anything else is printed as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def __enter__(self) -> FakeHttpServer:
        """Serve in a background thread until the block ends."""
        threading.Thread(target=self.serve_forever, name="fake-http", daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()
        self.server_close()
