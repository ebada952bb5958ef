"""A fake STS (2015-04-01) answering ``GetCallerIdentity``, for aliyunsdkcore.

It checks what STS checks first (a known AccessKeyId, the security token of an STS key, the
RPC signature) and answers with the caller's account, ARN and identity type, or with STS's
error document. ``mock_sts`` intercepts the SDK's vendored ``requests``; ``handle_sts_request``
is transport-free so that the fake can also be served over HTTP.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from resource_repair.testing.identities import DEFAULT_CREDENTIALS, FakeCredentials
from resource_repair.testing.interception import Reply, RequestsInterceptor

SERVED_HOSTS = frozenset({"sts.aliyuncs.com"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost"})
_VENDORED_SEND = "aliyunsdkcore.vendored.requests.adapters.HTTPAdapter.send"


@dataclasses.dataclass
class StsBackend:
    credentials: dict[str, FakeCredentials] = dataclasses.field(
        default_factory=lambda: {DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS}
    )
    arns: dict[str, str] = dataclasses.field(default_factory=dict)
    calls: list[str] = dataclasses.field(default_factory=list)
    """The access key id of every request that reached the fake, in order."""

    def register(self, credentials: FakeCredentials, arn: str | None = None) -> None:
        self.credentials[credentials.access_key_id] = credentials
        if arn:
            self.arns[credentials.access_key_id] = arn

    def identity(self, key_id: str) -> dict[str, str]:
        known = self.credentials[key_id]
        account = known.account_id
        if known.security_token:
            arn = f"acs:ram::{account}:assumed-role/resource-repair-dev/session"
            kind = "AssumedRoleUser"
        else:
            arn, kind = f"acs:ram::{account}:user/resource-repair-dev", "RAMUser"
        arn = self.arns.get(key_id, arn)
        return {"AccountId": account, "Arn": arn, "IdentityType": kind, "UserId": "2000000001"}


class UnservedStsHostError(Exception):
    pass


def handle_sts_request(
    backend: StsBackend, method: str, url: str, body: bytes | str | None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    if parts.hostname not in SERVED_HOSTS | _LOOPBACK:
        raise UnservedStsHostError(f"the fake STS does not serve {parts.hostname!r}")
    form = body.decode() if isinstance(body, bytes) else (body or "")
    params = {
        **dict(parse_qsl(parts.query, keep_blank_values=True)),
        **dict(parse_qsl(form, keep_blank_values=True)),
    }
    request_id = str(uuid.uuid4()).upper()
    key_id = params.get("AccessKeyId", "")
    backend.calls.append(key_id)
    problem = _problem(backend, method, params)
    if problem is not None:
        status, code, message = problem
        document: dict[str, Any] = {"RequestId": request_id, "Code": code, "Message": message}
    else:
        status, document = 200, {"RequestId": request_id, **backend.identity(key_id)}
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


def _problem(
    backend: StsBackend, method: str, params: Mapping[str, str]
) -> tuple[int, str, str] | None:
    if params.get("Version") != "2015-04-01":
        return 400, "InvalidVersion", "Specified parameter Version is not valid."
    if params.get("Action") != "GetCallerIdentity":
        return 404, "InvalidAction.NotFound", f"Specified api {params.get('Action')} is not found."
    known = backend.credentials.get(params.get("AccessKeyId", ""))
    if known is None:
        return 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
    if known.security_token and params.get("SecurityToken") != known.security_token:
        return 400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid."
    if known.expired:
        return 400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
    unsigned = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in unsigned)
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    key = f"{known.access_key_secret}&".encode()
    digest = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(digest, params.get("Signature", "")):
        return 400, "SignatureDoesNotMatch", "Specified signature is not matched."
    return None


def _encode(value: str) -> str:
    return quote(value, safe="~")


class mock_sts(RequestsInterceptor[StsBackend]):  # noqa: N801 - reads like mock_oss
    """Answer STS inside aliyunsdkcore's vendored ``requests``.

    Other hosts go to whatever answered them before this mock started, so that it can be
    entered inside ``mock_config_api`` (which patches the same function); when nothing
    else was intercepting, they fail as unreachable and never reach the network.
    """

    target = _VENDORED_SEND

    def __init__(self) -> None:
        super().__init__()
        self._previous: Callable[..., Any] | None = None

    def _new_backend(self) -> StsBackend:
        return StsBackend()

    def __enter__(self) -> StsBackend:
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
            return handle_sts_request(
                self.backend, request.method or "GET", request.url or "", request.body
            )
        except UnservedStsHostError as exc:
            if self._previous is None:
                raise exceptions.ConnectionError(str(exc)) from None
        answer = self._previous(HTTPAdapter(), request)
        return answer.status_code, dict(answer.headers), answer.content


def fake_sts_server(backend: StsBackend, host: str = "127.0.0.1", port: int = 0) -> Any:
    """The fake STS over HTTP on loopback, for ``--sts-endpoint`` in another process."""
    from resource_repair.testing.http_server import FakeHttpServer

    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return handle_sts_request(backend, method, url, body)

    return FakeHttpServer(respond, lambda: {"calls": len(backend.calls)}, host, port)
