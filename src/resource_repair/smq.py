"""How a notification reaches SMQ (MNS): the endpoint, the client, the retries and the time
bounds. What a message says is notification.py's; when one is due, notify.py's. doctor and
setup use the same client (tools/smq.py) through :func:`open_account` and :func:`sdk`.

A publication never raises and never runs past the deadline it is given: a transient
refusal is tried again while the notification's share of the time lasts; one that still
cannot be sent is logged as a warning (without secrets) and reported as not published.

The MNS SDK (``aliyun-mns-sdk``, module ``mns``) sends with ``http.client`` and is imported
only when a message is actually published, so that an ignored delivery never pays for it.
"""

from __future__ import annotations

import importlib
import logging
import re
from types import ModuleType
from typing import Any

from resource_repair.credentials import Credentials
from resource_repair.cutoff import CallTimedOutError, bounded_response_class, run_within
from resource_repair.errors import (
    ConfigurationError,
    InvalidEventError,
    ResourceRepairError,
    TransientError,
)
from resource_repair.logtext import untrusted
from resource_repair.notification import Notification, short
from resource_repair.notify_settings import ENDPOINT_OVERRIDE, NotifySettings
from resource_repair.redaction import protect_logs
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.validation import check_region_id, is_account_id

logger = logging.getLogger(__name__)

# Time: a notification is worth a few seconds, never the function's timeout.
_TOTAL_BUDGET = 6.0
"""Seconds one notification may take, retries included."""
_ATTEMPT_TIMEOUT = 3.0
"""Seconds one PublishMessage may take, connection included."""
_MIN_ATTEMPT = 0.3
"""Below this much time left, an attempt is not started."""
_RESERVE = 0.2
"""Seconds left to the caller after the last attempt, to return before the deadline."""
# Tries spread over the budget: an SMQ refusal lasting a few seconds (a 5xx, throttling, a
# dropped connection) is outlasted rather than lost; a retry starts only with a second left.
_RETRY = RetryPolicy(
    max_attempts=5, base_delay=0.4, max_delay=1.5, throttled_delay=0.5, request_timeout=1.0
)

_TRANSIENT_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "Throttling", "TooManyRequests", "QpsLimitExceeded"}
)
_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")


class NotificationError(ResourceRepairError):
    """A notification MNS refused for a reason another try will not change."""


class TransientNotificationError(NotificationError, TransientError):
    """A timeout, a broken connection, throttling or a 5xx: worth one more try."""


def mns_endpoint(account_id: str, region: str) -> str:
    """The public HTTPS endpoint of MNS for an account and region.

    The ``-internal`` endpoint is plain HTTP only, and would carry the security token in
    clear text; the public one is TLS and reachable from FC's default network.
    ``account_id`` and ``region`` form the host name, so they are checked here, whoever
    calls (the notifier, or doctor with a template's region): ConfigurationError if not.
    """
    try:
        check_region_id(region)
    except InvalidEventError as exc:
        raise ConfigurationError(f"no SMQ endpoint: {exc}") from None
    if not is_account_id(account_id):
        raise ConfigurationError(f"no SMQ endpoint: {account_id[:40]!r} is not an account id")
    return f"https://{account_id}.mns.{region}.aliyuncs.com"


def publish(
    notification: Notification,
    settings: NotifySettings,
    credentials: Credentials | None,
    account_id: str | None,
    region: str | None,
    deadline: Deadline,
) -> bool:
    """Publish ``notification`` from the function's account and region; True once SMQ
    accepted it. Never raises for SMQ's sake; logs why a message was not sent."""
    what = f"{notification.kind} notification to topic {notification.topic}"
    endpoint = _endpoint(settings, account_id, region)
    if endpoint is None:
        return False
    if credentials is None:
        logger.warning("%s not sent: the function has no credentials", what)
        return False
    # Teach the redactor these credentials, on this logger and the retry loop's too.
    redactor = protect_logs(credentials.secrets)
    for name in (__name__, "resource_repair.retry"):
        if redactor not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(redactor)
    budget = Deadline(min(_TOTAL_BUDGET, deadline.remaining() - _RESERVE))
    if budget.remaining() < _MIN_ATTEMPT:
        logger.warning("%s not sent: no time left", what)
        return False
    try:
        message_id = _RETRY.call(
            lambda: _publish_once(endpoint, credentials, notification, settings, budget),
            budget,
        )
    except NotificationError as exc:
        logger.warning("%s not sent: %s", what, untrusted(exc))
        return False
    logger.info("%s published, message id %s", what, message_id)
    return True


def _endpoint(settings: NotifySettings, account_id: str | None, region: str | None) -> str | None:
    """Where to publish, or None (logged) when the account or region is unusable."""
    if settings.endpoint_override:
        logger.warning(
            "%s is set: notifications go to %s, not to MNS",
            ENDPOINT_OVERRIDE,
            settings.endpoint_override,
        )
        return settings.endpoint_override
    if not is_account_id(account_id):
        logger.warning("notification not sent: the function's account id is unknown")
        return None
    try:
        check_region_id(region or "")
    except ValueError:
        logger.warning("notification not sent: the function's region is unknown")
        return None
    assert account_id is not None
    assert region is not None
    return mns_endpoint(account_id, region)


def open_account(endpoint: str, credentials: Credentials, timeout: float) -> tuple[Any, Any]:
    """The SDK's Account for ``endpoint`` and the connection it sends on, bounded: one
    connection per call, closed after it; the socket timeout bounds each read, and the
    caller's cutoff.run_within (``holds=`` the connection) the whole call, since a server
    can drip one byte at a time. NotificationError if the SDK found is not ours."""
    account_module, _ = sdk()
    account = account_module.Account(
        endpoint,
        credentials.access_key_id,
        credentials.access_key_secret,
        credentials.security_token,
    )
    client = account.mns_client
    client.set_keep_alive(False)
    client.set_connection_timeout(timeout)  # plain HTTP: rebuilds the connection with it
    client.http.conn.timeout = timeout  # HTTPS: HTTPSConnection.connect reads this one
    client.http.conn.response_class = bounded_response_class()  # never an endless body
    return account, client.http.conn


def _publish_once(
    endpoint: str,
    credentials: Credentials,
    notification: Notification,
    settings: NotifySettings,
    budget: Deadline,
) -> str:
    """One PublishMessage, bounded by the budget whatever the server does."""
    timeout = min(_ATTEMPT_TIMEOUT, budget.remaining())
    if timeout < _MIN_ATTEMPT:
        raise TransientNotificationError("no time left for an attempt")
    account, connection = open_account(endpoint, credentials, timeout)
    _, topic_module = sdk()
    direct_mail = None
    if settings.mail_sender:
        direct_mail = topic_module.DirectMailInfo(
            account_name=settings.mail_sender,
            subject=notification.subject,
            address_type=0,
            is_html=0,
            reply_to_address=0,
        )
    message = topic_module.TopicMessage(notification.body, notification.tag, direct_mail)
    topic = account.get_topic(notification.topic)

    try:
        # The SDK's connection is known before the call: cut off, should the time run out.
        answer = run_within(
            timeout, lambda: topic.publish_message(message), "PublishMessage", holds=connection
        )
    except CallTimedOutError:
        raise TransientNotificationError(f"no answer within {timeout:.1f}s") from None
    except Exception as exc:
        raise _translate(exc) from None
    return str(answer.message_id)


# FC's python3.10 runtime ships ``aliyun-mns`` 1.1.5 as a built-in, under the same module
# name ``mns``; the 1.1.5 on PyPI prints the access key secret and every signature to
# stdout, which FC writes to the function's log. Only the SDK the package carries will do.
MIN_SDK_VERSION = (1, 3, 0)


def sdk() -> tuple[ModuleType, ModuleType]:
    """The MNS SDK's modules, imported on first use (tens of milliseconds at a cold start);
    NotificationError, before anything is signed, if the ``mns`` found is another one."""
    try:
        info = importlib.import_module("mns.pkg_info")
    except ImportError:
        raise NotificationError("the MNS SDK (aliyun-mns-sdk) is not installed") from None
    name, version = getattr(info, "name", ""), getattr(info, "version", "")
    if name != "aliyun-mns-sdk" or _version(version) < MIN_SDK_VERSION:
        raise NotificationError(
            f"the MNS SDK found is {short(str(name), 40)} {short(str(version), 20)}, "
            "not aliyun-mns-sdk>=1.3.0 (older ones print credentials); nothing was sent"
        )
    return importlib.import_module("mns.account"), importlib.import_module("mns.topic")


def _version(text: object) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text if isinstance(text, str) else "")
    return tuple(int(n) for n in numbers[:3])


def _translate(exc: BaseException) -> NotificationError:
    """The SDK's exceptions, as ours. The server's own message is left out: it may echo the
    key id, and this text is logged by the retry loop too."""
    kind = type(exc).__name__
    code = getattr(exc, "type", "")
    code = code if isinstance(code, str) and _CODE.fullmatch(code) else "unknown"
    request_id = getattr(exc, "req_id", None)
    rid = (
        f" (request id {request_id})"
        if isinstance(request_id, str) and _CODE.fullmatch(request_id)
        else ""
    )
    if kind == "MNSServerException":
        text = f"MNS refused PublishMessage: {code}{rid}"
        return (
            TransientNotificationError(text)
            if code in _TRANSIENT_CODES
            else NotificationError(text)
        )
    if kind == "MNSClientNetworkException" or isinstance(exc, OSError):
        return TransientNotificationError(f"network error: {code}{rid}")
    return NotificationError(f"{kind}: {code}")
