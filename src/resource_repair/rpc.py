"""The one place that builds aliyunsdkcore clients (Config, STS, RAM) and turns their
connection failures into a short reason.

Importing this module does not import aliyunsdkcore; building a client does.
"""

from __future__ import annotations

import json
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
    _name_hosts_in_tls()
    return client


def _name_hosts_in_tls() -> None:
    """Let the SDK's TLS name the host it connects to (SNI) on every Python.

    aliyunsdkcore's vendored urllib3 decides that SNI exists by importing
    ``ssl.wrap_socket``, which Python 3.12 removed: on FC's python3.12 runtime it would
    ask Config and STS for no name at all, and an endpoint serving several names may then
    present another name's certificate. The standard library has SNI on every supported
    Python; only the vendored flag is wrong."""
    import ssl

    try:
        from aliyunsdkcore.vendored.requests.packages.urllib3.util import ssl_ as vendored_ssl
    except ImportError:  # an SDK without the vendored copy uses the real urllib3
        return
    vendored_ssl.HAS_SNI = ssl.HAS_SNI


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


def send(client: Any, request: Any, seconds: float) -> Any:
    """``client.do_action_with_exception(request)``, ended within ``seconds`` whatever the
    server does (see cutoff): the answer's body.

    The SDK's socket timeouts bound each read, not the request, so a server that trickles
    its answer would hold the caller past its deadline. The request's own timeouts are cut
    to ``seconds`` too, and a request that has not ended by then fails as the SDK's own
    timeout does (``SDK.TimeoutError``), so callers handle both alike. An answer nested too
    deeply to read (which the SDK parses, for a request id, before we see it) fails as
    ``SDK.UnreadableAnswer``, not as a RecursionError.
    """
    from aliyunsdkcore.acs_exception.exceptions import ClientException

    from resource_repair.cutoff import CallTimedOutError, run_within

    _track_connections(client)
    seconds = max(seconds, 0.0)
    request.set_connect_timeout(min(float(CONNECT_TIMEOUT), seconds))
    request.set_read_timeout(min(float(READ_TIMEOUT), seconds))
    try:
        return run_within(seconds + _GRACE, lambda: client.do_action_with_exception(request), "rpc")
    except CallTimedOutError:
        raise ClientException(
            "SDK.TimeoutError", f"Read timed out: no complete answer within {seconds:.1f}s"
        ) from None
    except RecursionError:
        raise ClientException("SDK.UnreadableAnswer", _TOO_DEEP) from None


class UnreadableAnswerError(ValueError):
    """An answer that is not JSON, or JSON nested too deeply to read."""


def read_answer(body: bytes | str) -> Any:
    """An RPC answer's JSON; UnreadableAnswerError, with a short reason, when it cannot be
    read (a deeply nested document would otherwise raise RecursionError)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise UnreadableAnswerError(_TOO_DEEP) from None
    except ValueError:
        raise UnreadableAnswerError("the answer is not JSON") from None


# The SDK's socket timeouts end a plain stall with the SDK's own error a moment before the
# time limit kept from outside does.
_GRACE = 0.1
_TOO_DEEP = "the answer is nested too deeply to read"


def _track_connections(client: Any) -> None:
    """Mount pools on the client's session (aliyunsdkcore's vendored requests) that let a
    time limit cut the connection a request holds (see cutoff.tracking_adapter)."""
    from aliyunsdkcore.vendored.requests import adapters
    from aliyunsdkcore.vendored.requests.packages.urllib3 import connectionpool

    from resource_repair.cutoff import tracking_adapter

    adapter = tracking_adapter(adapters, connectionpool)
    session = client.session
    if not isinstance(session.get_adapter("https://"), adapter):
        for prefix in ("https://", "http://"):
            # The SDK's own pool sizes (AcsClient's defaults).
            session.mount(prefix, adapter(_POOL_CONNECTIONS, _POOL_SIZE))


_POOL_CONNECTIONS = 10
_POOL_SIZE = 10


# A signature error echoes the string to sign, which holds the key id and (twice-quoted)
# the token: never pass that part on.
_SIGNATURE_ECHO = re.compile(r"(?is)server string to sign.*$")


def server_message(text: object) -> str:
    """A service's error message with the echoed string to sign cut off."""
    return _SIGNATURE_ECHO.sub("", str(text or "")).strip()


def network_reason(text: str, *, seconds: float | None = None) -> str:
    """A short, one-line reason for a connection failure described by ``text``. Never the
    text itself: an SDK's includes the signed URL, and an RPC URL carries the token.
    ``seconds``: the time limit that was in force, said when the reason is a timeout."""
    for pattern, reason in _REASONS:
        if pattern.search(text):
            if reason == _NO_ANSWER and seconds is not None:
                return f"no answer within {seconds:g} s"
            return reason
    errno = _ERRNO.findall(text)
    return f"connection failed ({errno[-1]})" if errno else "connection failed"


def names_no_host(text: str) -> bool:
    """True when a connection failure described by ``text`` is a DNS answer that the name
    does not exist (EAI_NONAME, EAI_NODATA): retrying cannot help. A resolver that failed
    for now (EAI_AGAIN, "Temporary failure in name resolution") is passing trouble.
    The SDKs hand over only the text of the error, so the text is what is read."""
    return _NO_SUCH_NAME.search(text) is not None


# glibc's texts for EAI_NONAME and EAI_NODATA, and macOS's for EAI_NONAME.
_NO_SUCH_NAME = re.compile(
    r"Name or service not known|nodename nor servname|No address associated", re.IGNORECASE
)

_NO_ANSWER = "no answer in time"

# The innermost reason of a urllib3/requests connection error, which nests several
# exception texts; the user needs only the last one.
_REASONS = (
    (_NO_SUCH_NAME, "the name does not resolve (no such host: a wrong region?)"),
    (
        re.compile(
            r"Temporary failure in name resolution|getaddrinfo failed|NameResolution",
            re.IGNORECASE,
        ),
        "the name lookup failed for now (no network, or DNS trouble)",
    ),
    (re.compile(r"timed out|Timeout", re.IGNORECASE), _NO_ANSWER),
    (re.compile(r"Connection refused", re.IGNORECASE), "connection refused"),
    (re.compile(r"Network is unreachable|No route to host", re.IGNORECASE), "no route (offline?)"),
    (re.compile(r"CERTIFICATE|SSL", re.IGNORECASE), "TLS failed (a proxy intercepting HTTPS?)"),
)
_ERRNO = re.compile(r"\[Errno -?\d+\] [A-Za-z ,'-]{1,80}")
