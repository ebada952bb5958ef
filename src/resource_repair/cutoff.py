"""Calls that end in time whatever the server does: the one mechanism that bounds every
network call (OSS, Config, STS, SMQ, the FC API) by the time it has.

Every SDK we use times out per socket operation only, so a server that sends a byte now and
then holds a request, and the function, forever: FC then kills the invocation, its audit
line is lost and the delivery replayed. :func:`run_within` runs the call in a thread of its
own and waits for it from outside, for at most the time given. A call that has not ended by
then is abandoned: the connection it holds, when it told us (see :func:`tracking_adapter`
and ``holds``), is shut down, which ends its blocked read at once and lets its library
clean up as after any broken connection; :class:`CallTimedOutError` is raised in the caller.

A call abandoned while it still connects (or resolves the host) has no socket to shut down
yet: it ends at its own connect timeout, which callers set to no more than the same limit,
or, should it connect just then, is sent with its answer ignored. The caller is gone by
then either way; that thread is a daemon and never holds up an exit.

Importing this module imports no HTTP library.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from resource_repair.errors import TransientError

T = TypeVar("T")

SIGNAL_SLICE = 0.2
"""Longest a waiting main thread goes without running Python code. Ctrl-C sent to the
process may be handed by the kernel to any thread, and Python runs its handler only when
the main thread next runs: a wait in one piece would hold the interrupt until the call ends."""


class CallTimedOutError(TransientError):
    """The call did not end within its time and was abandoned. Each caller says it in its
    own service's terms (a TransientOssError, a Config or STS error, ...)."""

    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(f"{name}: no complete answer within {seconds:.2f}s")
        self.seconds = seconds


def run_within(seconds: float, call: Callable[[], T], name: str, *, holds: Any = None) -> T:
    """Run ``call`` for at most ``seconds``; its result or exception, or CallTimedOutError.

    ``holds``: a connection (an object with ``sock``, such as an ``http.client``
    connection) the call uses, for libraries whose pools cannot tell us (the MNS SDK).
    """
    attempt = _Attempt()
    if holds is not None:
        attempt.holds(holds)
    done = threading.Event()
    outcome: list[tuple[bool, Any]] = []

    def work() -> None:
        _current.attempt = attempt
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the waiting thread as it is
            outcome.append((False, exc))
        finally:
            _current.attempt = None
            done.set()

    # A daemon thread, not an executor's: an abandoned call must never hold up the exit of
    # the interpreter (a local run, a command, a test session).
    threading.Thread(target=work, name=f"cutoff-{name}", daemon=True).start()
    if not wait_in_slices(done, seconds):
        attempt.abandon()
        raise CallTimedOutError(name, seconds)
    succeeded, value = outcome[0]
    if succeeded:
        return value  # type: ignore[no-any-return]
    raise value


def wait_in_slices(event: threading.Event, seconds: float) -> bool:
    """``event.wait(seconds)``, woken every :data:`SIGNAL_SLICE` so that Ctrl-C is heard."""
    deadline = time.monotonic() + max(0.0, seconds)
    while not event.wait(max(0.0, min(SIGNAL_SLICE, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            return False
    return True


class _Attempt:
    """The connection one bounded call holds, so that another thread can cut it off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._abandoned = False

    def check(self) -> None:
        """Raise in the call's thread if it was given up before it took a connection."""
        with self._lock:
            if self._abandoned:
                raise _AbandonedError

    def holds(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
            if self._abandoned:
                self._cut()

    def releases(self) -> None:
        with self._lock:
            self._connection = None

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            self._cut()

    def _cut(self) -> None:
        sock = getattr(self._connection, "sock", None)
        if sock is not None:
            # socket.socket's own shutdown, also for TLS: SSLSocket.shutdown would drop its
            # SSL object under the reading thread's feet. Shutting down, unlike closing,
            # wakes a thread blocked in recv on the same socket.
            with contextlib.suppress(OSError, TypeError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _AbandonedError(Exception):
    """Raised in a call's own thread when it was given up before taking a connection."""


# The attempt the current thread runs, if any; read by the pools below.
_current = threading.local()


class _TrackedPoolMixin:
    """Tells the running attempt which connection it took from the pool and gave back."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        attempt: _Attempt | None = getattr(_current, "attempt", None)
        if attempt is not None:
            attempt.check()
        connection = super()._get_conn(timeout)  # type: ignore[misc]  # urllib3's, untyped
        if attempt is not None:
            attempt.holds(connection)
        return connection

    def _put_conn(self, conn: Any) -> None:
        attempt: _Attempt | None = getattr(_current, "attempt", None)
        if attempt is not None:
            attempt.releases()
        super()._put_conn(conn)  # type: ignore[misc]  # urllib3's, untyped


_adapters: dict[str, type] = {}
_adapters_lock = threading.Lock()


def tracking_adapter(adapters: ModuleType, connectionpool: ModuleType) -> type:
    """A requests ``HTTPAdapter`` class whose pools tell a bounded call which connection it
    holds. ``adapters`` and ``connectionpool`` are the modules of one copy of requests and
    urllib3: the installed ones (oss2), or the copies aliyunsdkcore vendors."""
    key = f"{adapters.__name__}|{connectionpool.__name__}"
    with _adapters_lock:
        if key not in _adapters:
            plain = type("TrackedPool", (_TrackedPoolMixin, connectionpool.HTTPConnectionPool), {})
            tls = type(
                "TrackedHTTPSPool", (_TrackedPoolMixin, connectionpool.HTTPSConnectionPool), {}
            )

            def init_poolmanager(self: Any, *args: Any, **kwargs: Any) -> None:
                adapters.HTTPAdapter.init_poolmanager(self, *args, **kwargs)
                # PoolManager reads its pool classes from this attribute so that they can
                # be swapped.
                self.poolmanager.pool_classes_by_scheme = {"http": plain, "https": tls}

            def build_response(self: Any, req: Any, resp: Any) -> Any:
                response = adapters.HTTPAdapter.build_response(self, req, resp)
                response.raw = _BoundedBody(response.raw)
                return response

            _adapters[key] = type(
                "TrackingAdapter",
                (adapters.HTTPAdapter,),
                {"init_poolmanager": init_poolmanager, "build_response": build_response},
            )
        return _adapters[key]


# The most of an answer's body a call reads. OSS's bucket answers are a few KB, Config's
# pages some hundreds; a server that sends without end (an endless chunked body, or a
# compressed one that inflates) would otherwise fill the function's memory long before the
# call's time runs out: a gigabyte in five seconds on loopback, and FC then kills the
# instance with its audit line unwritten.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class AnswerTooLargeError(OSError):
    """An answer's body went past MAX_ANSWER_BYTES: a broken connection, to its callers."""


def bounded_response_class() -> type:
    """An ``http.client.HTTPResponse`` whose whole-body read stops past MAX_ANSWER_BYTES
    (AnswerTooLargeError), for clients on http.client directly (the MNS SDK): set it as
    the connection's ``response_class``."""
    global _bounded_response
    if _bounded_response is None:
        import http.client

        class BoundedResponse(http.client.HTTPResponse):
            def read(self, amt: int | None = None) -> bytes:
                if amt is not None:
                    return super().read(amt)
                data = super().read(MAX_ANSWER_BYTES + 1)
                if len(data) > MAX_ANSWER_BYTES:
                    self.close()
                    raise AnswerTooLargeError(
                        f"the answer is larger than {MAX_ANSWER_BYTES} bytes: not read further"
                    )
                return data

        _bounded_response = BoundedResponse
    return _bounded_response


_bounded_response: type | None = None


class _BoundedBody:
    """A urllib3 response whose body (as decoded) is read up to MAX_ANSWER_BYTES, then
    AnswerTooLargeError; everything else is the response's own."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > MAX_ANSWER_BYTES:
            self._raw.close()
            raise AnswerTooLargeError(
                f"the answer is larger than {MAX_ANSWER_BYTES} bytes: not read further"
            )
        return data

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Any:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            yield self._count(chunk)

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        if amt is None or amt > MAX_ANSWER_BYTES + 1:
            amt = MAX_ANSWER_BYTES + 1
        return self._count(self._raw.read(amt, *args, **kwargs))
