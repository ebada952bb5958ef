"""Credentials for the command-line tools: the environment, or an ``aliyun`` CLI profile."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from resource_repair.credentials import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    Credentials,
    resolve_credentials,
)
from resource_repair.errors import ResourceRepairError


class NoCredentialsError(ResourceRepairError):
    """Nothing to sign requests with (exit code 2)."""


def tool_credentials(profile: str | None, environ: Mapping[str, str] = os.environ) -> Credentials:
    """A named profile of the ``aliyun`` CLI (``~/.aliyun/config.json``) when asked for,
    else the ``ALIBABA_CLOUD_*`` variables."""
    if profile is None:
        found = resolve_credentials(None, environ)
        if found is None:
            raise NoCredentialsError(
                f"no credentials: set {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}, or pass --profile"
            )
        return found
    from alibabacloud_credentials.exceptions import CredentialException
    from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

    config = Path(environ.get("HOME") or Path.home()) / ".aliyun" / "config.json"
    provider = CLIProfileCredentialsProvider(profile_name=profile, profile_file=str(config))
    try:
        creds = provider.get_credentials()
    except CredentialException as exc:
        raise NoCredentialsError(f"profile {profile!r} in {config}: {exc}") from None
    return Credentials(
        creds.get_access_key_id() or "",
        creds.get_access_key_secret() or "",
        creds.get_security_token() or "",
    )
