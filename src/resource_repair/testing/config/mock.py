"""``mock_config_api``: the fake Config API inside aliyunsdkcore's vendored ``requests``."""

from __future__ import annotations

from typing import Any

from aliyunsdkcore.vendored.requests import exceptions as vendored_exceptions

from resource_repair.testing.config.models import ConfigBackend
from resource_repair.testing.config.wire import UnservedConfigHostError, handle_config_request
from resource_repair.testing.interception import Reply, RequestsInterceptor


class mock_config_api(RequestsInterceptor[ConfigBackend]):  # noqa: N801 - reads like mock_oss
    """The SDK sends through its own copy of requests, so a plain ``responses`` mock would
    see nothing; this one patches that copy and leaves ordinary ``requests`` alone."""

    target = "aliyunsdkcore.vendored.requests.adapters.HTTPAdapter.send"

    def _new_backend(self) -> ConfigBackend:
        return ConfigBackend()

    def _respond(self, request: Any) -> Reply:
        try:
            reply = handle_config_request(
                self.backend, request.method or "GET", request.url or "", request.body
            )
        except UnservedConfigHostError as exc:
            raise vendored_exceptions.ConnectionError(str(exc)) from None
        return reply.status, reply.headers, reply.body
