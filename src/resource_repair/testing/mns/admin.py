"""MNS's topic and subscription management for the fake, as ``resource-repair setup`` calls
it through aliyun-mns-sdk: CreateTopic, DeleteTopic, Subscribe, Unsubscribe and
ListSubscriptionByTopic, with the answers and error codes MNS documents.

``PUT /topics/<name>`` creates (201; 204 when it exists with the same attributes; 409
``TopicAlreadyExist`` when with others), ``DELETE /topics/<name>`` deletes (204),
``PUT``/``DELETE /topics/<name>/subscriptions/<sub>`` subscribe and unsubscribe, and
``GET /topics/<name>/subscriptions`` lists. A fake account whose SMQ is not activated
answers every request 403 ``AccessDenied``, as MNS does for such an owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from resource_repair.testing.mns.models import FakeSubscription, MnsBackend, MnsServiceError

XMLNS = "http://mns.aliyuncs.com/doc/v1/"
Answer = tuple[int, dict[str, str], bytes]
# MNS's own default for a topic's MaximumMessageSize.
DEFAULT_MESSAGE_SIZE = 65536


def is_admin_request(method: str, url: str) -> bool:
    """Everything but PublishMessage (POST .../messages) and GetTopicAttributes (GET
    /topics/<name>), which wire.py answers."""
    segments = urlsplit(url).path.split("/")
    if method in ("PUT", "DELETE"):
        return True
    return method == "GET" and len(segments) == 4 and segments[3] == "subscriptions"


def handle_admin(
    backend: MnsBackend,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    request_id: str,
    signed_by: object,
) -> Answer:
    """``signed_by(backend, method, path, query, headers)`` authenticates (wire.py's)."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if len(segments) < 3 or segments[1] != "topics" or not segments[2]:
        raise MnsServiceError(400, "InvalidRequestURL", "Http request URL format invalid.")
    signed_by(backend, method, parts.path, parts.query, headers)  # type: ignore[operator]
    host = {k.lower(): v for k, v in headers.items()}.get("host", "")
    topic = segments[2]
    if len(segments) == 3:
        if method == "PUT":
            size = _topic_size(body)
            created = backend.create_topic_with(topic, size)
            location = {"Location": f"http://{host}/topics/{topic}"}
            return (201 if created else 204), {**_headers(request_id), **location}, b""
        backend.delete_topic(topic)
        return 204, _headers(request_id), b""
    if len(segments) == 4 and method == "GET":
        return 200, _headers(request_id), _listing(backend, topic, host)
    if len(segments) == 5 and segments[3] == "subscriptions" and segments[4]:
        name = segments[4]
        if method == "PUT":
            created = backend.subscribe(topic, name, _subscription(body))
            location = {"Location": f"http://{host}/topics/{topic}/subscriptions/{name}"}
            return (201 if created else 204), {**_headers(request_id), **location}, b""
        backend.unsubscribe(topic, name)
        return 204, _headers(request_id), b""
    raise MnsServiceError(400, "InvalidRequestURL", "Http request URL format invalid.")


def _children(body: bytes, root_name: str) -> dict[str, str]:
    if not body:
        return {}
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own client's XML, in tests
    except ElementTree.ParseError:
        raise MnsServiceError(400, "InvalidArgument", "The XML is malformed.") from None
    if root.tag.removeprefix(f"{{{XMLNS}}}") != root_name:
        raise MnsServiceError(400, "InvalidArgument", f"The root element must be {root_name}.")
    return {child.tag.removeprefix(f"{{{XMLNS}}}"): (child.text or "") for child in root}


def _topic_size(body: bytes) -> int:
    value = _children(body, "Topic").get("MaximumMessageSize", "")
    if not value:
        return DEFAULT_MESSAGE_SIZE
    if not value.isdigit() or not 1024 <= int(value) <= 65536:
        raise MnsServiceError(
            400,
            "InvalidArgument",
            "The value of MaximumMessageSize must be between 1024 and 65536.",
        )
    return int(value)


def _subscription(body: bytes) -> FakeSubscription:
    fields = _children(body, "Subscription")
    endpoint = fields.get("Endpoint", "")
    if not endpoint:
        raise MnsServiceError(400, "InvalidArgument", "Endpoint is required.")
    return FakeSubscription(
        endpoint=endpoint,
        notify_strategy=fields.get("NotifyStrategy") or "BACKOFF_RETRY",
        notify_content_format=fields.get("NotifyContentFormat") or "XML",
        filter_tag=fields.get("FilterTag", ""),
    )


def _listing(backend: MnsBackend, topic: str, host: str) -> bytes:
    names = backend.subscription_names(topic)
    items = "".join(
        f"<Subscription><SubscriptionURL>http://{escape(host)}/topics/{escape(topic)}"
        f"/subscriptions/{escape(name)}</SubscriptionURL></Subscription>"
        for name in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Subscriptions xmlns="{XMLNS}">{items}</Subscriptions>'
    ).encode()


def _headers(request_id: str) -> dict[str, str]:
    return {
        "Content-Type": "text/xml;charset=utf-8",
        "x-mns-request-id": request_id,
        "x-mns-version": "2015-06-06",
    }
