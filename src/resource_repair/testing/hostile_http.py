"""Loopback HTTP servers that misbehave as a network or a hostile endpoint can.

A :class:`HostileHttpServer` answers like any fake served by :mod:`http_server` (it asks a
``respond`` callable, e.g. :func:`oss_responder` for the fake OSS), but each request is
delivered by a :class:`Behaviour`: all at once, late, one byte at a time, cut off half-way,
or not at all but a redirect. A script picks the behaviour of the first requests and a
default the rest, so a test can break the first attempt and let the retry through.

Every wait here is bounded and ends early when the server stops or the client hangs up,
and every exchange is recorded, including when the client hung up, so that a test can tell
whether a request it gave up on was really torn down. Plain HTTP or, with
:func:`loopback_tls`, HTTPS as OSS speaks it. Loopback only.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.server
import ipaddress
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from resource_repair.testing.http_server import FakeHttpServer, Responder
from resource_repair.testing.oss.models import OssBackend
from resource_repair.testing.oss.wire import handle_request

# Longest any behaviour keeps a connection busy by default, so that nothing hangs for good.
MISBEHAVE_FOR = 120.0


@dataclasses.dataclass
class Exchange:
    """One request the server received and what became of it."""

    method: str
    path: str
    headers: dict[str, str]
    behaviour: str
    started: float
    """time.monotonic() when the request had been read."""
    finished: float | None = None
    client_hung_up: float | None = None
    """time.monotonic() when the client was seen to close the connection, if it did."""


@dataclasses.dataclass(frozen=True)
class Answer:
    """A response, rendered: the head (status line and headers) and the body."""

    head: bytes
    body: bytes


class Delivery(Protocol):
    """What a behaviour may do with the client's connection."""

    def send(self, data: bytes) -> bool:
        """Write ``data``; False once the client has hung up."""
        ...

    def idle(self, seconds: float) -> bool:
        """Wait up to ``seconds``; False early if the client hangs up or the server stops."""
        ...

    def reset(self) -> None:
        """End the connection with a TCP reset instead of an orderly close."""
        ...


class Behaviour(Protocol):
    def answer(
        self, respond: Responder, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        """The response to deliver (None: the behaviour sends nothing of the fake's)."""
        ...

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        """Deliver ``answer``; True when the connection may serve another request."""
        ...


class _Answering:
    """Behaviours that deliver the fake's own answer, in some way."""

    chunked = False

    def answer(
        self, respond: Responder, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        status, answer_headers, answer_body = respond(method, url, headers, body)
        return render(status, answer_headers, answer_body, chunked=self.chunked)


@dataclasses.dataclass(frozen=True)
class Honest(_Answering):
    """The whole answer at once; the connection stays open for the next request."""

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        return out.send(answer.head + answer.body)


@dataclasses.dataclass(frozen=True)
class Delay(_Answering):
    """Nothing for ``seconds``, then the whole answer: a slow but correct server."""

    seconds: float

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        if not out.idle(self.seconds):
            return False
        return out.send(answer.head + answer.body)


@dataclasses.dataclass(frozen=True)
class Trickle(_Answering):
    """The answer one byte every ``interval`` seconds, which no per-read socket timeout
    longer than ``interval`` ever notices. ``body_only`` sends the head at once first."""

    interval: float = 2.0
    body_only: bool = False

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        data = answer.body if self.body_only else answer.head + answer.body
        if self.body_only and not out.send(answer.head):
            return False
        for index in range(len(data)):
            if not out.idle(self.interval) or not out.send(data[index : index + 1]):
                return False
        return False


@dataclasses.dataclass(frozen=True)
class Stall(_Answering):
    """The head (or nothing, with ``after_head=False``), then silence for ``seconds``, then
    the connection is closed: a read timeout while the client waits for the body or head."""

    seconds: float
    after_head: bool = True

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        if self.after_head and not out.send(answer.head):
            return False
        out.idle(self.seconds)
        return False


@dataclasses.dataclass(frozen=True)
class CutBody(_Answering):
    """The head and the first ``keep`` bytes of the body, then the connection ends: a
    chunked body cut mid-chunk (``chunked``), or a Content-Length body cut short; with
    ``reset`` by a TCP reset instead of an orderly close."""

    keep: int = 20
    chunked: bool = True
    reset: bool = False

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        out.send(answer.head + answer.body[: self.keep])
        if self.reset:
            out.reset()
        return False


@dataclasses.dataclass(frozen=True)
class Redirect:
    """A ``status`` redirect to ``location``, with an XML body as OSS would send one."""

    status: int
    location: str

    def answer(
        self, respond: Responder, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        document = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MovedPermanently</Code>'
            b"<Message>Moved.</Message></Error>"
        )
        return render(
            self.status, {"Location": self.location, "Content-Type": "application/xml"}, document
        )

    def deliver(self, answer: Answer | None, out: Delivery) -> bool:
        assert answer is not None
        return out.send(answer.head + answer.body)


def render(
    status: int, headers: Mapping[str, str], body: bytes, *, chunked: bool = False
) -> Answer:
    """An HTTP/1.1 response as bytes; ``chunked`` frames the body as one chunk."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in _FRAMING]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        lines.append(f"Content-Length: {len(body)}")
    return Answer(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body)


_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})


class _Connection:
    """The Delivery of one request: writes and waits that notice a client hanging up."""

    def __init__(
        self, sock: socket.socket, stopping: threading.Event, exchange: Exchange, limit: float
    ) -> None:
        self._sock = sock
        self._stopping = stopping
        self._exchange = exchange
        self._end = time.monotonic() + limit

    def send(self, data: bytes) -> bool:
        try:
            self._sock.sendall(data)
        except OSError:
            self._hung_up()
            return False
        return True

    def idle(self, seconds: float) -> bool:
        until = min(time.monotonic() + seconds, self._end)
        while not self._stopping.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return time.monotonic() < self._end
            readable, _, _ = select.select([self._sock], [], [], min(left, 0.05))
            if readable:
                if self._closed_by_client():
                    self._hung_up()
                    return False
                # Bytes but no end yet (half a TLS record): look again a little later.
                time.sleep(min(left, 0.05))
        return False

    def reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a reset.
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._sock.close()

    def _closed_by_client(self) -> bool:
        # A client sends nothing while it waits for an answer, so whatever arrives now can
        # be read and dropped: the end of the stream, or a TLS alert announcing it.
        self._sock.settimeout(0.05)
        try:
            return self._sock.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            return True
        finally:
            self._sock.settimeout(None)

    def _hung_up(self) -> None:
        if self._exchange.client_hung_up is None:
            self._exchange.client_hung_up = time.monotonic()


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: HostileHttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        behaviour = self.server.next_behaviour()
        headers = dict(self.headers.items())
        exchange = Exchange(
            self.command, self.path, headers, type(behaviour).__name__, time.monotonic()
        )
        self.server.record(exchange)
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        answer = behaviour.answer(self.server.respond, self.command, url, headers, body)
        keep_open = behaviour.deliver(
            answer,
            _Connection(self.connection, self.server.stopping, exchange, self.server.misbehave_for),
        )
        exchange.finished = time.monotonic()
        if not keep_open:
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class HostileHttpServer(FakeHttpServer):
    """A loopback server whose first requests follow ``script`` and the rest ``then``
    (Honest by default), none of them for longer than ``misbehave_for`` seconds.

    Use as a context manager (it serves in a background thread); ``url`` is what to set as
    ``ossEndpointOverride``, ``exchanges`` what it received.
    """

    def __init__(
        self,
        respond: Responder,
        script: Sequence[Behaviour] = (),
        then: Behaviour | None = None,
        *,
        misbehave_for: float = MISBEHAVE_FOR,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(respond, host=host)
        self.misbehave_for = misbehave_for
        self.tls = tls
        self.RequestHandlerClass = _HostileHandler
        self.stopping = threading.Event()
        self.exchanges: list[Exchange] = []
        self._script = list(script)
        self._then: Behaviour = Honest() if then is None else then
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake happens on the first read, in the connection's own thread.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._script.pop(0) if self._script else self._then

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def __enter__(self) -> HostileHttpServer:
        # Polled often, so that a test that starts a server for every case stops it quickly.
        threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="hostile-http",
            daemon=True,
        ).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        super().__exit__(kind, exc, tb)


def oss_responder(backend: OssBackend) -> Responder:
    """Answer as the fake OSS does, over any transport (see testing/oss/server.py)."""

    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        answer = handle_request(backend, method, url, headers)
        return answer.status, answer.headers, answer.body

    return respond


def hostile_oss_server(
    backend: OssBackend,
    script: Sequence[Behaviour] = (),
    then: Behaviour | None = None,
    *,
    misbehave_for: float = MISBEHAVE_FOR,
    tls: ssl.SSLContext | None = None,
) -> HostileHttpServer:
    """The fake OSS behind a hostile transport."""
    return HostileHttpServer(
        oss_responder(backend), script, then, misbehave_for=misbehave_for, tls=tls
    )


def loopback_tls(directory: Path, names: Sequence[str] = ()) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (and the host
    ``names``, for a client whose lookups of them are pointed at loopback), and the file a
    client must trust for it (``REQUESTS_CA_BUNDLE``), written to ``directory``."""
    # Imported here: only TLS tests need it (oss2's aliyun-python-sdk-core brings it).
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    *(x509.DNSName(name) for name in names),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "loopback-cert.pem"
    key_file = directory / "loopback-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def recording_server() -> HostileHttpServer:
    """A server that answers 200 with an empty body and records who came: the place a
    redirect points to, which nothing should ever reach."""
    return HostileHttpServer(lambda method, url, headers, body: (200, {}, b""))
