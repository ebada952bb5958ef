"""A fake STS (2015-04-01) answering ``GetCallerIdentity`` and ``AssumeRole`` (aliyunsdkcore).

It checks what STS checks first (a known AccessKeyId, the security token of an STS key, the
RPC signature) and answers with the caller's account, ARN and identity type, or with STS's
error document. ``AssumeRole`` follows the roles' trust policies (which principals may
assume which role), checks the session's parameters as STS does, and issues per-account
temporary keys; ``on_issue`` hands each to other fakes (the fake OSS), so that a session of
one account is refused on another account's bucket. ``mock_sts`` intercepts the SDK's
vendored ``requests``; ``handle_sts_request`` is transport-free so that the fake can also be
served over HTTP.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from resource_repair.testing.identities import DEFAULT_CREDENTIALS, FakeCredentials
from resource_repair.testing.interception import (
    ChainedSdkInterceptor,
    Reply,
    UnservedHostError,
    rpc_params,
)

SERVED_HOSTS = frozenset({"sts.aliyuncs.com"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost"})


@dataclasses.dataclass(frozen=True)
class AssumeCall:
    """One AssumeRole that reached the fake, answered or refused."""

    caller: str
    """The hub's AccessKeyId."""
    role_arn: str
    session_name: str
    duration: str
    policy: str | None
    code: str = ""


@dataclasses.dataclass
class FakeRole:
    account_id: str
    name: str
    trusted: set[str] = dataclasses.field(default_factory=set)
    """Principals the trust policy names: an account id (any of its identities) or a role
    ARN ``acs:ram::<account>:role/<name>`` (sessions of that role)."""

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account_id}:role/{self.name}"


# STS's rules for a session name, and its shortest and longest session.
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
SHORTEST_SESSION = 900
LONGEST_SESSION = 3600
_POLICY_CHARS = 2048


@dataclasses.dataclass
class StsBackend:
    credentials: dict[str, FakeCredentials] = dataclasses.field(
        default_factory=lambda: {DEFAULT_CREDENTIALS.access_key_id: DEFAULT_CREDENTIALS}
    )
    arns: dict[str, str] = dataclasses.field(default_factory=dict)
    calls: list[str] = dataclasses.field(default_factory=list)
    """The access key id of every request that reached the fake, in order."""
    roles: dict[str, FakeRole] = dataclasses.field(default_factory=dict)
    assumed: list[AssumeCall] = dataclasses.field(default_factory=list)
    """Every AssumeRole request, in order."""
    on_issue: list[Callable[[FakeCredentials], None]] = dataclasses.field(default_factory=list)
    """Called with every temporary key issued (``oss.register_credentials``)."""
    faults: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)
    """(status, code, message) for the next AssumeRole requests, one each."""
    clock: Callable[[], float] = time.time
    session_seconds: dict[str, int] = dataclasses.field(default_factory=dict)
    """Issued AccessKeyId -> DurationSeconds asked for."""
    policies: dict[str, str] = dataclasses.field(default_factory=dict)
    """Issued AccessKeyId -> the inline session policy it was issued with."""

    def serve_oss(self, oss: Any) -> None:
        """Make every key issued from now on known to the fake OSS ``oss`` (an OssBackend),
        limited to what its session policy allows there, as OSS enforces it."""

        def register(issued: FakeCredentials) -> None:
            oss.register_credentials(issued)
            policy = self.policies.get(issued.access_key_id)
            if policy is not None:
                oss.limit_session(issued.access_key_id, oss_actions(policy, issued.account_id))

        self.on_issue.append(register)

    def add_role(self, account_id: str, name: str, *trusted: str) -> FakeRole:
        role = FakeRole(account_id, name, set(trusted))
        self.roles[role.arn] = role
        return role

    def fail_next_assume(
        self,
        code: str = "Throttling",
        status: int = 400,
        message: str = "Request was denied due to request throttling.",
        times: int = 1,
    ) -> None:
        self.faults.extend([(status, code, message)] * times)

    def issued(self) -> list[FakeCredentials]:
        """The temporary keys issued so far."""
        return [c for k, c in self.credentials.items() if k in self.session_seconds]

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


class UnservedStsHostError(UnservedHostError):
    pass


def handle_sts_request(
    backend: StsBackend, method: str, url: str, body: bytes | str | None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    if parts.hostname not in SERVED_HOSTS | _LOOPBACK:
        raise UnservedStsHostError(f"the fake STS does not serve {parts.hostname!r}")
    params = rpc_params(url, body)
    request_id = str(uuid.uuid4()).upper()
    key_id = params.get("AccessKeyId", "")
    backend.calls.append(key_id)
    problem = _problem(backend, method, params)
    document: dict[str, Any]
    if problem is None and params.get("Action") == "AssumeRole":
        outcome = _assume(backend, key_id, params)
        if isinstance(outcome, tuple):
            problem = outcome
        else:
            status, document = 200, {"RequestId": request_id, **outcome}
    elif problem is None:
        status, document = 200, {"RequestId": request_id, **backend.identity(key_id)}
    if problem is not None:
        status, code, message = problem
        document = {"RequestId": request_id, "Code": code, "Message": message}
    return status, {"Content-Type": "application/json"}, json.dumps(document).encode()


def _assume(
    backend: StsBackend, key_id: str, params: Mapping[str, str]
) -> dict[str, Any] | tuple[int, str, str]:
    """AssumeRole: the role's trust policy, then the session's parameters, then a new key."""
    arn = params.get("RoleArn", "")
    name = params.get("RoleSessionName", "")
    duration = params.get("DurationSeconds", str(LONGEST_SESSION))
    policy = params.get("Policy")

    def refuse(status: int, code: str, message: str) -> tuple[int, str, str]:
        backend.assumed.append(AssumeCall(key_id, arn, name, duration, policy, code))
        return status, code, message

    if backend.faults:
        return refuse(*backend.faults.pop(0))
    if not _SESSION_NAME.fullmatch(name):
        return refuse(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        )
    if not duration.isdigit() or not SHORTEST_SESSION <= int(duration) <= LONGEST_SESSION:
        return refuse(
            400,
            "InvalidParameter.DurationSeconds",
            "The Min/Max value of"
            f" DurationSeconds is {SHORTEST_SESSION}/{LONGEST_SESSION} seconds.",
        )
    if policy is not None:
        try:
            json.loads(policy)
        except ValueError:
            return refuse(400, "InvalidParameter.PolicyGrammar", "The policy is not valid JSON.")
        if len(policy) > _POLICY_CHARS:
            return refuse(400, "InvalidParameter.PolicyLength", "The policy is too long.")
    role = backend.roles.get(arn)
    if role is None:
        return refuse(404, "EntityNotExist.Role", "The specified Role not exists .")
    caller = backend.credentials[key_id]
    identity = backend.identity(key_id)["Arn"]
    if not _trusts(role, caller.account_id, identity):
        return refuse(
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        )
    backend.assumed.append(AssumeCall(key_id, arn, name, duration, policy))
    secret = uuid.uuid4().hex
    issued = FakeCredentials(
        access_key_id=f"STS.NMember{uuid.uuid4().hex[:16]}",
        access_key_secret=f"MemberSecretDoNotLog{secret}",
        security_token=f"CAISMemberTokenDoNotLog{uuid.uuid4().hex}==",
        account_id=role.account_id,
    )
    backend.credentials[issued.access_key_id] = issued
    backend.session_seconds[issued.access_key_id] = int(duration)
    if policy is not None:
        backend.policies[issued.access_key_id] = policy
    backend.arns[issued.access_key_id] = (
        f"acs:ram::{role.account_id}:assumed-role/{role.name}/{name}"
    )
    for hook in backend.on_issue:
        hook(issued)
    expires = datetime.datetime.fromtimestamp(
        backend.clock() + int(duration), datetime.timezone.utc
    )
    return {
        "AssumedRoleUser": {
            "Arn": f"acs:ram::{role.account_id}:role/{role.name}/{name}",
            "AssumedRoleId": f"3{uuid.uuid4().int % 10**17:017d}:{name}",
        },
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.access_key_secret,
            "SecurityToken": issued.security_token,
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def oss_actions(policy: str, account_id: str) -> frozenset[str]:
    """The OSS actions a session policy allows on ``account_id``'s buckets: Allow
    statements whose resources cover ``acs:oss:*:<account>:*`` (or everything). Enough of
    RAM's policy language for the sessions the function asks for; no wildcard actions."""
    document = json.loads(policy)
    allowed: set[str] = set()
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        covers = {"*", f"acs:oss:*:{account_id}:*", "acs:oss:*:*:*"} & set(resources)
        if statement.get("Effect") == "Allow" and covers:
            actions = statement.get("Action", [])
            allowed.update([actions] if isinstance(actions, str) else actions)
    return frozenset(allowed)


def _trusts(role: FakeRole, account_id: str, identity_arn: str) -> bool:
    """Whether the role's trust policy names this caller: its account, or the role whose
    session it is (``acs:ram::<account>:assumed-role/<role>/<session>``)."""
    if account_id in role.trusted:
        return True
    match = re.fullmatch(r"acs:ram::(\d+):assumed-role/([^/]+)/.*", identity_arn)
    return match is not None and f"acs:ram::{match[1]}:role/{match[2]}" in role.trusted


def _problem(
    backend: StsBackend, method: str, params: Mapping[str, str]
) -> tuple[int, str, str] | None:
    if params.get("Version") != "2015-04-01":
        return 400, "InvalidVersion", "Specified parameter Version is not valid."
    if params.get("Action") not in ("GetCallerIdentity", "AssumeRole"):
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


class mock_sts(ChainedSdkInterceptor[StsBackend]):  # noqa: N801 - reads like mock_oss
    """Answer STS inside aliyunsdkcore's vendored ``requests``.

    Other hosts go to whatever answered them before this mock started, so that it can be
    entered inside ``mock_config_api`` (which patches the same function); when nothing
    else was intercepting, they fail as unreachable and never reach the network.
    """

    def _new_backend(self) -> StsBackend:
        return StsBackend()

    def _answer(self, method: str, url: str, body: Any) -> Reply:
        return handle_sts_request(self.backend, method, url, body)


def fake_sts_server(backend: StsBackend, host: str = "127.0.0.1", port: int = 0) -> Any:
    """The fake STS over HTTP on loopback, for ``--sts-endpoint`` in another process."""
    from resource_repair.testing.http_server import FakeHttpServer

    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return handle_sts_request(backend, method, url, body)

    return FakeHttpServer(respond, lambda: {"calls": len(backend.calls)}, host, port)
