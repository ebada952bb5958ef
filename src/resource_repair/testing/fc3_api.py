"""A fake of FC 3.0's API (2023-03-30) for ``remote-invoke`` and its tests.

InvokeFunction, ``POST /2023-03-30/functions/<name>/invocations[?qualifier=...]`` at
``<account>.<region>.fc.aliyuncs.com``. It refuses what the real endpoint would: another
host, another API version, a request not signed ACS3-HMAC-SHA256 with registered keys (the
signature is recomputed over the signed headers, path, query and body hash), a body that
does not match its ``x-acs-content-sha256``, a missing or wrong security token. It answers
as FC does: the function's result with ``x-fc-request-id`` and, asked for ``Tail``, the log
tail in ``x-fc-log-result``; ``x-fc-error-type`` with HTTP 200 when the function raised;
202 for an asynchronous call; FC 3.0's JSON error (``Code``, ``Message``, ``RequestId``)
otherwise.

FC 3.0 sees an FC 2.0 function as ``<service>$<function>``; deploy it under that name to
fake one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import uuid
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

from resource_repair.testing.fc_api import FunctionAnswer, FunctionBehaviour
from resource_repair.testing.identities import DEFAULT_CREDENTIALS, FakeCredentials
from resource_repair.testing.interception import Reply, RequestsInterceptor

API_VERSION = "2023-03-30"
_HOST = re.compile(r"(?P<account>\d+)\.(?P<region>[a-z0-9-]+)\.fc\.aliyuncs\.com")
_PATH = re.compile(rf"/{API_VERSION}/functions/(?P<function>[^/]+)/invocations")
_AUTHORIZATION = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<key>[^,]+),SignedHeaders=(?P<signed>[^,]+),"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
# Headers whose signature the real endpoint insists on.
_MUST_SIGN = frozenset({"host", "x-acs-date", "x-acs-content-sha256", "x-acs-signature-nonce"})


@dataclasses.dataclass(frozen=True)
class Fc3Invocation:
    account_id: str
    region: str
    function: str
    qualifier: str | None
    invocation_type: str
    log_type: str | None
    payload: bytes
    signed_with: str
    carried_token: bool


class Fc3ApiBackend:
    def __init__(self) -> None:
        self.functions: dict[str, FunctionBehaviour] = {}
        self.invocations: list[Fc3Invocation] = []
        self.refusals: list[str] = []
        """The error code of every request refused before reaching a function."""
        self.credentials: dict[str, FakeCredentials] = {
            DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS
        }
        self.invocation_error: tuple[int, str, str] | None = None
        """(HTTP status, code, message) to answer every invocation with: a server's own
        error text, such as one that echoes what it was sent."""

    def deploy(self, function: str, behaviour: FunctionBehaviour) -> None:
        """A function, by its FC 3.0 name (``<service>$<function>`` for an FC 2.0 one)."""
        self.functions[function] = behaviour

    def register_credentials(self, credentials: FakeCredentials) -> None:
        self.credentials[credentials.access_key_id] = credentials


def _error(status: int, code: str, message: str, request_id: str) -> Reply:
    body = json.dumps({"Code": code, "Message": message, "RequestId": request_id})
    return status, {"Content-Type": "application/json", "X-Fc-Request-Id": request_id}, body


class mock_fc3_api(RequestsInterceptor[Fc3ApiBackend]):  # noqa: N801 - reads like mock_fc_api
    """Intercept ``requests`` (the Tea core sends through it) and answer FC 3.0's API;
    refuse every other host."""

    methods = ("POST",)

    def _new_backend(self) -> Fc3ApiBackend:
        return Fc3ApiBackend()

    def _respond(self, request: requests.PreparedRequest) -> Reply:
        request_id = str(uuid.uuid4()).upper()
        url = urlsplit(request.url or "")
        host = _HOST.fullmatch(url.hostname or "")
        if host is None or url.scheme != "https":
            raise requests.exceptions.ConnectionError(
                f"the fake FC 3.0 API does not serve {request.url}"
            )
        body = request.body or b""
        payload = body if isinstance(body, bytes) else body.encode()
        refusal = self._authenticate(request, url.path, url.query, payload)
        if refusal is not None:
            self.backend.refusals.append(refusal[0])
            return _error(403 if refusal[0] != "InvalidArgument" else 400, *refusal, request_id)
        path = _PATH.fullmatch(url.path)
        if path is None:
            self.backend.refusals.append("NotFound")
            return _error(404, "NotFound", f"no route for {url.path}", request_id)
        headers = request.headers
        function = unquote(path["function"])
        query = dict(parse_qsl(url.query))
        invocation_type = headers.get("x-fc-invocation-type", "Sync")
        self.backend.invocations.append(
            Fc3Invocation(
                account_id=host["account"],
                region=host["region"],
                function=function,
                qualifier=query.get("qualifier"),
                invocation_type=invocation_type,
                log_type=headers.get("x-fc-log-type"),
                payload=payload,
                signed_with=_AUTHORIZATION.fullmatch(headers["authorization"])["key"],  # type: ignore[index]
                carried_token="x-acs-security-token" in headers,
            )
        )
        if self.backend.invocation_error is not None:
            return _error(*self.backend.invocation_error, request_id)
        behaviour = self.backend.functions.get(function)
        if behaviour is None:
            return _error(
                404, "FunctionNotFound", f"function '{function}' does not exist", request_id
            )
        reply = {"X-Fc-Request-Id": request_id, "Content-Type": "application/octet-stream"}
        if invocation_type == "Async":
            return 202, reply, b""
        answer: FunctionAnswer = behaviour(payload)
        if headers.get("x-fc-log-type") == "Tail":
            reply["X-Fc-Log-Result"] = base64.b64encode(answer.log.encode()[-4096:]).decode()
        if answer.error_type:
            reply["X-Fc-Error-Type"] = answer.error_type
        return 200, reply, answer.result

    def _authenticate(
        self, request: requests.PreparedRequest, path: str, query: str, payload: bytes
    ) -> tuple[str, str] | None:
        """None if FC 3.0 would accept the request's signature, else (code, message)."""
        headers = request.headers
        if headers.get("x-acs-version") != API_VERSION:
            return "InvalidArgument", f"x-acs-version must be {API_VERSION}"
        match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        known = self.backend.credentials.get(match["key"]) if match else None
        if match is None or known is None:
            return "InvalidAccessKeyId", "the access key does not exist"
        signed = match["signed"].split(";")
        if not set(signed) >= _MUST_SIGN or any(name not in headers for name in signed):
            return "SignatureNotMatch", "required headers are not signed"
        if headers["x-acs-content-sha256"] != hashlib.sha256(payload).hexdigest():
            return "SignatureNotMatch", "the body does not match x-acs-content-sha256"
        canonical = "\n".join(
            [
                request.method or "",
                path,
                _canonical_query(query),
                "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
                ";".join(signed),
                headers["x-acs-content-sha256"],
            ]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(
            known.access_key_secret.encode(), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, match["signature"]):
            return "SignatureNotMatch", "the signature does not match"
        if known.security_token and headers.get("x-acs-security-token") != known.security_token:
            return "InvalidSecurityToken", "the security token is not valid"
        return None


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{key}={quote(value, safe='~')}" for key, value in pairs)
