"""The fake OSS's HTTP face: route a request to the model and render OSS's XML.

Transport-free on purpose: the ``responses`` adapter (mock.py) and anything else that can
hand over method, URL, headers and body share this one implementation.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import time
import uuid
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from resource_repair.testing.identities import FakeCredentials
from resource_repair.testing.oss.models import (
    KNOWN_REGIONS,
    FakeBucket,
    OssBackend,
    OssCall,
    OssServiceError,
)
from resource_repair.testing.oss.signing import authenticate

_VIRTUAL_HOST = re.compile(
    r"(?P<bucket>[a-z0-9][a-z0-9-]*[a-z0-9])\.oss-(?P<region>[a-z0-9-]+?)(?P<internal>-internal)?\.aliyuncs\.com"
)


class UnservedHostError(Exception):
    """A request for a host this fake does not serve; the adapter refuses the connection.

    ``no_such_host`` marks an OSS-shaped host of a region that does not exist, which real
    DNS would not resolve.
    """

    def __init__(self, message: str, *, no_such_host: bool) -> None:
        super().__init__(message)
        self.no_such_host = no_such_host


@dataclasses.dataclass(frozen=True)
class WireResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass(frozen=True)
class _Target:
    bucket: str
    region: str
    internal: bool


def handle_request(
    backend: OssBackend,
    method: str,
    url: str,
    headers: Mapping[str, str],
    timeout: object = None,
    body: bytes | str | None = b"",
) -> WireResponse:
    """Answer one request as OSS would; raise UnservedHostError for a foreign host and
    re-raise an injected transport exception."""
    parts = urlsplit(url)
    target = _target(backend, parts.hostname or "", parts.path)
    if target is None:
        backend.refuse(url)
        raise UnservedHostError(
            f"the fake OSS does not serve {parts.hostname!r}",
            no_such_host=(parts.hostname or "").endswith(".aliyuncs.com"),
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    operation = _operation(method, query)
    request_id = uuid.uuid4().hex[:24].upper()
    call = OssCall(
        operation=operation,
        method=method,
        url=url,
        bucket=target.bucket,
        region=target.region,
        internal=target.internal,
        status=200,
        request_id=request_id,
        acl_header=_header(headers, "x-oss-acl"),
        signed_with=_signer(headers),
        carried_token=bool(_header(headers, "x-oss-security-token")),
        timeout=timeout,
    )
    if backend.latency:
        time.sleep(backend.latency)
    fault = backend.take_fault(operation)
    if fault is not None and fault.action is not None:
        fault.action(backend)
        fault = None
    if fault is not None and fault.exception is not None:
        backend.record(dataclasses.replace(call, status=0, code=type(fault.exception).__name__))
        raise fault.exception
    try:
        if fault is not None and fault.error is not None:
            raise fault.error
        # Throttled before anything else is looked at, and so before the signature.
        backend.admit()
        credentials = (
            authenticate(backend.credentials, method, headers, target.bucket, query)
            if backend.verify_signatures
            else FakeCredentials(_signer(headers) or "anonymous", "")
        )
        backend.check_session_policy(credentials, operation)
        payload = body.encode() if isinstance(body, str) else (body or b"")
        answer = _perform(backend, operation, credentials, target, headers, payload)
    except OssServiceError as error:
        backend.record(dataclasses.replace(call, status=error.status, code=error.code))
        return WireResponse(
            error.status, _headers(request_id), _error_xml(error, request_id, parts.hostname or "")
        )
    backend.record(call)
    return WireResponse(200, _headers(request_id), answer)


def _target(backend: OssBackend, host: str, path: str) -> _Target | None:
    if _is_ip_or_localhost(host):
        # Path-style, as oss2 sends to an IP endpoint: /<bucket>/... in the bucket's region.
        bucket = path.lstrip("/").partition("/")[0]
        known = backend.buckets.get(bucket)
        return _Target(bucket, known.region if known else "local", False) if bucket else None
    match = _VIRTUAL_HOST.fullmatch(host)
    if match is None or match["region"] not in KNOWN_REGIONS:
        return None
    return _Target(match["bucket"], match["region"], bool(match["internal"]))


def _is_ip_or_localhost(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _operation(method: str, query: Mapping[str, str]) -> str:
    if "acl" in query:
        return {"GET": "GetBucketAcl", "PUT": "PutBucketAcl"}.get(method, f"{method} ?acl")
    if "bucketInfo" in query and method == "GET":
        return "GetBucketInfo"
    for subresource, name in (
        ("policy", "BucketPolicy"),
        ("publicAccessBlock", "BucketPublicAccessBlock"),
        ("tagging", "BucketTagging"),
    ):
        if subresource in query:
            verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
            return f"{verb}{name}" if verb else f"{method} ?{subresource}"
    return f"{method} {'&'.join(sorted(query)) or '/'}"


def _perform(
    backend: OssBackend,
    operation: str,
    credentials: FakeCredentials,
    target: _Target,
    headers: Mapping[str, str],
    body: bytes = b"",
) -> bytes:
    bucket, region = target.bucket, target.region
    if operation == "GetBucketAcl":
        return _acl_xml(backend.get_bucket_acl(credentials, target.bucket, target.region))
    if operation == "PutBucketAcl":
        backend.put_bucket_acl(
            credentials, target.bucket, target.region, _header(headers, "x-oss-acl")
        )
        return b""
    if operation == "GetBucketInfo":
        return _info_xml(backend.get_bucket_info(credentials, target.bucket, target.region))
    if operation == "GetBucketTagging":
        return _tagging_xml(backend.get_bucket_tagging(credentials, bucket, region))
    if operation == "GetBucketPolicy":
        return backend.get_bucket_policy(credentials, bucket, region).encode()
    if operation == "PutBucketPolicy":
        backend.put_bucket_policy(credentials, bucket, region, body.decode("utf-8", "replace"))
        return b""
    if operation == "DeleteBucketPolicy":
        backend.delete_bucket_policy(credentials, bucket, region)
        return b""
    if operation == "GetBucketPublicAccessBlock":
        enabled = backend.get_bucket_public_access_block(credentials, bucket, region)
        return _public_access_block_xml(enabled)
    if operation == "PutBucketPublicAccessBlock":
        enabled = _block_public_access(body)
        backend.put_bucket_public_access_block(credentials, bucket, region, enabled)
        return b""
    if operation == "DeleteBucketPublicAccessBlock":
        backend.put_bucket_public_access_block(credentials, bucket, region, False)
        return b""
    raise OssServiceError(501, "NotImplemented", f"The fake OSS does not implement {operation}.")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _signer(headers: Mapping[str, str]) -> str | None:
    authorization = _header(headers, "authorization") or ""
    return authorization.partition(" ")[2].rpartition(":")[0] or None


def _headers(request_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/xml",
        "Server": "AliyunOSS",
        "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
        "x-oss-request-id": request_id,
    }


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _error_xml(error: OssServiceError, request_id: str, host: str) -> bytes:
    extra = "".join(f"  <{k}>{escape(v)}</{k}>\n" for k, v in error.extra.items())
    return (
        f"{_XML_DECLARATION}<Error>\n  <Code>{error.code}</Code>\n"
        f"  <Message>{escape(error.message)}</Message>\n  <RequestId>{request_id}</RequestId>\n"
        f"  <HostId>{escape(host)}</HostId>\n{extra}</Error>\n"
    ).encode()


def _owner_xml(bucket: FakeBucket) -> str:
    return f"<Owner><ID>{bucket.owner_id}</ID><DisplayName>{bucket.owner_id}</DisplayName></Owner>"


def _acl_xml(bucket: FakeBucket) -> bytes:
    return (
        f"{_XML_DECLARATION}<AccessControlPolicy>{_owner_xml(bucket)}"
        f"<AccessControlList><Grant>{bucket.acl}</Grant></AccessControlList>"
        "</AccessControlPolicy>"
    ).encode()


def _info_xml(bucket: FakeBucket) -> bytes:
    return (
        f"{_XML_DECLARATION}<BucketInfo><Bucket>"
        f"<AccessMonitor>Disabled</AccessMonitor><CreationDate>{bucket.creation_date}</CreationDate>"
        f"<ExtranetEndpoint>oss-{bucket.region}.aliyuncs.com</ExtranetEndpoint>"
        f"<IntranetEndpoint>oss-{bucket.region}-internal.aliyuncs.com</IntranetEndpoint>"
        f"<Location>oss-{bucket.region}</Location><Name>{bucket.name}</Name>"
        f"<StorageClass>Standard</StorageClass><DataRedundancyType>LRS</DataRedundancyType>"
        f"{_owner_xml(bucket)}<AccessControlList><Grant>{bucket.acl}</Grant></AccessControlList>"
        "<ServerSideEncryptionRule><SSEAlgorithm>None</SSEAlgorithm></ServerSideEncryptionRule>"
        "<Comment></Comment></Bucket></BucketInfo>"
    ).encode()


def _tagging_xml(tags: Mapping[str, str]) -> bytes:
    entries = "".join(
        f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags.items()
    )
    return f"{_XML_DECLARATION}<Tagging><TagSet>{entries}</TagSet></Tagging>".encode()


def _public_access_block_xml(enabled: bool) -> bytes:
    return (
        f"{_XML_DECLARATION}<PublicAccessBlockConfiguration>"
        f"<BlockPublicAccess>{str(enabled).lower()}</BlockPublicAccess>"
        "</PublicAccessBlockConfiguration>"
    ).encode()


def _block_public_access(body: bytes) -> bool:
    """The setting of a PutBucketPublicAccessBlock body (oss2 writes ``True``, capitalised)."""
    match = _PUBLIC_ACCESS_BLOCK.fullmatch(body.decode("utf-8", "replace"))
    if match is None:
        raise OssServiceError(400, "MalformedXML", "The XML you provided was not well-formed.")
    return match[1].lower() == "true"


_PUBLIC_ACCESS_BLOCK = re.compile(
    r"\s*(?:<\?xml[^>]*\?>)?\s*<PublicAccessBlockConfiguration>\s*"
    r"<BlockPublicAccess>\s*(true|false)\s*</BlockPublicAccess>\s*"
    r"</PublicAccessBlockConfiguration>\s*",
    re.IGNORECASE,
)
