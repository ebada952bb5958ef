"""A fake MNS (Simple Message Queue) that takes PublishMessage as the real one does."""

from resource_repair.testing.mns.models import (
    FakeSubscription,
    Fault,
    MnsBackend,
    MnsServiceError,
    PublishedMessage,
)
from resource_repair.testing.mns.server import SlowDripServer, fake_mns_server

__all__ = [
    "FakeSubscription",
    "Fault",
    "MnsBackend",
    "MnsServiceError",
    "PublishedMessage",
    "SlowDripServer",
    "fake_mns_server",
]
