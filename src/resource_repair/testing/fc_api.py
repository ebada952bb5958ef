"""A fake of the FC 2.0 API for ``remote-invoke``, ``doctor`` and their tests.

InvokeFunction: it checks what a real endpoint would reject (host, path, invocation type, a
signature made with registered keys) and answers as FC does: a synchronous call gets the
function's result, ``x-fc-request-id`` and, with ``x-fc-log-type: Tail``, the log tail in
``x-fc-log-result``; a function that raised gets ``x-fc-error-type``; an asynchronous call
gets 202. GetService, GetFunction and GetTrigger answer what was deployed, or FC's 404
(``ServiceNotFound``, ``FunctionNotFound``, ``TriggerNotFound``).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests

from resource_repair.testing.identities import DEFAULT_CREDENTIALS, FakeCredentials
from resource_repair.testing.interception import Reply, RequestsInterceptor

_HOST = re.compile(r"(?P<account>\d+)\.(?P<region>[a-z0-9-]+)\.fc\.aliyuncs\.com")
_PATH = re.compile(
    r"/2016-08-15/services/(?P<service>[^/.]+)(?:\.(?P<qualifier>[^/]+))?"
    r"/functions/(?P<function>[^/]+)/invocations"
)
# GetService, GetFunction, GetTrigger: the same prefix, shorter or longer.
_READ_PATH = re.compile(
    r"/2016-08-15/services/(?P<service>[^/.]+)(?:\.(?P<qualifier>[^/]+))?"
    r"(?:/functions/(?P<function>[^/]+)(?:/triggers/(?P<trigger>[^/]+))?)?"
)


@dataclasses.dataclass(frozen=True)
class FunctionAnswer:
    """What a fake deployed function gives back: result, log, and an error type if it raised."""

    result: bytes
    log: str = ""
    error_type: str | None = None


FunctionBehaviour = Callable[[bytes], FunctionAnswer]


@dataclasses.dataclass(frozen=True)
class Invocation:
    account_id: str
    region: str
    service: str
    qualifier: str | None
    function: str
    invocation_type: str
    log_type: str | None
    payload: bytes
    signed_with: str | None
    carried_token: bool


class FcApiBackend:
    def __init__(self) -> None:
        self.functions: dict[tuple[str, str], FunctionBehaviour] = {}
        self.function_configs: dict[tuple[str, str], dict[str, object]] = {}
        self.services: dict[str, dict[str, object]] = {}
        self.triggers: dict[tuple[str, str, str], dict[str, object]] = {}
        self.invocations: list[Invocation] = []
        self.reads: list[str] = []
        """The path of every GetService / GetFunction / GetTrigger, in order."""
        self.credentials: dict[str, FakeCredentials] = {
            DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS
        }
        self.invocation_error: tuple[int, str, str] | None = None
        """(HTTP status, code, message) to answer every invocation with: a server's own
        error text, such as one that echoes what it was sent."""

    def add_service(self, service: str, role: str = "") -> None:
        """A service as GetService answers it; ``role`` is its role ARN ("" = none)."""
        self.services[service] = {
            "serviceName": service,
            "role": role,
            "internetAccess": True,
            "lastModifiedTime": "2026-11-27T10:00:00Z",
        }

    def deploy(
        self,
        service: str,
        function: str,
        behaviour: FunctionBehaviour,
        *,
        runtime: str = "python3.10",
        handler: str = "index.handler",
        environment: dict[str, str] | None = None,
    ) -> None:
        """A function (its service too, without a role, unless already added)."""
        if service not in self.services:
            self.add_service(service)
        self.functions[(service, function)] = behaviour
        self.function_configs[(service, function)] = {
            "functionName": function,
            "runtime": runtime,
            "handler": handler,
            "environmentVariables": dict(environment or {}),
            "lastModifiedTime": "2026-11-27T10:00:00Z",
        }

    def add_trigger(
        self,
        service: str,
        function: str,
        trigger: str,
        *,
        trigger_type: str = "mns_topic",
        source_arn: str = "",
        config: dict[str, object] | None = None,
    ) -> None:
        self.triggers[(service, function, trigger)] = {
            "triggerName": trigger,
            "triggerType": trigger_type,
            "sourceArn": source_arn,
            "triggerConfig": dict(config or {}),
            "invocationRole": "",
            "lastModifiedTime": "2026-11-27T10:00:00Z",
        }

    def read(self, path: re.Match[str], request_id: str) -> tuple[int, dict[str, str], str]:
        """GetService / GetFunction / GetTrigger, as FC answers them."""
        service, function, trigger = path["service"], path["function"], path["trigger"]
        self.reads.append(path[0])
        if service not in self.services:
            return _error(404, "ServiceNotFound", f"service '{service}' does not exist", request_id)
        if function is None:
            return _found(self.services[service], request_id)
        config = self.function_configs.get((service, function))
        if config is None:
            return _error(
                404, "FunctionNotFound", f"function '{function}' does not exist", request_id
            )
        if trigger is None:
            return _found(config, request_id)
        found = self.triggers.get((service, function, trigger))
        if found is None:
            return _error(404, "TriggerNotFound", f"trigger '{trigger}' does not exist", request_id)
        return _found(found, request_id)


def _found(document: dict[str, object], request_id: str) -> tuple[int, dict[str, str], str]:
    headers = {"Content-Type": "application/json", "X-Fc-Request-Id": request_id}
    return 200, headers, json.dumps(document)


def _error(
    status: int, code: str, message: str, request_id: str
) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"ErrorCode": code, "ErrorMessage": message})
    return status, {"Content-Type": "application/json", "X-Fc-Request-Id": request_id}, body


class mock_fc_api(RequestsInterceptor[FcApiBackend]):  # noqa: N801 - reads like mock_oss
    """Intercept ``requests`` and answer the FC API; refuse every other host."""

    methods = ("POST", "GET")

    def _new_backend(self) -> FcApiBackend:
        return FcApiBackend()

    def _respond(self, request: requests.PreparedRequest) -> Reply:
        request_id = str(uuid.uuid4())
        url = urlsplit(request.url or "")
        host, path = _HOST.fullmatch(url.hostname or ""), _PATH.fullmatch(url.path or "")
        if host is None or url.scheme != "https":
            raise requests.exceptions.ConnectionError(
                f"the fake FC API does not serve {request.url}"
            )
        headers = request.headers
        authorization = headers.get("authorization", "")
        key_id = authorization.partition(" ")[2].rpartition(":")[0] or None
        known = self.backend.credentials.get(key_id or "")
        if not authorization.startswith("FC ") or known is None:
            return _error(403, "InvalidAccessKeyID", "invalid access key", request_id)
        if known.security_token and headers.get("x-fc-security-token") != known.security_token:
            return _error(403, "InvalidSecurityToken", "invalid security token", request_id)
        if request.method == "GET":
            read = _READ_PATH.fullmatch(url.path or "")
            if read is None:
                return _error(404, "NotFound", f"no route for {url.path}", request_id)
            return self.backend.read(read, request_id)
        if path is None:
            return _error(404, "NotFound", f"no route for {url.path}", request_id)
        invocation_type = headers.get("x-fc-invocation-type", "Sync")
        body = request.body or b""
        self.backend.invocations.append(
            Invocation(
                account_id=host["account"],
                region=host["region"],
                service=path["service"],
                qualifier=path["qualifier"],
                function=path["function"],
                invocation_type=invocation_type,
                log_type=headers.get("x-fc-log-type"),
                payload=body if isinstance(body, bytes) else body.encode(),
                signed_with=key_id,
                carried_token="x-fc-security-token" in headers,
            )
        )
        if self.backend.invocation_error is not None:
            return _error(*self.backend.invocation_error, request_id)
        behaviour = self.backend.functions.get((path["service"], path["function"]))
        if behaviour is None:
            return _error(
                404, "FunctionNotFound", f"function {path['function']} does not exist", request_id
            )
        reply = {"X-Fc-Request-Id": request_id, "Content-Type": "application/octet-stream"}
        if invocation_type == "Async":
            return 202, reply, b""
        answer = behaviour(self.backend.invocations[-1].payload)
        if headers.get("x-fc-log-type") == "Tail":
            reply["x-fc-log-result"] = base64.b64encode(answer.log.encode()[-4096:]).decode()
        if answer.error_type:
            reply["x-fc-error-type"] = answer.error_type
        return 200, reply, answer.result


def handle_fc_read(
    backend: FcApiBackend, method: str, url: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], str]:
    """GetService / GetFunction / GetTrigger over plain HTTP, for ``fake-cloud``'s FC API
    on loopback: the same answers and the same key check as :class:`mock_fc_api`'s."""
    request_id = str(uuid.uuid4())
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    key_id = authorization.partition(" ")[2].rpartition(":")[0]
    known = backend.credentials.get(key_id)
    if not authorization.startswith("FC ") or known is None:
        return _error(403, "InvalidAccessKeyID", "invalid access key", request_id)
    if known.security_token and lowered.get("x-fc-security-token") != known.security_token:
        return _error(403, "InvalidSecurityToken", "invalid security token", request_id)
    read = _READ_PATH.fullmatch(urlsplit(url).path)
    if method != "GET" or read is None:
        return _error(404, "NotFound", f"no route for {method} {urlsplit(url).path}", request_id)
    return backend.read(read, request_id)
