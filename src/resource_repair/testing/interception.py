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
