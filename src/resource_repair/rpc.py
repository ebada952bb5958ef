"""The one place that builds aliyunsdkcore clients (Config, STS, RAM) and turns their
connection failures into a short reason.

Importing this module does not import aliyunsdkcore; building a client does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from resource_repair.credentials import Credentials
from resource_repair.redaction import protect_logs

# Seconds. A function or workstation with no route, or a mistyped region, should fail in
# seconds, not in the minute the SDK waits by default.
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10


def acs_client(credentials: Credentials, region: str) -> Any:
    """An aliyunsdkcore client that signs with ``credentials`` and nothing else, without the
    SDK's own retries (callers retry with a deadline), with short timeouts."""
    from aliyunsdkcore.client import AcsClient

    protect_logs(credentials.secrets)
    # aliyunsdkcore logs every request's parameters at DEBUG, SecurityToken and Signature
    # included: keep its DEBUG lines off, but leave a stricter level (the CLI's) alone.
    sdk_logger = logging.getLogger("aliyunsdkcore")
    if sdk_logger.level < logging.INFO:
        sdk_logger.setLevel(logging.INFO)
    # The key pair given as ``ak``/``secret`` is the one case in which the SDK's signer
    # factory does not look at ALIYUN_ACCESS_KEY_ID/_SECRET in the environment first (they
    # would silently win over a ``credential``). The token's signer is then given directly.
    client = AcsClient(
        ak=credentials.access_key_id,
        secret=credentials.access_key_secret,
        region_id=region,
        auto_retry=False,
        timeout=READ_TIMEOUT,
        connect_timeout=CONNECT_TIMEOUT,
    )
    client._signer = _signer(credentials)  # AcsClient has no public way to be given one
    return client


def _signer(credentials: Credentials) -> Any:
    """The signer for exactly these credentials, whatever the environment holds."""
    from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
    from aliyunsdkcore.auth.signers.access_key_signer import AccessKeySigner
    from aliyunsdkcore.auth.signers.sts_token_signer import StsTokenSigner

    if credentials.security_token:
        return StsTokenSigner(
            StsTokenCredential(
                credentials.access_key_id,
                credentials.access_key_secret,
                credentials.security_token,
            )
        )
    return AccessKeySigner(
        AccessKeyCredential(credentials.access_key_id, credentials.access_key_secret)
    )


def rpc_request(
    domain: str, version: str, action: str, params: Mapping[str, object], *, http: bool = False
) -> Any:
    """A POST of an RPC action. HTTPS unless ``http`` (a fake on loopback): aliyunsdkcore's
    CommonRequest would default to plain HTTP, sending the signature and token in clear."""
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest(domain=domain, version=version, action_name=action)
    request.set_protocol_type("http" if http else "https")
    request.set_method("POST")
    for key, value in params.items():
        request.add_query_param(key, str(value))
    return request


# A signature error echoes the string to sign, which holds the key id and (twice-quoted)
# the token: never pass that part on.
_SIGNATURE_ECHO = re.compile(r"(?is)server string to sign.*$")


def server_message(text: object) -> str:
    """A service's error message with the echoed string to sign cut off."""
    return _SIGNATURE_ECHO.sub("", str(text or "")).strip()


def network_reason(text: str) -> str:
    """A short, one-line reason for a connection failure described by ``text``. Never the
    text itself: an SDK's includes the signed URL, and an RPC URL carries the token."""
    for pattern, reason in _REASONS:
        if pattern.search(text):
            return reason
    errno = _ERRNO.findall(text)
    return f"connection failed ({errno[-1]})" if errno else "connection failed"


# The innermost reason of a urllib3/requests connection error, which nests several
# exception texts; the user needs only the last one.
_REASONS = (
    (
        re.compile(
            r"Name or service not known|nodename nor servname|getaddrinfo failed|"
            r"Temporary failure in name resolution|No address associated|NameResolution",
            re.IGNORECASE,
        ),
        "the name does not resolve (no network, or a wrong region?)",
    ),
    (re.compile(r"timed out|Timeout", re.IGNORECASE), "no answer in time"),
    (re.compile(r"Connection refused", re.IGNORECASE), "connection refused"),
    (re.compile(r"Network is unreachable|No route to host", re.IGNORECASE), "no route (offline?)"),
    (re.compile(r"CERTIFICATE|SSL", re.IGNORECASE), "TLS failed (a proxy intercepting HTTPS?)"),
)
_ERRNO = re.compile(r"\[Errno -?\d+\] [A-Za-z ,'-]{1,80}")
