"""State of the fake MNS: topics, the messages published to them, credentials and faults.

No HTTP here (that is wire.py); a refused request raises :class:`MnsServiceError`, which
wire.py renders as MNS's own error document.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Mapping

from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)


class MnsServiceError(Exception):
    """An error answer, as MNS words it: HTTP status, ``Code`` and ``Message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class DroppedConnection(Exception):  # noqa: N818 - a transport event, not an error answer
    """Raised by a fault to make the server close the connection without answering."""


@dataclasses.dataclass(frozen=True)
class PublishedMessage:
    topic: str
    message_id: str
    body: str
    tag: str
    attributes: Mapping[str, str]
    """``MessageAttributes`` children, e.g. ``DirectMail`` (a JSON text)."""
    host: str
    key_id: str
    security_token: str


@dataclasses.dataclass(frozen=True)
class FakeSubscription:
    """A topic's subscription: where MNS pushes, and how."""

    endpoint: str
    notify_strategy: str = "BACKOFF_RETRY"
    notify_content_format: str = "XML"
    filter_tag: str = ""


@dataclasses.dataclass(frozen=True)
class Fault:
    """What the next request meets instead of a normal answer.

    ``error``: an MNS error answer (``status``, ``code``); ``delay``: the answer comes after
    ``seconds``; ``drop``: the connection is closed without an answer.
    """

    kind: str
    status: int = 0
    code: str = ""
    seconds: float = 0.0

    @classmethod
    def error(cls, status: int, code: str) -> Fault:
        return cls("error", status=status, code=code)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")


class MnsBackend:
    """One account's topics. Thread-safe: the HTTP server answers on several threads."""

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT_ID,
        credentials: tuple[FakeCredentials, ...] = (DEFAULT_CREDENTIALS,),
    ) -> None:
        self.account_id = account_id
        self.credentials = {c.access_key_id: c for c in credentials}
        self.topics: dict[str, list[PublishedMessage]] = {}
        self.requests = 0
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # Set when the test ends, so that a delayed answer stops waiting at once.
        self._released = threading.Event()
        self.activated = True
        """False: the account has not activated SMQ, and every request is refused."""
        self.topic_sizes: dict[str, int] = {}
        """A topic's MaximumMessageSize, when it was created with one (admin.py)."""
        self.subscriptions: dict[str, dict[str, FakeSubscription]] = {}

    def create_topic(self, name: str) -> None:
        with self._lock:
            self.topics.setdefault(name, [])

    def topic_message_count(self, topic: str) -> int:
        """What GetTopicAttributes needs: the topic must exist (else ``TopicNotExist``)."""
        with self._lock:
            if topic not in self.topics:
                raise MnsServiceError(
                    404, "TopicNotExist", "The topic you provided does not exist."
                )
            return len(self.topics[topic])

    def messages(self, topic: str) -> list[PublishedMessage]:
        with self._lock:
            return list(self.topics.get(topic, []))

    def all_messages(self) -> list[PublishedMessage]:
        with self._lock:
            return [m for messages in self.topics.values() for m in messages]

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Let the next ``times`` requests meet ``fault``."""
        with self._lock:
            self._faults.extend([fault] * times)

    def release(self) -> None:
        """End every delay now (called when the server shuts down)."""
        self._released.set()

    def next_fault(self) -> Fault | None:
        with self._lock:
            self.requests += 1
            return self._faults.pop(0) if self._faults else None

    def wait(self, seconds: float) -> None:
        self._released.wait(seconds)

    def publish(
        self,
        topic: str,
        body: str,
        tag: str,
        attributes: Mapping[str, str],
        *,
        host: str,
        credentials: FakeCredentials,
    ) -> PublishedMessage:
        with self._lock:
            if topic not in self.topics:
                raise MnsServiceError(
                    404, "TopicNotExist", "The topic you provided does not exist."
                )
            message = PublishedMessage(
                topic=topic,
                message_id=f"FAKE{next(self._ids):012d}",
                body=body,
                tag=tag,
                attributes=dict(attributes),
                host=host,
                key_id=credentials.access_key_id,
                security_token=credentials.security_token,
            )
            self.topics[topic].append(message)
            return message

    # -- topic and subscription management (admin.py) -------------------------------------

    def create_topic_with(self, name: str, maximum_message_size: int) -> bool:
        """CreateTopic: True when created; False when it exists with the same attributes;
        409 ``TopicAlreadyExist`` when it exists with others."""
        with self._lock:
            if name in self.topics:
                if self.topic_sizes.get(name, maximum_message_size) != maximum_message_size:
                    raise MnsServiceError(
                        409,
                        "TopicAlreadyExist",
                        "The topic you want to create has already existed.",
                    )
                return False
            self.topics[name] = []
            self.topic_sizes[name] = maximum_message_size
            return True

    def delete_topic(self, name: str) -> None:
        with self._lock:
            if name not in self.topics:
                raise MnsServiceError(
                    404, "TopicNotExist", "The topic you provided does not exist."
                )
            del self.topics[name]
            self.topic_sizes.pop(name, None)
            self.subscriptions.pop(name, None)

    def subscribe(self, topic: str, name: str, subscription: FakeSubscription) -> bool:
        """Subscribe: True when created, False when the same subscription exists, 409
        ``SubscriptionAlreadyExist`` when one of that name exists with other attributes."""
        with self._lock:
            if topic not in self.topics:
                raise MnsServiceError(
                    404, "TopicNotExist", "The topic you provided does not exist."
                )
            existing = self.subscriptions.setdefault(topic, {}).get(name)
            if existing is not None:
                if existing != subscription:
                    raise MnsServiceError(
                        409,
                        "SubscriptionAlreadyExist",
                        "The subscription you want to create has already existed.",
                    )
                return False
            self.subscriptions[topic][name] = subscription
            return True

    def unsubscribe(self, topic: str, name: str) -> None:
        with self._lock:
            if name not in self.subscriptions.get(topic, {}):
                raise MnsServiceError(
                    404, "SubscriptionNotExist", "The subscription you provided does not exist."
                )
            del self.subscriptions[topic][name]

    def subscription_names(self, topic: str) -> list[str]:
        with self._lock:
            if topic not in self.topics:
                raise MnsServiceError(
                    404, "TopicNotExist", "The topic you provided does not exist."
                )
            return sorted(self.subscriptions.get(topic, {}))
