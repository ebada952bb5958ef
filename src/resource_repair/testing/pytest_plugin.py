"""pytest fixtures for code that uses the fake OSS (registered as a pytest11 entry point)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resource_repair.testing.oss import OssBackend, mock_oss


@pytest.fixture
def fake_oss() -> Iterator[OssBackend]:
    """A fresh fake OSS, intercepting every ``requests`` call for the test's duration."""
    with mock_oss() as backend:
        yield backend
