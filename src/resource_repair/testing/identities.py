"""Made-up accounts and credentials shared by the fakes and the fake FC contexts."""

from __future__ import annotations

import dataclasses

# The account of Cloud Config's documented example message for this rule.
DEFAULT_ACCOUNT_ID = "1698272328540001"


@dataclasses.dataclass(frozen=True)
class FakeCredentials:
    access_key_id: str
    access_key_secret: str = dataclasses.field(repr=False)
    security_token: str = dataclasses.field(default="", repr=False)
    account_id: str = DEFAULT_ACCOUNT_ID
    expired: bool = False


# Shaped like a role's STS credentials; distinctive so that a leak into a log is easy to find.
DEFAULT_CREDENTIALS = FakeCredentials(
    access_key_id="STS.NTestKeyIdDoNotLog0001",
    access_key_secret="TestSecretDoNotLog9f8e7d6c5b4a",
    security_token="CAISTestTokenDoNotLog+0123456789abcdef/QQ==",
)
