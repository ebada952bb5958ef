"""MNS's HTTP face for the fake: PublishMessage and GetTopicAttributes as the real service
takes and answers them.

``POST /topics/<name>/messages`` with an XML ``<Message>`` body, or ``GET /topics/<name>``,
signed with MNS's V1 scheme (``Authorization: MNS <key id>:<signature>``), the STS token in
``security-token``, and ``x-mns-version: 2015-06-06``. Anything else is refused the way MNS
refuses it.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from resource_repair.testing.identities import FakeCredentials
from resource_repair.testing.mns.admin import handle_admin, is_admin_request
from resource_repair.testing.mns.models import (
    DroppedConnection,
    MnsBackend,
    MnsServiceError,
)
from resource_repair.testing.oss.signing import signature

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
API_VERSION = "2015-06-06"
MAX_MESSAGE_BYTES = 65536
MAX_TAG_CHARS = 16
# MNS refuses a request whose Date is further than this from its clock.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)

Answer = tuple[int, dict[str, str], bytes]


def handle_request(
    backend: MnsBackend, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> Answer:
    request_id = uuid.uuid4().hex[:24].upper()
    fault = backend.next_fault()
    try:
        if fault is not None:
            if fault.kind == "drop":
                raise DroppedConnection
            if fault.kind == "error":
                raise MnsServiceError(fault.status, fault.code, "injected by the fake MNS")
            if fault.kind == "delay":
                backend.wait(fault.seconds)
        if not backend.activated:
            raise MnsServiceError(
                403,
                "AccessDenied",
                "The OwnerId that your Access Key Id associated to is forbidden for this"
                " operation.",
            )
        if is_admin_request(method, url):
            return handle_admin(backend, method, url, headers, body, request_id, _signed_by)
        if method == "GET":
            return _topic_attributes(backend, url, headers, request_id)
        return _publish(backend, method, url, headers, body, request_id)
    except MnsServiceError as exc:
        return _error(exc, request_id, headers)


def string_to_sign(method: str, headers: Mapping[str, str], resource: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    mns_headers = sorted((k, v) for k, v in lowered.items() if k.startswith("x-mns-"))
    canonical = "".join(f"{k}:{v}\n" for k, v in mns_headers)
    fields = [method, lowered.get("content-md5", ""), lowered.get("content-type", "")]
    return "\n".join([*fields, lowered.get("date", "")]) + "\n" + canonical + resource


def authenticate(
    backend: MnsBackend, method: str, headers: Mapping[str, str], resource: str
) -> FakeCredentials:
    lowered = {k.lower(): v for k, v in headers.items()}
    scheme, _, value = lowered.get("authorization", "").partition(" ")
    key_id, _, given = value.rpartition(":")
    if scheme != "MNS" or not key_id:
        raise MnsServiceError(403, "AccessDenied", "A signed request is required.")
    credentials = backend.credentials.get(key_id)
    if credentials is None:
        raise MnsServiceError(
            403, "InvalidAccessKeyId", f"The access key id {key_id} does not exist."
        )
    if credentials.security_token and lowered.get("security-token") != credentials.security_token:
        raise MnsServiceError(403, "InvalidSecurityToken", "The security token is invalid.")
    if credentials.expired:
        raise MnsServiceError(403, "SecurityTokenExpired", "The security token has expired.")
    expected = signature(credentials.access_key_secret, string_to_sign(method, headers, resource))
    if not hmac.compare_digest(expected, given):
        raise MnsServiceError(403, "SignatureDoesNotMatch", "The request signature does not match.")
    return credentials


def _publish(
    backend: MnsBackend,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    request_id: str,
) -> Answer:
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if (
        method != "POST"
        or len(segments) != 4
        or segments[1] != "topics"
        or segments[3] != ("messages")
    ):
        raise MnsServiceError(
            400, "InvalidArgument", "The fake MNS serves PublishMessage and GetTopicAttributes."
        )
    credentials = _signed_by(backend, method, parts.path, parts.query, headers)
    lowered = {k.lower(): v for k, v in headers.items()}
    _check_md5(lowered.get("content-md5", ""), body)
    text, tag, attributes = _parse_message(body)
    message = backend.publish(
        segments[2], text, tag, attributes, host=lowered.get("host", ""), credentials=credentials
    )
    md5 = hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - MNS's checksum
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Message xmlns="{XMLNS}"><MessageId>{message.message_id}</MessageId>'
        f"<MessageBodyMD5>{md5}</MessageBodyMD5></Message>"
    )
    return 201, _headers(request_id), answer.encode()


def _topic_attributes(
    backend: MnsBackend, url: str, headers: Mapping[str, str], request_id: str
) -> Answer:
    """``GET /topics/<name>``: the topic's attributes, or 404 ``TopicNotExist``."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if len(segments) != 3 or segments[1] != "topics" or not segments[2]:
        raise MnsServiceError(
            400, "InvalidArgument", "The fake MNS serves PublishMessage and GetTopicAttributes."
        )
    _signed_by(backend, "GET", parts.path, parts.query, headers)
    count = backend.topic_message_count(segments[2])
    host = escape({k.lower(): v for k, v in headers.items()}.get("host", ""))
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Topic xmlns="{XMLNS}"><TopicName>{escape(segments[2])}</TopicName>'
        "<CreateTime>1764237600</CreateTime><LastModifyTime>1764237600</LastModifyTime>"
        f"<MaximumMessageSize>{MAX_MESSAGE_BYTES}</MaximumMessageSize>"
        "<MessageRetentionPeriod>86400</MessageRetentionPeriod>"
        f"<MessageCount>{count}</MessageCount><LoggingEnabled>False</LoggingEnabled>"
        f"<TopicURL>http://{host}/topics/{escape(segments[2])}</TopicURL></Topic>"
    )
    return 200, _headers(request_id), answer.encode()


def _signed_by(
    backend: MnsBackend, method: str, path: str, query: str, headers: Mapping[str, str]
) -> FakeCredentials:
    """What every request must carry: the API version, a recent Date, a valid signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("x-mns-version") != API_VERSION:
        raise MnsServiceError(400, "InvalidArgument", "x-mns-version must be 2015-06-06.")
    _check_date(lowered.get("date", ""))
    return authenticate(backend, method, headers, path + (f"?{query}" if query else ""))


def _check_date(value: str) -> None:
    try:
        sent = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise MnsServiceError(400, "InvalidArgument", "The Date header is missing.") from None
    now = datetime.datetime.now(datetime.timezone.utc)
    if sent.tzinfo is None or abs(now - sent) > MAX_CLOCK_SKEW:
        raise MnsServiceError(403, "TimeExpired", "The Date header is too far from now.")


def _check_md5(value: str, body: bytes) -> None:
    if not value:
        return
    digest = hashlib.md5(body)  # noqa: S324 - a checksum, as MNS uses it
    # The Python SDK sends base64 of the hex digest; the other SDKs the raw digest.
    accepted = {
        base64.b64encode(digest.hexdigest().encode()).decode(),
        base64.b64encode(digest.digest()).decode(),
    }
    if value not in accepted:
        raise MnsServiceError(400, "InvalidDigest", "Content-MD5 does not match the body.")


def _parse_message(body: bytes) -> tuple[str, str, dict[str, str]]:
    if len(body) > MAX_MESSAGE_BYTES + 4096:
        raise MnsServiceError(400, "MessageBodyTooLong", "The message is too long.")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own client's XML, in tests
    except ElementTree.ParseError:
        raise MnsServiceError(400, "MalformedXML", "The request body is not XML.") from None
    if root.tag != f"{{{XMLNS}}}Message":
        raise MnsServiceError(400, "MalformedXML", "The root element must be Message.")
    text = root.findtext(f"{{{XMLNS}}}MessageBody") or ""
    tag = root.findtext(f"{{{XMLNS}}}MessageTag") or ""
    if not text:
        raise MnsServiceError(400, "InvalidArgument", "MessageBody must not be empty.")
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise MnsServiceError(400, "MessageBodyTooLong", "The message body is too long.")
    if len(tag) > MAX_TAG_CHARS:
        raise MnsServiceError(400, "InvalidArgument", "MessageTag is longer than 16.")
    attributes: dict[str, str] = {}
    node = root.find(f"{{{XMLNS}}}MessageAttributes")
    if node is not None:
        for child in node:
            attributes[child.tag.removeprefix(f"{{{XMLNS}}}")] = child.text or ""
    return text, tag, attributes


def _headers(request_id: str) -> dict[str, str]:
    return {
        "Content-Type": "text/xml;charset=utf-8",
        "x-mns-request-id": request_id,
        "x-mns-version": API_VERSION,
    }


def _error(exc: MnsServiceError, request_id: str, headers: Mapping[str, str]) -> Answer:
    host = escape({k.lower(): v for k, v in headers.items()}.get("host", ""))
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Error xmlns="{XMLNS}"><Code>{escape(exc.code)}</Code>'
        f"<Message>{escape(exc.message)}</Message><RequestId>{request_id}</RequestId>"
        f"<HostId>http://{host}</HostId></Error>"
    )
    return exc.status, _headers(request_id), document.encode()
