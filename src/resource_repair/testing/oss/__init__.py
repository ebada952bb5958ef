"""A fake OSS that behaves like the real one, for oss2 and for anything built on requests."""

from resource_repair.testing.oss.mock import mock_oss
from resource_repair.testing.oss.models import KNOWN_REGIONS, FakeBucket, OssBackend, OssCall

__all__ = ["KNOWN_REGIONS", "FakeBucket", "OssBackend", "OssCall", "mock_oss"]
