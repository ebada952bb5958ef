"""State and rules of the fake OSS: buckets, credentials, faults, a QPS limit and a log of calls.

No HTTP here (that is wire.py); operations raise :class:`OssServiceError`, which wire.py
renders as OSS's own error document.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)

ACLS = frozenset({"private", "public-read", "public-read-write"})

# Regions OSS serves; a host for any other region does not resolve in real life.
KNOWN_REGIONS = frozenset(
    {
        "cn-hangzhou",
        "cn-shanghai",
        "cn-nanjing",
        "cn-fuzhou",
        "cn-wuhan-lr",
        "cn-qingdao",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-wulanchabu",
        "cn-shenzhen",
        "cn-heyuan",
        "cn-guangzhou",
        "cn-chengdu",
        "cn-hongkong",
        "us-west-1",
        "us-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-southeast-1",
        "ap-southeast-3",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-south-1",
        "eu-central-1",
        "eu-west-1",
        "me-east-1",
        "me-central-1",
        "cn-shanghai-finance-1",
        "cn-shenzhen-finance-1",
        "cn-beijing-finance-1",
        "cn-north-2-gov-1",
    }
)


class OssServiceError(Exception):
    """An OSS error: HTTP status, code, message and the extra elements OSS adds."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def no_such_bucket(name: str) -> OssServiceError:
    return OssServiceError(
        404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=name
    )


def access_denied(message: str, **extra: str) -> OssServiceError:
    return OssServiceError(403, "AccessDenied", message, **extra)


def qps_limit_exceeded() -> OssServiceError:
    """What OSS answers when its management-operation (bucket API) rate limit is hit."""
    return OssServiceError(
        503, "MetaOperationQpsLimitExceeded", "Qps limit for the meta operation is exceeded"
    )


class QpsLimit:
    """OSS's management-operation throttling, kept simple: at most ``limit`` requests are
    admitted in each one-second window of ``clock`` (``floor(clock())``), counted across all
    buckets, as the real limit is per account rather than per bucket. A refused request is
    not counted, so a client that backs off gets in during the next window.

    Fixed windows, not a sliding one: a burst straddling a window boundary can get up to
    twice the limit through in one second. OSS does not publish how it counts; this is the
    plainest reading of "Q requests per second".
    """

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a QPS limit must be a positive integer, not {limit!r}")
        self.limit = limit
        self.clock = clock
        self.throttled = 0
        """How many requests were refused so far."""
        self._window = -math.inf
        self._admitted = 0

    def admit(self) -> bool:
        """True if one more request fits in the current second (and count it)."""
        window = math.floor(self.clock())
        if window != self._window:
            self._window, self._admitted = window, 0
        if self._admitted >= self.limit:
            self.throttled += 1
            return False
        self._admitted += 1
        return True


# A bucket set up for a scene existed before the evaluation that any recorded event describes
# (the earliest is from 2020), as the bucket Config evaluated always did. Only OSS's
# PutBucketAcl quirk makes a bucket "now".
SCENE_CREATION_DATE = "2019-01-01T00:00:00.000Z"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclasses.dataclass
class FakeBucket:
    name: str
    region: str
    acl: str = "private"
    owner_id: str = DEFAULT_ACCOUNT_ID
    created_by_put_acl: bool = False
    """True when PutBucketAcl made this bucket: the OSS quirk the handler must never trigger."""
    creation_date: str = dataclasses.field(default_factory=_now)
    policy: str | None = None
    """The bucket policy's JSON text, as PutBucketPolicy stored it; None: no policy."""
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    shared_with: set[str] = dataclasses.field(default_factory=set)
    """Accounts a bucket policy grants the bucket's API to: their keys may call it as the
    owner's do (the fake does not read the policy's text for this)."""
    block_public_access: bool = False
    """Bucket-level Block Public Access. While on, this fake refuses a public ACL and a
    policy that allows ``*`` (OSS refuses them too; the exact error code is this fake's
    assumption: 403 AccessDenied)."""


@dataclasses.dataclass
class Fault:
    """What to do instead of the next ``remaining`` calls (of ``operation``, or of any)."""

    remaining: int
    operation: str | None = None
    error: OssServiceError | None = None
    exception: BaseException | None = None
    action: Callable[[OssBackend], None] | None = None
    """Run against the backend before the call goes ahead (a concurrent change)."""

    def applies_to(self, operation: str) -> bool:
        return self.remaining > 0 and self.operation in (None, operation)


@dataclasses.dataclass(frozen=True)
class OssCall:
    """One request the fake answered (or refused), as a test would want to assert on it."""

    operation: str
    method: str
    url: str
    bucket: str | None
    region: str | None
    internal: bool
    status: int
    code: str = ""
    request_id: str = ""
    acl_header: str | None = None
    """The ``x-oss-acl`` value a write asked for."""
    signed_with: str | None = None
    """The AccessKeyId in the Authorization header."""
    carried_token: bool = False
    timeout: object = None
    """The timeout the client gave ``requests`` (None when the transport cannot tell)."""


class OssBackend:
    """The fake's whole state; fresh for each use of :class:`mock_oss`."""

    def __init__(
        self, *, qps_limit: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lock = threading.RLock()
        self.buckets: dict[str, FakeBucket] = {}
        self.credentials: dict[str, FakeCredentials] = {}
        self.calls: list[OssCall] = []
        self.refused: list[str] = []
        """URLs of requests to hosts the fake does not serve; each one was refused."""
        self.faults: list[Fault] = []
        self.writes_to_drop = 0
        self.latency = 0.0
        """Seconds every answered request waits, for benchmarks."""
        self.verify_signatures = True
        """False accepts any key as the default account's, for ``s local invoke`` runs that
        sign with the deployer's own key."""
        self.clock = clock
        """The throttle's time source; tests pass one they can move."""
        self.throttle: QpsLimit | None = None
        self.qps_limit = qps_limit
        self.session_actions: dict[str, frozenset[str]] = {}
        """AccessKeyId of an assumed session -> the OSS actions its session policy allows
        (testing/sts.py fills it): any other action is refused, as OSS does."""
        self.register_credentials(DEFAULT_CREDENTIALS)

    @property
    def qps_limit(self) -> int | None:
        """Requests per second OSS answers before 503 MetaOperationQpsLimitExceeded
        (see :class:`QpsLimit`); None, the default, never throttles. Setting it starts a
        fresh count."""
        return self.throttle.limit if self.throttle else None

    @qps_limit.setter
    def qps_limit(self, limit: int | None) -> None:
        with self.lock:
            self.throttle = None if limit is None else QpsLimit(limit, lambda: self.clock())

    # -- setting the scene -------------------------------------------------------------

    def create_bucket(
        self,
        name: str,
        region: str = "ap-southeast-1",
        acl: str = "private",
        owner_id: str = DEFAULT_ACCOUNT_ID,
        creation_date: str | None = None,
    ) -> FakeBucket:
        if acl not in ACLS:
            raise ValueError(f"unknown ACL {acl!r}")
        with self.lock:
            bucket = FakeBucket(name, region, acl, owner_id)
            bucket.creation_date = creation_date or SCENE_CREATION_DATE
            self.buckets[name] = bucket
            return bucket

    def delete_bucket(self, name: str) -> None:
        with self.lock:
            self.buckets.pop(name, None)

    def register_credentials(self, credentials: FakeCredentials) -> None:
        with self.lock:
            self.credentials[credentials.access_key_id] = credentials

    def limit_session(self, access_key_id: str, actions: frozenset[str]) -> None:
        """Allow the session ``access_key_id`` only ``actions`` (``oss:PutBucketAcl``, ...)."""
        with self.lock:
            self.session_actions[access_key_id] = actions

    def check_session_policy(self, credentials: FakeCredentials, operation: str) -> None:
        """Refuse an operation the key's session policy does not allow."""
        allowed = self.session_actions.get(credentials.access_key_id)
        if allowed is not None and f"oss:{operation}" not in allowed:
            raise access_denied(
                f"The session policy does not allow oss:{operation}.", Action=f"oss:{operation}"
            )

    def expire_credentials(self, access_key_id: str) -> None:
        with self.lock:
            self.credentials[access_key_id] = dataclasses.replace(
                self.credentials[access_key_id], expired=True
            )

    def fail_next(
        self,
        times: int = 1,
        *,
        operation: str | None = None,
        status: int = 503,
        code: str = "ServiceUnavailable",
        message: str = "Please reduce your request rate.",
    ) -> None:
        """Answer the next ``times`` calls with an OSS error instead of doing them."""
        with self.lock:
            self.faults.append(
                Fault(times, operation, error=OssServiceError(status, code, message))
            )

    def raise_next(
        self, exception: BaseException, times: int = 1, *, operation: str | None = None
    ) -> None:
        """Make the next ``times`` calls fail in the transport (timeouts, resets)."""
        with self.lock:
            self.faults.append(Fault(times, operation, exception=exception))

    def before_next(
        self, operation: str, action: Callable[[OssBackend], None], times: int = 1
    ) -> None:
        """Change the world just before the next ``operation`` is served, as another client
        could (``lambda oss: oss.delete_bucket("b")`` between a read and a write)."""
        with self.lock:
            self.faults.append(Fault(times, operation, action=action))

    def drop_next_writes(self, times: int = 1) -> None:
        """Accept the next ``times`` PutBucketAcl calls with 200 but do not apply them."""
        with self.lock:
            self.writes_to_drop += times

    # -- reading the outcome -----------------------------------------------------------

    def acl_of(self, name: str) -> str | None:
        bucket = self.buckets.get(name)
        return bucket.acl if bucket else None

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def policy_of(self, name: str) -> str | None:
        bucket = self.buckets.get(name)
        return bucket.policy if bucket else None

    # -- the operations, called by wire.py ---------------------------------------------

    def take_fault(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.applies_to(operation):
                    fault.remaining -= 1
                    return fault
            return None

    def admit(self) -> None:
        """Raise OSS's throttling error if this request is over the QPS limit."""
        with self.lock:
            if self.throttle is not None and not self.throttle.admit():
                raise qps_limit_exceeded()

    def authorize(self, credentials: FakeCredentials, name: str, region: str) -> FakeBucket:
        """The bucket, if these credentials may use it at this region's endpoint."""
        bucket = self.buckets.get(name)
        if bucket is None:
            raise no_such_bucket(name)
        if bucket.region != region:
            raise access_denied(
                "The bucket you are attempting to access must be addressed using the specified"
                " endpoint. Please send all future requests to this endpoint.",
                BucketName=name,
                Endpoint=f"oss-{bucket.region}.aliyuncs.com",
            )
        if bucket.owner_id != credentials.account_id and (
            credentials.account_id not in bucket.shared_with
        ):
            raise access_denied("You have no right to access this bucket.", BucketName=name)
        return bucket

    def get_bucket_acl(self, credentials: FakeCredentials, name: str, region: str) -> FakeBucket:
        with self.lock:
            return self.authorize(credentials, name, region)

    def get_bucket_info(self, credentials: FakeCredentials, name: str, region: str) -> FakeBucket:
        with self.lock:
            return self.authorize(credentials, name, region)

    def put_bucket_acl(
        self, credentials: FakeCredentials, name: str, region: str, acl: str | None
    ) -> FakeBucket:
        if acl not in ACLS:
            raise OssServiceError(400, "InvalidArgument", "no such bucket access control exists")
        with self.lock:
            if name not in self.buckets:
                # OSS's documented quirk: PutBucketAcl on a missing bucket creates it.
                bucket = self.create_bucket(
                    name, region, acl, credentials.account_id, creation_date=_now()
                )
                bucket.created_by_put_acl = True
                return bucket
            bucket = self.authorize(credentials, name, region)
            if bucket.block_public_access and acl != "private":
                raise _blocked("bucket ACL")
            if self.writes_to_drop:
                self.writes_to_drop -= 1
            else:
                bucket.acl = acl
            return bucket

    def get_bucket_tagging(
        self, credentials: FakeCredentials, name: str, region: str
    ) -> dict[str, str]:
        with self.lock:
            return dict(self.authorize(credentials, name, region).tags)

    def get_bucket_policy(self, credentials: FakeCredentials, name: str, region: str) -> str:
        with self.lock:
            bucket = self.authorize(credentials, name, region)
            if bucket.policy is None:
                raise OssServiceError(
                    404, "NoSuchBucketPolicy", "The bucket policy does not exist.", BucketName=name
                )
            return bucket.policy

    def put_bucket_policy(
        self, credentials: FakeCredentials, name: str, region: str, text: str
    ) -> None:
        """Store a policy; unlike PutBucketAcl this never creates a bucket."""
        document = _policy_document(text)
        with self.lock:
            bucket = self.authorize(credentials, name, region)
            if bucket.block_public_access and _grants_anyone(document):
                raise _blocked("bucket policy")
            bucket.policy = text

    def delete_bucket_policy(self, credentials: FakeCredentials, name: str, region: str) -> None:
        with self.lock:
            self.authorize(credentials, name, region).policy = None

    def get_bucket_public_access_block(
        self, credentials: FakeCredentials, name: str, region: str
    ) -> bool:
        with self.lock:
            return self.authorize(credentials, name, region).block_public_access

    def put_bucket_public_access_block(
        self, credentials: FakeCredentials, name: str, region: str, enabled: bool
    ) -> None:
        with self.lock:
            self.authorize(credentials, name, region).block_public_access = enabled

    def record(self, call: OssCall) -> None:
        with self.lock:
            self.calls.append(call)

    def refuse(self, url: str) -> None:
        with self.lock:
            self.refused.append(url)

    def snapshot(self) -> dict[str, Any]:
        """Every bucket's state, for comparing before and after."""
        with self.lock:
            return {name: dataclasses.asdict(bucket) for name, bucket in self.buckets.items()}


def _policy_document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
        raise OssServiceError(400, "InvalidPolicyDocument", "Invalid policy document.")
    return document


def _grants_anyone(document: dict[str, Any]) -> bool:
    """An Allow statement whose principal includes ``*`` (conditions aside)."""
    for statement in document.get("Statement", []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, list) and "*" in principal):
            return True
    return False


def _blocked(what: str) -> OssServiceError:
    return access_denied(f"Put public {what} is not allowed when Block Public Access is on.")
