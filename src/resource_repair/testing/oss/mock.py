"""``mock_oss``: the fake OSS wired into ``requests`` (and so into oss2) with ``responses``."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import requests
import responses

from resource_repair.testing.oss.models import OssBackend
from resource_repair.testing.oss.wire import UnservedHostError, handle_request

F = TypeVar("F", bound=Callable[..., Any])

_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


class mock_oss:  # noqa: N801 - named like moto's mock_* so that it reads as a familiar tool
    """Intercept every HTTP request made through ``requests`` and answer OSS's as OSS would.

    Use as ``with mock_oss() as oss:`` (``oss`` is the fresh :class:`OssBackend`) or as a
    decorator, where the backend is ``mock.backend``. A request for any host the fake does
    not serve is recorded in ``backend.refused`` and fails as a refused connection.
    """

    def __init__(self) -> None:
        self.backend = OssBackend()
        self._mock: responses.RequestsMock | None = None

    def __enter__(self) -> OssBackend:
        self.backend = OssBackend()
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for method in _METHODS:
            self._mock.add_callback(method, re.compile(r".*"), callback=self._respond)
        self._mock.start()
        return self.backend

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._mock is not None
        self._mock.stop()
        self._mock.reset()
        self._mock = None

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _respond(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        try:
            answer = handle_request(
                self.backend,
                request.method or "GET",
                request.url or "",
                dict(request.headers),
                # responses keeps the keyword arguments of the send, the timeout among them.
                getattr(request, "req_kwargs", {}).get("timeout"),
            )
        except UnservedHostError as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from None
        return answer.status, answer.headers, answer.body
