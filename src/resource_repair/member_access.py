"""Hub mode: reach a member account's buckets through a narrow, short, cached STS session.

The function (the hub) assumes ``acs:ram::<owner>:role/<memberRoleName>`` with its own
credentials. Whatever the member role grants, the session can do no more than the inline
session policy allows: the remediators' OSS actions on that account's buckets, for the
shortest time STS gives. Sessions are kept per account for the life of the instance and
renewed before they expire, so a warm instance pays one AssumeRole per account, not per
bucket. The session name names the function, since a cached session serves many requests;
the audit line carries the session's AccessKeyId to match a member's ActionTrail.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from resource_repair.credentials import Credentials
from resource_repair.errors import THROTTLING_CODES, ResourceRepairError, TransientOssError
from resource_repair.redaction import protect_logs
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.rpc import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    UnreadableAnswerError,
    acs_client,
    names_no_host,
    network_reason,
    read_answer,
    rpc_request,
    send,
    server_message,
)

HUB_PERMISSIONS = ("sts:AssumeRole",)
"""What hub mode adds to the function's role, on ``acs:ram::*:role/<memberRoleName>`` only."""
STS_VERSION = "2015-04-01"
STS_DOMAIN = "sts.aliyuncs.com"
SESSION_SECONDS = 900
"""STS's shortest session (DurationSeconds may not be less)."""
RENEW_MARGIN = 300.0
"""Seconds before expiry at which a cached session is replaced: a bucket's remediation
(three OSS calls with retries, under a minute) never runs on a session about to lapse."""
_SESSION_NAME_CHARS = 64
_SESSION_NAME = re.compile(r"[^A-Za-z0-9.@_-]")
_REQUEST_SECONDS = float(CONNECT_TIMEOUT + READ_TIMEOUT)
# STS's codes for a refusal that a retry does not change: reported with the code.
_SLOW_DOWN_STATUSES = (429, 503)

# Wall clock (STS's Expiration is a UTC time); tests move it instead of waiting.
_now: Callable[[], float] = time.time


class MemberAccessError(ResourceRepairError):
    """STS refused the session (no permission, no such role, a trust policy that does not
    name the hub): a retry will not change it."""

    def __init__(self, role_arn: str, code: str, message: str) -> None:
        super().__init__(f"AssumeRole of {role_arn} refused: {code} {message}".strip())
        self.code = code


class TransientStsError(TransientOssError):
    """STS throttling, a 5xx or a broken connection. A TransientOssError on purpose: the
    handler hands exactly those back to FC, and the bucket is still public."""


@dataclasses.dataclass(frozen=True)
class MemberSession:
    """Temporary credentials in one member account."""

    account_id: str
    role_arn: str
    credentials: Credentials
    expires_at: float
    """Seconds since the epoch."""

    def fresh(self, now: float) -> bool:
        return self.expires_at - now > RENEW_MARGIN


def role_arn(account_id: str, role_name: str) -> str:
    return f"acs:ram::{account_id}:role/{role_name}"


def session_policy(account_id: str, actions: Iterable[str]) -> str:
    """The inline session policy: only ``actions`` on ``account_id``'s buckets."""
    document = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": sorted(set(actions)),
                "Resource": [f"acs:oss:*:{account_id}:*"],
            }
        ],
    }
    return json.dumps(document, separators=(",", ":"))


def session_name(function_name: str | None) -> str:
    """``resource-repair.<function>``, cut to STS's 64 characters of letters, digits and
    ``.@-_`` (anything else becomes ``-``)."""
    base = "resource-repair"
    if function_name:
        base = f"{base}.{_SESSION_NAME.sub('-', function_name)}"
    return base[:_SESSION_NAME_CHARS]


class SessionCache:
    """Member sessions by (account, role, policy), for the life of the instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str, str], MemberSession] = {}
        # One lock per key: two threads of the sweep on one account make one AssumeRole.
        self._key_locks: dict[tuple[str, str, str], threading.Lock] = {}

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._key_locks.clear()

    def get(
        self,
        hub: Credentials,
        account_id: str,
        role_name: str,
        actions: Iterable[str],
        *,
        function_name: str | None,
        deadline: Deadline,
        policy: RetryPolicy,
        endpoint: str | None = None,
    ) -> MemberSession:
        """A fresh session in ``account_id``: the cached one, or a new AssumeRole.
        Raises MemberAccessError (refused) or TransientStsError (retries spent)."""
        document = session_policy(account_id, actions)
        key = (account_id, role_name, document)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                cached = self._sessions.get(key)
            if cached is not None and cached.fresh(_now()):
                return cached
            session = assume_role(
                hub,
                role_arn(account_id, role_name),
                account_id,
                document,
                session_name(function_name),
                deadline=deadline,
                policy=policy,
                endpoint=endpoint,
            )
            with self._lock:
                self._sessions[key] = session
            return session


SESSIONS = SessionCache()
"""The instance's sessions (module state lives as long as the FC instance)."""


def assume_role(
    hub: Credentials,
    arn: str,
    account_id: str,
    document: str,
    name: str,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    endpoint: str | None = None,
) -> MemberSession:
    """One AssumeRole (retried while transient), signed with the hub's credentials only."""
    client = acs_client(hub, "cn-hangzhou")
    domain = endpoint or STS_DOMAIN

    def once() -> MemberSession:
        # Start no request that might not end in time (the delivery then goes back to FC,
        # the bucket to the sweep); the one started ends within that time, whatever STS
        # does (rpc.send keeps the limit from outside).
        if deadline.remaining() < _REQUEST_SECONDS:
            raise TransientStsError(
                "AssumeRole", None, "OutOfTime", "no time left for another request", ""
            )
        seconds = deadline.cut(_REQUEST_SECONDS)
        return _assume_once(
            client, domain, arn, account_id, document, name, http=bool(endpoint), seconds=seconds
        )

    return policy.call(once, deadline)


def _assume_once(
    client: Any,
    domain: str,
    arn: str,
    account_id: str,
    document: str,
    name: str,
    *,
    http: bool,
    seconds: float,
) -> MemberSession:
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

    params = {
        "RoleArn": arn,
        "RoleSessionName": name,
        "DurationSeconds": SESSION_SECONDS,
        "Policy": document,
    }
    request = rpc_request(domain, STS_VERSION, "AssumeRole", params, http=http)
    try:
        body = send(client, request, seconds)
    except ServerException as exc:
        code, status = exc.get_error_code() or "", exc.get_http_status()
        if status >= 500 or status in _SLOW_DOWN_STATUSES or code in THROTTLING_CODES:
            raise TransientStsError(
                "AssumeRole",
                status,
                code,
                server_message(exc.get_error_msg()),
                exc.get_request_id() or "",
            ) from None
        raise MemberAccessError(arn, code, server_message(exc.get_error_msg())) from None
    except ClientException as exc:
        if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
            # Never the SDK's own text: it quotes the signed URL, the hub's token included.
            reason = network_reason(exc.get_error_msg())
            if names_no_host(exc.get_error_msg()):
                # DNS says STS's host does not exist: no retry changes that.
                raise MemberAccessError(
                    arn, "EndpointNotFound", f"cannot reach {domain}: {reason}"
                ) from None
            raise TransientStsError(
                "AssumeRole", None, "ConnectionFailed", f"cannot reach {domain}: {reason}", ""
            ) from None
        raise MemberAccessError(
            arn, exc.get_error_code() or "", exc.get_error_msg() or ""
        ) from None
    return _session(arn, account_id, body)


def _session(arn: str, account_id: str, body: bytes | str) -> MemberSession:
    try:
        answer = read_answer(body)
        granted = answer["Credentials"]
        credentials = Credentials(
            str(granted["AccessKeyId"]),
            str(granted["AccessKeySecret"]),
            str(granted["SecurityToken"]),
            key_id_is_public=True,
        )
        expires = _expiration(str(granted["Expiration"]))
    except UnreadableAnswerError as exc:
        raise MemberAccessError(arn, "BadAnswer", f"STS's answer: {exc}") from None
    except (ValueError, KeyError, TypeError):
        raise MemberAccessError(
            arn, "BadAnswer", "STS's answer has no usable credentials"
        ) from None
    # The secret and token, not the AccessKeyId: the audit line names the session by it.
    protect_logs(credentials.secrets)
    return MemberSession(account_id, arn, credentials, expires)


def _expiration(text: str) -> float:
    """STS's ``2015-04-09T11:52:19Z`` as seconds since the epoch."""
    moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def sts_policy(max_attempts: int) -> RetryPolicy:
    """Retries for AssumeRole: as many as OSS calls get, each bounded by the SDK's timeouts."""
    return RetryPolicy(max_attempts=max_attempts, request_timeout=_REQUEST_SECONDS)


def worst_case_seconds(max_attempts: int) -> float:
    """The longest one AssumeRole may take, retries and backoff included (the sweep keeps
    this much time for a bucket of a member account whose session is not cached yet)."""
    return sts_policy(max_attempts).worst_case()
