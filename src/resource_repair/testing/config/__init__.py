"""A fake Cloud Config API (version 2020-09-07) for aliyunsdkcore."""

from resource_repair.testing.config.mock import mock_config_api
from resource_repair.testing.config.models import ConfigBackend, FakeDeliveryChannel, FakeRule

__all__ = ["ConfigBackend", "FakeDeliveryChannel", "FakeRule", "mock_config_api"]
