"""The one place that builds OSS clients and turns oss2's exceptions into ours.

Importing this module imports oss2 (a few hundred milliseconds), so the handler imports it
only once a message has proved to need a request.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

import oss2
import oss2.exceptions

from resource_repair.credentials import Credentials
from resource_repair.errors import (
    BucketNotFoundError,
    OssCallError,
    PermanentOssError,
    TransientOssError,
)
from resource_repair.redaction import protect_logs
from resource_repair.remediator import BucketState
from resource_repair.settings import EndpointMode

_session: oss2.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> oss2.Session:
    """One connection pool per function instance, reused by every invocation it serves
    (the sample opened a new connection for every delivery)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = oss2.Session()
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
    """GetBucketInfo and PutBucketAcl on one bucket, failures sorted by what to do next."""

    def __init__(
        self, credentials: Credentials, endpoint: str, bucket: str, timeout: float
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

    def get_state(self) -> BucketState:
        """The bucket's ACL, owner and creation date; BucketNotFoundError if it is missing."""
        with _translated("GetBucketInfo"):
            info = self._bucket.get_bucket_info()
        return BucketState(
            acl=str(info.acl.grant),
            owner_id=str(info.owner.id or ""),
            creation_date=str(info.creation_date or ""),
            request_id=str(info.request_id),
        )

    def put_acl(self, acl: str) -> str:
        """Overwrite the ACL; the request id. Creates a missing bucket: read it first."""
        with _translated("PutBucketAcl"):
            result = self._bucket.put_bucket_acl(acl)
        return str(result.request_id)


@contextlib.contextmanager
def _translated(operation: str) -> Iterator[None]:
    """Re-raise oss2's failures as PermanentOssError or TransientOssError."""
    try:
        yield
    except oss2.exceptions.OssError as exc:
        raise translate_oss_error(operation, exc) from exc
    except ParseError as exc:
        raise TransientOssError(
            operation, None, "MalformedResponse", "OSS answered with unreadable XML", ""
        ) from exc


def translate_oss_error(operation: str, exc: oss2.exceptions.OssError) -> OssCallError:
    status = int(exc.status)
    code = exc.code or type(exc).__name__
    message = exc.message or ""
    request_id = exc.request_id or ""
    if isinstance(exc, oss2.exceptions.RequestError):
        detail = _first_line(str(exc.body))
        if _names_no_host(exc):
            # The region's endpoint does not exist in DNS: a well-formed but unknown region.
            # Retrying cannot help, and raising would have FC replay the message for nothing.
            return PermanentOssError(operation, None, "EndpointNotFound", detail, "")
        # Timeouts and broken connections: oss2 gives status -2 and the requests error.
        return TransientOssError(operation, None, "RequestError", detail, "")
    if isinstance(exc, oss2.exceptions.NoSuchBucket):
        return BucketNotFoundError(operation, status, code, message, request_id)
    if code == "SecurityTokenExpired":
        # The role's token rotated under us; FC's next attempt gets fresh credentials.
        return TransientOssError(operation, status, code, message, request_id)
    # 5xx covers OSS's 503 throttling codes (MetaOperationQpsLimitExceeded, ...).
    if status >= 500 or status == 429:
        return TransientOssError(operation, status, code, message, request_id)
    return PermanentOssError(operation, status, code, message, request_id)


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
