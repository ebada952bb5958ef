"""The one place that builds OSS clients and turns oss2's exceptions into ours.

It also sets the transport rules every OSS request follows, whatever oss2 and requests would
do on their own:

- Each attempt has a total time limit, its request timeout cut to the time the invocation
  has left, and the limit is kept by waiting for the request from outside it: oss2's timeout
  is per socket read, so a server that sends a byte now and then would hold a request, and
  the function, forever. An attempt that runs out of time is abandoned (a transient
  failure) and its connection shut down, so that it neither lingers nor spoils the pool
  (cutoff.run_within, the mechanism every network call of the package goes through).
- A redirect is never followed: requests would send the security token to whatever host the
  ``Location`` names. A 3xx is a permanent failure.
- Whatever breaks while the answer is read counts as a transient failure, including the
  body and error document, which oss2 reads outside its own error wrapping.

Importing this module imports oss2 (a few hundred milliseconds), so the handler imports it
only once a message has proved to need a request.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import oss2
import oss2.exceptions
import requests
import requests.adapters
import urllib3.connectionpool
import urllib3.exceptions

from resource_repair.credentials import Credentials
from resource_repair.cutoff import CallTimedOutError, run_within, tracking_adapter
from resource_repair.errors import (
    BucketNotFoundError,
    OssCallError,
    PermanentOssError,
    TransientOssError,
)
from resource_repair.redaction import SIGNATURE_ECHO_FIELDS, protect_logs
from resource_repair.remediators.contract import BucketState
from resource_repair.retry import SHORTEST_ATTEMPT, Deadline
from resource_repair.rpc import network_reason
from resource_repair.settings import EndpointMode

T = TypeVar("T")

_session: oss2.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> oss2.Session:
    """One connection pool per function instance, reused by every invocation it serves
    (the sample opened a new connection for every delivery)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = _GuardedSession()
        return _session


def oss_endpoint(region: str, internal: bool) -> str:
    """HTTPS endpoint of a region; ``region`` must already have passed check_region_id."""
    return f"https://oss-{region}{'-internal' if internal else ''}.aliyuncs.com"


def use_internal_endpoint(
    mode: EndpointMode, bucket_region: str, function_region: str | None
) -> bool:
    if mode is EndpointMode.AUTO:
        # The internal endpoint is only reachable from inside the bucket's own region.
        return function_region == bucket_region
    return mode is EndpointMode.INTERNAL


class BucketClient:
    """The bucket calls the remediators make (ACL, tags, policy, Block Public Access) on one
    bucket, failures sorted by what to do next.

    Every call is one attempt that ends within ``timeout`` seconds and before ``deadline``,
    or raises TransientOssError; retrying is the caller's business (RetryPolicy).
    """

    def __init__(
        self,
        credentials: Credentials,
        endpoint: str,
        bucket: str,
        timeout: float,
        *,
        deadline: Deadline,
    ) -> None:
        protect_logs(credentials.secrets)
        # StsAuth signs V1 and leaves the token header out when the token is empty, so it
        # serves long-term keys too.
        auth = oss2.StsAuth(
            credentials.access_key_id, credentials.access_key_secret, credentials.security_token
        )
        self._bucket = oss2.Bucket(
            auth, endpoint, bucket, session=shared_session(), connect_timeout=timeout
        )
        self._timeout = timeout
        self._deadline = deadline
        self._host = _request_host(endpoint, bucket)

    def get_state(self) -> BucketState:
        """The bucket's ACL, owner and creation date; BucketNotFoundError if it is missing."""
        info = self._attempt("GetBucketInfo", self._bucket.get_bucket_info)
        return BucketState(
            acl=str(info.acl.grant),
            owner_id=str(info.owner.id or ""),
            creation_date=str(info.creation_date or ""),
            request_id=str(info.request_id),
        )

    def put_acl(self, acl: str) -> str:
        """Overwrite the ACL; the request id. Creates a missing bucket: read it first."""
        result = self._attempt("PutBucketAcl", lambda: self._bucket.put_bucket_acl(acl))
        return str(result.request_id)

    def get_tags(self) -> tuple[dict[str, str], str]:
        """The bucket's tags and the request id (no tags: an empty dict)."""
        try:
            result = self._attempt("GetBucketTagging", self._bucket.get_bucket_tagging)
        except PermanentOssError as exc:
            if exc.code in _NO_TAGS:
                return {}, exc.request_id
            raise
        rules = getattr(getattr(result, "tag_set", None), "tagging_rule", None) or {}
        return {str(k): str(v) for k, v in rules.items()}, str(result.request_id)

    def get_policy(self) -> tuple[str | None, str]:
        """The bucket policy's JSON text (None: the bucket has none) and the request id."""
        try:
            result = self._attempt("GetBucketPolicy", self._bucket.get_bucket_policy)
        except PermanentOssError as exc:
            if exc.code == "NoSuchBucketPolicy":
                return None, exc.request_id
            raise
        return str(result.policy), str(result.request_id)

    def put_policy(self, policy: str) -> str:
        result = self._attempt("PutBucketPolicy", lambda: self._bucket.put_bucket_policy(policy))
        return str(result.request_id)

    def delete_policy(self) -> str:
        result = self._attempt("DeleteBucketPolicy", self._bucket.delete_bucket_policy)
        return str(result.request_id)

    def get_public_access_block(self) -> tuple[bool, str]:
        """Whether Block Public Access is on for the bucket, and the request id."""
        call = _sdk_call(self._bucket, "get_bucket_public_access_block")
        result = self._attempt("GetBucketPublicAccessBlock", call)
        return _as_bool(result.block_public_access), str(result.request_id)

    def put_public_access_block(self, enabled: bool) -> str:
        call = _sdk_call(self._bucket, "put_bucket_public_access_block")
        result = self._attempt("PutBucketPublicAccessBlock", lambda: call(enabled))
        return str(result.request_id)

    def _attempt(self, operation: str, request: Callable[[], T]) -> T:
        limit = self._deadline.cut(self._timeout)
        if limit < SHORTEST_ATTEMPT:
            raise TransientOssError(
                operation, None, "NoTimeLeft", "the invocation has no time left; not sent", ""
            )
        # oss2 hands its timeout to requests as connect and per-read timeout, which ends a
        # plain stall with requests' own error. The limit kept from outside, a moment later
        # when the deadline allows, bounds what no per-read timeout sees: a trickle.
        self._bucket.timeout = limit
        backstop = min(limit + _BACKSTOP_GRACE, self._deadline.remaining())
        seconds = max(backstop, limit)
        with _translated(operation, self._host, limit):
            try:
                return run_within(seconds, request, operation)
            except CallTimedOutError:
                # Abandoned, its connection cut (see cutoff): a transient failure.
                raise TransientOssError(
                    operation, None, "TimedOut", f"no complete answer within {seconds:.2f}s", ""
                ) from None


_BACKSTOP_GRACE = 0.1
# What OSS answers GetBucketTagging for a bucket that has never had tags.
_NO_TAGS = frozenset({"NoSuchTagSet", "NoSuchTagSetError"})


def _sdk_call(bucket: oss2.Bucket, name: str) -> Callable[..., Any]:
    """One of oss2's Block Public Access calls. They first appear in oss2 2.19.0; the code
    package carries that version (requirements-fc.txt) because FC's python3.10 runtime has
    2.16.0. An older oss2 on the path is a packaging mistake: said plainly, nothing sent."""
    call = getattr(bucket, name, None)
    if call is None:
        raise PermanentOssError(
            "".join(part.capitalize() for part in name.split("_")),
            None,
            "SdkTooOld",
            f"oss2 {oss2.__version__} has no {name} (needs 2.19.0 or later, which the code"
            " package built by fc_package.py carries)",
            "",
        )
    return call  # type: ignore[no-any-return]


def _as_bool(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class _NoRedirects(requests.Session):
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        # requests would follow a 3xx and carry x-oss-security-token (and the request's
        # body) to the new host; answering "no target" hands the 3xx itself to oss2.
        return None


# An adapter whose pools let an attempt's time limit cut the connection it holds.
_TRACKING_ADAPTER = tracking_adapter(requests.adapters, urllib3.connectionpool)


class _GuardedSession(oss2.Session):  # type: ignore[misc]  # oss2 is untyped
    """oss2's Session (its pool sizes) on a requests session that follows no redirect and
    lets an attempt's time limit cut its connection."""

    session: requests.Session

    def __init__(self) -> None:
        super().__init__()
        self.session.close()
        self.session = _NoRedirects()
        size = oss2.defaults.connection_pool_size
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _TRACKING_ADAPTER(pool_connections=size, pool_maxsize=size))


def _request_host(endpoint: str, bucket: str) -> str:
    """The host oss2 sends a bucket's requests to: ``<bucket>.<endpoint>``, or the endpoint
    itself for an IP address or localhost (a fake), where the bucket goes into the path."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    host = parts.hostname or endpoint
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            return f"{bucket}.{parts.netloc}"
    return parts.netloc


@contextlib.contextmanager
def _translated(operation: str, host: str = "", seconds: float | None = None) -> Iterator[None]:
    """Re-raise oss2's failures, and the transport's, as PermanentOssError or
    TransientOssError. A connection failure is said in plain words with the host it was
    for (``host``), never as the libraries' nested texts."""
    try:
        yield
    except oss2.exceptions.OssError as exc:
        raise translate_oss_error(operation, exc, host, seconds) from exc
    except ParseError as exc:
        raise TransientOssError(
            operation, None, "MalformedResponse", "OSS answered with unreadable XML", ""
        ) from exc
    except _TRANSPORT_ERRORS as exc:
        # oss2 wraps only the sending of a request; reading the answer's body (an error
        # document too) raises requests' own exceptions: a read timeout, a reset, a
        # chunked body cut short.
        detail = _first_line(f"{type(exc).__name__}: {exc}")
        detail = _plainly(detail, str(exc), host, seconds)
        raise TransientOssError(operation, None, "RequestError", detail, "") from exc


_TRANSPORT_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


def _plainly(detail: str, text: str, host: str, seconds: float | None) -> str:
    """A connection failure in plain words with its host (name not found, refused, no
    answer in time, TLS), instead of the libraries' nested texts; any other transport
    failure (an answer too large, a body cut short) as it was told."""
    reason = network_reason(text, seconds=seconds)
    if not host or reason.startswith("connection failed"):
        return detail
    return f"cannot reach {host}: {reason}"


def translate_oss_error(
    operation: str, exc: oss2.exceptions.OssError, host: str = "", seconds: float | None = None
) -> OssCallError:
    _cut_signature_echo(exc)
    status = int(exc.status)
    code = exc.code or type(exc).__name__
    message = exc.message or ""
    request_id = exc.request_id or ""
    if isinstance(exc, oss2.exceptions.RequestError):
        detail = _first_line(str(exc.body))
        detail = _plainly(detail, str(exc.body), host, seconds)
        if _names_no_host(exc):
            # The region's endpoint does not exist in DNS: a well-formed but unknown region.
            # Retrying cannot help, and raising would have FC replay the message for nothing.
            return PermanentOssError(operation, None, "EndpointNotFound", detail, "")
        # Timeouts and broken connections: oss2 gives status -2 and the requests error.
        return TransientOssError(operation, None, "RequestError", detail, "")
    if 300 <= status < 400:
        # Not followed (see _NoRedirects), and not retried: OSS's own endpoints do not
        # redirect bucket operations, so whatever answered is not OSS as we know it.
        return PermanentOssError(
            operation,
            status,
            "Redirect",
            "not followed, so that the credentials go to no other host",
            request_id,
        )
    if isinstance(exc, oss2.exceptions.NoSuchBucket):
        return BucketNotFoundError(operation, status, code, message, request_id)
    if code == "SecurityTokenExpired":
        # The role's token rotated under us; FC's next attempt gets fresh credentials.
        return TransientOssError(operation, status, code, message, request_id)
    # 5xx covers OSS's 503 throttling codes (MetaOperationQpsLimitExceeded, ...).
    if status >= 500 or status == 429:
        return TransientOssError(operation, status, code, message, request_id)
    return PermanentOssError(operation, status, code, message, request_id)


def _cut_signature_echo(exc: oss2.exceptions.OssError) -> None:
    """Take OSS's echo of what it signed out of ``exc``, which is chained to ours and so
    shows in any traceback: with STS keys the string to sign holds the security token, in
    clear and in hex (StringToSignBytes)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    for name in SIGNATURE_ECHO_FIELDS:
        details.pop(name, None)
    if isinstance(exc.body, bytes):
        exc.body = _ECHOED_ELEMENT.sub(b"", exc.body)
    # The same error document, base64-encoded, when the answer has no body (HEAD).
    headers = getattr(exc, "headers", None)
    if headers is not None and "x-oss-err" in headers:
        with contextlib.suppress(TypeError, KeyError):
            del headers["x-oss-err"]


_ECHOED_ELEMENT = re.compile(
    rb"(?s)\s*<(" + "|".join(SIGNATURE_ECHO_FIELDS).encode() + rb")>.*?</\1>"
)


def _names_no_host(exc: BaseException) -> bool:
    """True when a DNS lookup said the host does not exist (not a passing resolver failure)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen or len(seen) > 32:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return current.errno in _NO_SUCH_HOST
        # requests and urllib3 wrap the socket error in layers: follow every link.
        links = (current.__cause__, current.__context__, getattr(current, "reason", None))
        pending.extend((*links, getattr(current, "exception", None)))
        pending.extend(current.args)
    return False


_NO_SUCH_HOST = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code
)


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]
