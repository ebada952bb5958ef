"""``mock_oss``: the fake OSS wired into ``requests`` (and so into oss2) with ``responses``."""

from __future__ import annotations

import socket

import requests

from resource_repair.testing.interception import Reply, RequestsInterceptor
from resource_repair.testing.oss.models import OssBackend
from resource_repair.testing.oss.wire import UnservedHostError, handle_request


class mock_oss(RequestsInterceptor[OssBackend]):  # noqa: N801 - named like moto's mock_*
    """Intercept every HTTP request made through ``requests`` and answer OSS's as OSS would.

    Use as ``with mock_oss() as oss:`` (``oss`` is the fresh :class:`OssBackend`) or as a
    decorator, where the backend is ``mock.backend``. A request for any host the fake does
    not serve is recorded in ``backend.refused`` and fails as a refused connection.
    """

    def _new_backend(self) -> OssBackend:
        return OssBackend()

    def _respond(self, request: requests.PreparedRequest) -> Reply:
        try:
            answer = handle_request(
                self.backend,
                request.method or "GET",
                request.url or "",
                dict(request.headers),
                # responses keeps the keyword arguments of the send, the timeout among them.
                getattr(request, "req_kwargs", {}).get("timeout"),
                body=_body(request.body),
            )
        except UnservedHostError as exc:
            # Shaped like what requests raises when DNS or the peer says no.
            cause: OSError = (
                socket.gaierror(socket.EAI_NONAME, "Name or service not known")
                if exc.no_such_host
                else ConnectionRefusedError(111, "Connection refused")
            )
            raise requests.exceptions.ConnectionError(str(exc)) from cause
        return answer.status, answer.headers, answer.body


def _body(body: object) -> bytes:
    """The request body as bytes (oss2 hands requests a str, bytes, or nothing)."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return b""
