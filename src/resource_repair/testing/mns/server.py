"""The fake MNS over HTTP on loopback, and a server that answers too slowly to wait for.

Point a notifier at either with its loopback-only endpoint override (``mnsEndpointOverride``).
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from resource_repair.testing.http_server import FakeHttpServer
from resource_repair.testing.mns.models import MnsBackend
from resource_repair.testing.mns.wire import handle_request

__all__ = ["SlowDripServer", "fake_mns_server"]


def fake_mns_server(backend: MnsBackend, host: str = "127.0.0.1", port: int = 0) -> FakeHttpServer:
    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return handle_request(backend, method, url, headers, body)

    def state() -> dict[str, Any]:
        return {
            "requests": backend.requests,
            "messages": {name: len(backend.messages(name)) for name in list(backend.topics)},
        }

    return _QuietServer(respond, state, host, port)


class _QuietServer(FakeHttpServer):
    def __enter__(self) -> _QuietServer:
        """Serve until the block ends; a short poll interval makes the end prompt (the
        default half second is paid by every test that starts a server)."""
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-mns", daemon=True
        ).start()
        return self

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a delayed answer is the point of a delay, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SlowDripServer:
    """Accepts a connection, reads the request, then sends a status line one byte every
    ``interval`` seconds, for at most ``duration`` seconds: a per-read socket timeout
    longer than ``interval`` never fires, so only a bound on the whole call ends it."""

    def __init__(self, interval: float = 0.2, duration: float = 30.0) -> None:
        self.interval = interval
        self.duration = duration
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="slow-drip", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(65536)
                waited = 0.0
                for byte in b"HTTP/1.1 201 Created\r\nX-Padding: " + b"x" * 10_000:
                    if self._stop.wait(self.interval) or waited >= self.duration:
                        return
                    waited += self.interval
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def __enter__(self) -> SlowDripServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()
