"""Where the function's STS credentials come from, on every runtime."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"  # noqa: S105 - a name, not a value
SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"  # noqa: S105 - a name, not a value


@dataclasses.dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str = dataclasses.field(repr=False)
    security_token: str = dataclasses.field(default="", repr=False)
    key_id_is_public: bool = False
    """True for a member session (hub mode): its AccessKeyId is what the audit line names,
    so that the member's ActionTrail can be matched to it; the secret and token stay masked."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line."""
        key_id = "" if self.key_id_is_public else self.access_key_id
        return tuple(v for v in (key_id, self.access_key_secret, self.security_token) if v)


def resolve_credentials(context: object, environ: Mapping[str, str]) -> Credentials | None:
    """The role's credentials: ``context.credentials`` on python3.10 and older, else the
    ``ALIBABA_CLOUD_*`` variables (python3.12's context has no ``credentials``)."""
    creds = getattr(context, "credentials", None)
    key_id = getattr(creds, "access_key_id", None)
    secret = getattr(creds, "access_key_secret", None)
    if isinstance(key_id, str) and key_id and isinstance(secret, str) and secret:
        token = getattr(creds, "security_token", None)
        return Credentials(key_id, secret, token if isinstance(token, str) else "")
    key_id, secret = environ.get(ACCESS_KEY_ID, ""), environ.get(ACCESS_KEY_SECRET, "")
    if key_id and secret:
        return Credentials(key_id, secret, environ.get(SECURITY_TOKEN, ""))
    return None
