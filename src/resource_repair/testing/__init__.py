"""Test doubles: a fake OSS and fake FC contexts. Never imported by the deployed handler."""

from resource_repair.testing.context import fc_context, fc_environment
from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)
from resource_repair.testing.oss import OssBackend, mock_oss

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CREDENTIALS",
    "FakeCredentials",
    "OssBackend",
    "fc_context",
    "fc_environment",
    "mock_oss",
]
