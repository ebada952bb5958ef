"""Where failures and remediations are published: the notification settings, read from the
function's environment (``settings.Settings.notify``). Plain values: what the notifier
(notify.py) does with them is its own business."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from resource_repair.errors import ConfigurationError

FAILURE_TOPIC = "failureTopic"
REMEDIATION_TOPIC = "remediationTopic"
MAIL_SENDER = "notifyMailSender"
ENDPOINT_OVERRIDE = "mnsEndpointOverride"

# Set in a deployment (the template can be checked against these) ...
VARIABLES = (FAILURE_TOPIC, REMEDIATION_TOPIC, MAIL_SENDER)
# ... and read for local runs and tests only.
LOCAL_ONLY_VARIABLES = (ENDPOINT_OVERRIDE,)

# MNS: up to 256 characters (CreateTopic says 255), letters, digits and hyphens, starting
# with a letter or digit. The name goes into the request path, so nothing else may pass.
_TOPIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,254}")
# A DirectMail sender address: what MNS needs to push a message to an e-mail subscription.
_MAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_MAX_MAIL_CHARS = 254


@dataclasses.dataclass(frozen=True)
class NotifySettings:
    failure_topic: str | None = None
    """MNS topic for every ``fail`` result and every sweep with failures; None: off."""
    remediation_topic: str | None = None
    """MNS topic for every ``remediated`` outcome; None: off."""
    mail_sender: str | None = None
    """DirectMail sender address; when set, messages carry the DirectMail attributes that
    MNS needs to push them to e-mail subscriptions."""
    endpoint_override: str | None = None
    """A fake MNS on loopback (``http://127.0.0.1:<port>``), for local runs and tests."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> NotifySettings:
        """Read the settings; raise ConfigurationError naming the variable that is wrong."""
        return cls(
            failure_topic=_topic(environ, FAILURE_TOPIC),
            remediation_topic=_topic(environ, REMEDIATION_TOPIC),
            mail_sender=_mail_sender(environ),
            endpoint_override=loopback_endpoint(environ.get(ENDPOINT_OVERRIDE, "")),
        )


def _topic(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not _TOPIC_NAME.fullmatch(value):
        raise ConfigurationError(
            f"{name}={value[:80]!r} is not an MNS topic name "
            "(letters, digits and hyphens, at most 255, starting with a letter or digit)"
        )
    return value


def _mail_sender(environ: Mapping[str, str]) -> str | None:
    value = environ.get(MAIL_SENDER, "").strip()
    if not value:
        return None
    if len(value) > _MAX_MAIL_CHARS or not _MAIL_ADDRESS.fullmatch(value):
        raise ConfigurationError(f"{MAIL_SENDER}={value[:80]!r} is not an e-mail address")
    return value


def loopback_endpoint(value: str) -> str | None:
    """``http://127.0.0.1:<port>``, ``http://[::1]:<port>`` or ``http://localhost:<port>``.

    Signed requests carry the security token, so the override may only ever point at this
    machine, in clear HTTP (the fake has no TLS).
    """
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    problem = None
    if parts.scheme != "http" or not host:
        problem = "is not an http:// URL"
    elif port is None or port == 0:
        problem = "needs a port from 1 to 65535"
    elif parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        problem = "must be http://host:port and nothing more"
    elif host != "localhost" and not _is_loopback(host):
        problem = "must name a loopback address (127.0.0.0/8, ::1) or localhost"
    if problem:
        raise ConfigurationError(f"{ENDPOINT_OVERRIDE}={value[:80]!r} {problem}")
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
