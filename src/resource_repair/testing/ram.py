"""A fake RAM (2015-05-01) for aliyunsdkcore: the reads ``doctor`` and ``setup`` make of a
role.

``ListPoliciesForRole``, ``GetPolicy``, ``GetPolicyVersion`` and ``GetRole``, answered in
RAM's document shapes from roles and policies set up by the test, after the checks RAM makes
first (a known AccessKeyId, the security token of an STS key, the RPC signature).
``mock_ram`` intercepts the SDK's vendored ``requests``; ``handle_ram_request`` is
transport-free.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)
from resource_repair.testing.interception import (
    ChainedSdkInterceptor,
    Reply,
    UnservedHostError,
    rpc_params,
)

VERSION = "2015-05-01"
SERVED_HOSTS = frozenset({"ram.aliyuncs.com"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost"})
_DATE = "2026-11-27T10:00:00Z"


class RamServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass
class FakePolicy:
    name: str
    policy_type: str
    """``Custom`` or ``System``."""
    versions: dict[str, str]
    """Version id -> policy document (JSON text)."""
    default_version: str = "v1"


class RamBackend:
    def __init__(self) -> None:
        self.credentials: dict[str, FakeCredentials] = {
            DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS
        }
        self.roles: dict[str, list[tuple[str, str]]] = {}
        """Role name -> the (policy name, policy type) attached to it."""
        self.policies: dict[tuple[str, str], FakePolicy] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.get_policy_without_document = False
        """Answer GetPolicy without ``DefaultPolicyVersion``, so that a client must ask
        GetPolicyVersion for the document."""

    def register(self, credentials: FakeCredentials) -> None:
        self.credentials[credentials.access_key_id] = credentials

    def add_policy(
        self,
        name: str,
        statements: Sequence[Mapping[str, Any]],
        *,
        policy_type: str = "Custom",
        version: str = "v1",
    ) -> FakePolicy:
        """A policy whose default version holds ``statements``."""
        document = json.dumps({"Version": "1", "Statement": list(statements)})
        policy = FakePolicy(name, policy_type, {version: document}, version)
        self.policies[(name, policy_type)] = policy
        return policy

    def attach(self, role: str, policy: FakePolicy) -> None:
        self.roles.setdefault(role, []).append((policy.name, policy.policy_type))

    def add_role(self, role: str) -> None:
        self.roles.setdefault(role, [])

    # -- the actions ---------------------------------------------------------------------

    def dispatch(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        if action == "ListPoliciesForRole":
            return self._list_policies_for_role(params)
        if action == "GetPolicy":
            return self._get_policy(params)
        if action == "GetPolicyVersion":
            return self._get_policy_version(params)
        if action == "GetRole":
            return self._get_role(params)
        raise RamServiceError(
            404, "InvalidAction.NotFound", f"Specified api {action} is not found."
        )

    def _list_policies_for_role(self, params: Mapping[str, str]) -> dict[str, Any]:
        role = _required(params, "RoleName")
        # RAM role names are case-insensitive.
        attached = next((v for k, v in self.roles.items() if k.lower() == role.lower()), None)
        if attached is None:
            raise RamServiceError(404, "EntityNotExist.Role", f"The role does not exist: {role}.")
        return {
            "Policies": {
                "Policy": [
                    {
                        "PolicyName": name,
                        "PolicyType": kind,
                        "Description": "",
                        "DefaultVersion": self.policies[(name, kind)].default_version,
                        "AttachDate": _DATE,
                    }
                    for name, kind in attached
                ]
            }
        }

    def _get_role(self, params: Mapping[str, str]) -> dict[str, Any]:
        """GetRole: what ``setup`` reads to see that Config's service-linked role exists."""
        role = _required(params, "RoleName")
        found = next((k for k in self.roles if k.lower() == role.lower()), None)
        if found is None:
            raise RamServiceError(404, "EntityNotExist.Role", f"The role does not exist: {role}.")
        return {"Role": {"RoleName": found, "Arn": f"acs:ram::{DEFAULT_ACCOUNT_ID}:role/{found}"}}

    def _policy(self, params: Mapping[str, str]) -> FakePolicy:
        name, kind = _required(params, "PolicyName"), _required(params, "PolicyType")
        if kind not in ("Custom", "System"):
            raise RamServiceError(400, "InvalidParameter.PolicyType", "PolicyType is invalid.")
        policy = self.policies.get((name, kind))
        if policy is None:
            raise RamServiceError(
                404, "EntityNotExist.Policy", f"The policy does not exist: {name}."
            )
        return policy

    def _get_policy(self, params: Mapping[str, str]) -> dict[str, Any]:
        policy = self._policy(params)
        answer: dict[str, Any] = {
            "Policy": {
                "PolicyName": policy.name,
                "PolicyType": policy.policy_type,
                "Description": "",
                "DefaultVersion": policy.default_version,
                "CreateDate": _DATE,
                "UpdateDate": _DATE,
                "AttachmentCount": 1,
            }
        }
        if not self.get_policy_without_document:
            answer["DefaultPolicyVersion"] = _version(policy, policy.default_version)
        return answer

    def _get_policy_version(self, params: Mapping[str, str]) -> dict[str, Any]:
        policy = self._policy(params)
        version = _required(params, "VersionId")
        if version not in policy.versions:
            raise RamServiceError(
                404,
                "EntityNotExist.PolicyVersion",
                f"The policy version does not exist: {version}.",
            )
        return {"PolicyVersion": _version(policy, version)}


def _version(policy: FakePolicy, version: str) -> dict[str, Any]:
    return {
        "VersionId": version,
        "IsDefaultVersion": version == policy.default_version,
        "PolicyDocument": policy.versions[version],
        "CreateDate": _DATE,
    }


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise RamServiceError(400, f"MissingParameter.{name}", f"{name} is mandatory.")
    return value


# -- the wire -----------------------------------------------------------------------------


class UnservedRamHostError(UnservedHostError):
    pass


def handle_ram_request(
    backend: RamBackend, method: str, url: str, body: bytes | str | None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    if parts.hostname not in SERVED_HOSTS | _LOOPBACK:
        raise UnservedRamHostError(f"the fake RAM does not serve {parts.hostname!r}")
    params = rpc_params(url, body)
    action = params.get("Action", "")
    request_id = str(uuid.uuid4()).upper()
    backend.calls.append((action, params))
    try:
        if params.get("Version") != VERSION:
            raise RamServiceError(
                400, "InvalidVersion", "Specified parameter Version is not valid."
            )
        _authenticate(backend, method, params)
        document = {"RequestId": request_id, **backend.dispatch(action, params)}
        status = 200
    except RamServiceError as error:
        status = error.status
        document = {"RequestId": request_id, "Code": error.code, "Message": error.message}
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


def verify_rpc_signature(secret: str, method: str, params: Mapping[str, str]) -> bool:
    """The RPC signature (HMAC-SHA1 over the sorted, percent-encoded parameters)."""
    unsigned = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in unsigned)
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), params.get("Signature", ""))


def _authenticate(backend: RamBackend, method: str, params: Mapping[str, str]) -> None:
    known = backend.credentials.get(params.get("AccessKeyId", ""))
    if known is None:
        raise RamServiceError(
            404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        )
    if known.security_token and params.get("SecurityToken") != known.security_token:
        raise RamServiceError(
            400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid."
        )
    if known.expired:
        raise RamServiceError(
            400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."
        )
    if not verify_rpc_signature(known.access_key_secret, method, params):
        raise RamServiceError(400, "SignatureDoesNotMatch", "Specified signature is not matched.")


def _encode(value: str) -> str:
    return quote(value, safe="~")


class mock_ram(ChainedSdkInterceptor[RamBackend]):  # noqa: N801 - reads like mock_oss
    """Answer RAM inside aliyunsdkcore's vendored ``requests``.

    Other hosts go to whatever answered them before this mock started (``mock_sts``, the
    fake Config API), so that it can be entered inside them; when nothing else was
    intercepting, they fail as unreachable and never reach the network.
    """

    def _new_backend(self) -> RamBackend:
        return RamBackend()

    def _answer(self, method: str, url: str, body: Any) -> Reply:
        return handle_ram_request(self.backend, method, url, body)
