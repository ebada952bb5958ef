"""SMQ (MNS) for the command-line tools: a topic's attributes (doctor), topics and
subscriptions made and removed (setup), through the client the function publishes with
(resource_repair.smq: the SDK check and the bounded connection). Each call is bounded in
time whatever the server does; every failure is one CheckError line (``code``: MNS's error
code, or ``network``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from resource_repair.credentials import Credentials
from resource_repair.cutoff import CallTimedOutError, run_within
from resource_repair.errors import ResourceRepairError
from resource_repair.redaction import protect_logs
from resource_repair.rpc import network_reason
from resource_repair.smq import open_account, sdk
from resource_repair.tools.doctor.findings import CheckError

T = TypeVar("T")
_SECONDS = 10.0
# MNS's default; a topic setup creates states it, so one made with another size by someone
# else is told apart (TopicAlreadyExist) rather than silently taken over.
MESSAGE_SIZE = 65536
NOTIFY_STRATEGY = "EXPONENTIAL_DECAY_RETRY"
# The notification's JSON as the body: what a webhook or a mail reader wants.
CONTENT_FORMAT = "SIMPLIFIED"


class Smq:
    def __init__(self, endpoint: str, credentials: Credentials) -> None:
        protect_logs(credentials.secrets)
        try:
            sdk()  # refuses an old SDK that prints credentials
        except ResourceRepairError as exc:
            raise CheckError(str(exc)) from None
        self._endpoint = endpoint
        self._credentials = credentials
        # With its port: a fake on loopback is told apart from another by it alone.
        self.host = urlsplit(endpoint).netloc or endpoint

    def topic_attributes(self, topic: str) -> dict[str, Any]:
        """The topic's name and message count; CheckError ``TopicNotExist`` without it."""
        meta = self._call("GetTopicAttributes", lambda a: a.get_topic(topic).get_attributes())
        return {"name": meta.topic_name, "messages": meta.message_count}

    def topic_exists(self, topic: str) -> bool:
        try:
            self.topic_attributes(topic)
        except CheckError as exc:
            if exc.code == "TopicNotExist":
                return False
            raise
        return True

    def create_topic(self, topic: str) -> None:
        import mns.topic

        meta = mns.topic.TopicMeta(maximum_message_size=MESSAGE_SIZE)
        self._call("CreateTopic", lambda a: a.get_topic(topic).create(meta))

    def delete_topic(self, topic: str) -> None:
        self._call("DeleteTopic", lambda a: a.get_topic(topic).delete())

    def subscriptions(self, topic: str) -> list[str]:
        def names(account: Any) -> list[str]:
            found: list[str] = []
            marker = ""
            for _ in range(100):  # 1,000 a page: far beyond any topic's subscriptions
                urls, marker = account.get_topic(topic).list_subscription(
                    ret_number=1000, marker=marker
                )
                found += [str(url).rstrip("/").rpartition("/")[2] for url in urls]
                if not marker:
                    break
            return found

        return self._call("ListSubscriptionByTopic", names)

    def subscribe(self, topic: str, name: str, endpoint: str) -> None:
        import mns.subscription

        meta = mns.subscription.SubscriptionMeta(
            endpoint, notify_strategy=NOTIFY_STRATEGY, notify_content_format=CONTENT_FORMAT
        )
        self._call("Subscribe", lambda a: a.get_topic(topic).get_subscription(name).subscribe(meta))

    def unsubscribe(self, topic: str, name: str) -> None:
        self._call("Unsubscribe", lambda a: a.get_topic(topic).get_subscription(name).unsubscribe())

    def _call(self, operation: str, send: Callable[[Any], T]) -> T:
        account, connection = open_account(self._endpoint, self._credentials, _SECONDS)
        try:
            return run_within(_SECONDS + 1, lambda: send(account), operation, holds=connection)
        except CallTimedOutError:
            raise CheckError(
                f"cannot reach {self.host}: no answer in time", code="network"
            ) from None
        except Exception as exc:  # translated below
            error = exc
        kind, code = type(error).__name__, str(getattr(error, "type", "") or "")
        request_id = getattr(error, "req_id", None) or getattr(error, "request_id", None)
        if kind == "MNSServerException":
            raise CheckError(f"{operation}: {code} (request {request_id})", code=code) from None
        if kind == "MNSClientNetworkException" or isinstance(error, OSError):
            reason = network_reason(str(getattr(error, "message", "") or error))
            raise CheckError(f"cannot reach {self.host}: {reason}", code="network") from None
        raise CheckError(f"{operation}: {kind} {code}") from None
