"""Credentials for the command-line tools: the environment, or an ``aliyun`` CLI profile."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from resource_repair.credentials import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    Credentials,
    resolve_credentials,
)
from resource_repair.errors import ResourceRepairError
from resource_repair.rpc import network_reason, server_message
from resource_repair.tools.caller import CloudServiceError
from resource_repair.tools.file_bounds import MIB, FileTooLargeError, read_bytes_at_most


class NoCredentialsError(ResourceRepairError):
    """Nothing to sign requests with (exit code 2)."""


def tool_credentials(
    profile: str | None,
    environ: Mapping[str, str] = os.environ,
    *,
    sts_endpoint: str | None = None,
) -> Credentials:
    """A named profile of the ``aliyun`` CLI (``~/.aliyun/config.json``) when asked for,
    else the ``ALIBABA_CLOUD_*`` variables. ``sts_endpoint``: the fake STS the command was
    pointed at (--sts-endpoint), which a profile that assumes a role cannot use."""
    if profile is None:
        found = resolve_credentials(None, environ)
        if found is None:
            raise NoCredentialsError(f"no credentials: {missing_keys(environ)}, or pass --profile")
        return found
    from alibabacloud_credentials.exceptions import CredentialException
    from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

    config = Path(environ.get("HOME") or Path.home()) / ".aliyun" / "config.json"
    mode = _profile_mode(config, profile)
    if sts_endpoint is not None and mode not in _OWN_KEYS:
        # The SDK would ask the real STS (over HTTPS, at an address it picks), with the
        # profile's own keys, while the command was told to ask a fake one.
        raise NoCredentialsError(
            f"profile {profile!r} (mode {mode}) is exchanged for credentials at the real STS,"
            " but --sts-endpoint names another: use a profile of mode AK or StsToken, or the"
            f" {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET} variables"
        )
    provider = CLIProfileCredentialsProvider(profile_name=profile, profile_file=str(config))
    _silence_sdk_log()
    try:
        creds = provider.get_credentials()
    except CredentialException as exc:
        refusal = _sts_refusal(str(exc))
        if refusal is not None:
            raise CloudServiceError(f"profile {profile!r}: STS AssumeRole {refusal}") from None
        raise NoCredentialsError(f"profile {profile!r} in {config}: {_first_line(exc)}") from None
    except ValueError as exc:  # a profile's value out of range (expired_seconds, ...)
        raise NoCredentialsError(f"profile {profile!r} in {config}: {_first_line(exc)}") from None
    except Exception as exc:
        # Whatever else the SDK raises on its way to STS (Tea's RetryError around a
        # requests ConnectionError): its text holds the signed URL, key id and signature
        # in clear, so only a short reason is told.
        raise CloudServiceError(
            f"profile {profile!r}: cannot reach STS: {network_reason(str(exc))}"
        ) from None
    values = (creds.get_access_key_id(), creds.get_access_key_secret(), creds.get_security_token())
    if not all(value is None or isinstance(value, str) for value in values):
        raise NoCredentialsError(
            f"profile {profile!r} in {config}: a key or token is not text (quote it in the file)"
        )
    key_id, secret, token = (value or "" for value in values)
    return Credentials(key_id, secret, token)


# The modes whose credentials are in the file itself; every other one asks a service.
_OWN_KEYS = frozenset({"AK", "StsToken"})
MAX_CONFIG_BYTES = 1 * MIB


def _profile_mode(config: Path, profile: str) -> str:
    """The profile's mode, after the file was checked to be the aliyun CLI's: a JSON object
    whose ``profiles`` list names ``profile``. The SDK itself reports a file of another
    shape as trouble on its way to STS."""
    try:
        document = json.loads(read_bytes_at_most(config, MAX_CONFIG_BYTES, "aliyun CLI config"))
    except FileNotFoundError:
        raise NoCredentialsError(
            f"profile {profile!r}: no {config} (run `aliyun configure`)"
        ) from None
    except OSError as exc:
        raise NoCredentialsError(
            f"profile {profile!r}: cannot read {config}: {exc.strerror}"
        ) from None
    except (FileTooLargeError, ValueError) as exc:
        reason = exc if isinstance(exc, FileTooLargeError) else "not JSON"
        raise NoCredentialsError(f"profile {profile!r}: {config} is {reason}") from None
    profiles = document.get("profiles") if isinstance(document, dict) else None
    if not isinstance(profiles, list):
        raise NoCredentialsError(
            f"profile {profile!r}: {config} is not the aliyun CLI's (no list of profiles)"
        )
    for entry in profiles:
        if isinstance(entry, dict) and entry.get("name") == profile:
            return str(entry.get("mode"))
    raise NoCredentialsError(f"profile {profile!r}: no such profile in {config}")


def missing_keys(environ: Mapping[str, str]) -> str:
    """What to set, naming the one of the two key variables that is missing (or empty)
    when the other is set: the usual slip is one export of two."""
    missing = [name for name in (ACCESS_KEY_ID, ACCESS_KEY_SECRET) if not environ.get(name)]
    if len(missing) == 1:
        present = ACCESS_KEY_SECRET if missing[0] == ACCESS_KEY_ID else ACCESS_KEY_ID
        return f"{present} is set but {missing[0]} is not; set both"
    return f"set {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}"


def _silence_sdk_log() -> None:
    """alibabacloud-credentials logs every failed refresh on its logger ``credentials``, to a
    stderr handler of its own and the root logger: the exception's text (the signed
    AssumeRole URL, AccessKeyId and Signature in clear) and a traceback per retry, hundreds
    of lines. The command says what failed in one line instead, so none of it is shown."""
    sdk_logger = logging.getLogger("credentials")
    if _drop_every_record not in sdk_logger.filters:
        sdk_logger.addFilter(_drop_every_record)


def _drop_every_record(record: logging.LogRecord) -> bool:
    return False


# How alibabacloud-credentials reports STS's answer to AssumeRole: the status and the body.
_STS_ANSWER = re.compile(r"http_code: (?P<status>\d+), result: (?P<body>.*)", re.DOTALL)


def _sts_refusal(text: str) -> str | None:
    """``refused: <Code> (HTTP <status>, request <id>)`` when ``text`` carries STS's error
    answer; None for any other trouble (a profile that does not exist, ...)."""
    match = _STS_ANSWER.search(text)
    if match is None:
        return None
    try:
        document = json.loads(match["body"])
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    code = str(document.get("Code") or "an error")[:80]
    request_id = str(document.get("RequestId") or "")[:80]
    message = server_message(str(document.get("Message") or ""))[:200]
    return f"refused: {code} (HTTP {match['status']}, request {request_id}) {message}".strip()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
