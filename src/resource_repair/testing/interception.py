"""What every fake here shares: intercept ``requests`` with ``responses``, fresh state per use."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import requests
import responses

B = TypeVar("B")
F = TypeVar("F", bound=Callable[..., Any])

Reply = tuple[int, dict[str, str], "bytes | str"]


class RequestsInterceptor(Generic[B]):
    """Base of ``mock_oss`` and ``mock_fc_api``: a context manager and decorator that sends
    every request made through ``requests`` to ``_respond``, with a new backend each time."""

    methods: tuple[str, ...] = ("GET", "PUT", "POST", "DELETE", "HEAD")
    target = "requests.adapters.HTTPAdapter.send"
    """What to patch: ordinary requests, or an SDK's vendored copy of it."""

    def __init__(self) -> None:
        self.backend: B = self._new_backend()
        self._mock: responses.RequestsMock | None = None

    def _new_backend(self) -> B:
        raise NotImplementedError

    def _respond(self, request: requests.PreparedRequest) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> B:
        self.backend = self._new_backend()
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False, target=self.target)
        for method in self.methods:
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


_SDK_SEND = "aliyunsdkcore.vendored.requests.adapters.HTTPAdapter.send"


class UnservedHostError(Exception):
    """A request to a host this fake does not serve; another fake may."""


class ChainedSdkInterceptor(RequestsInterceptor[B]):
    """A fake inside aliyunsdkcore's vendored ``requests`` (STS, RAM) that hands the hosts
    it does not serve to whichever fake intercepted before it, so that fakes of several
    services nest; with no fake before it they fail as unreachable, never reaching the
    network. Subclasses answer in ``_answer`` and raise UnservedHostError for other hosts."""

    target = _SDK_SEND

    def __init__(self) -> None:
        super().__init__()
        self._previous: Callable[..., Any] | None = None

    def _answer(self, method: str, url: str, body: Any) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> B:
        from aliyunsdkcore.vendored.requests.adapters import HTTPAdapter

        current = HTTPAdapter.send
        # The SDK's own send would reach the network: only another fake is delegated to.
        patched = getattr(current, "__module__", None) != HTTPAdapter.__module__
        self._previous = current if patched else None
        return super().__enter__()

    def _respond(self, request: Any) -> Reply:
        from aliyunsdkcore.vendored.requests import exceptions
        from aliyunsdkcore.vendored.requests.adapters import HTTPAdapter

        try:
            return self._answer(request.method or "GET", request.url or "", request.body)
        except UnservedHostError as exc:
            if self._previous is None:
                raise exceptions.ConnectionError(str(exc)) from None
        answer = self._previous(HTTPAdapter(), request)
        return answer.status_code, dict(answer.headers), answer.content


def rpc_params(url: str, body: bytes | str | None) -> dict[str, str]:
    """An RPC request's parameters, as the services read them: the query string's, then the
    form body's (aliyunsdkcore signs either)."""
    from urllib.parse import parse_qsl, urlsplit

    form = body.decode() if isinstance(body, bytes) else (body or "")
    return {
        **dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)),
        **dict(parse_qsl(form, keep_blank_values=True)),
    }
