"""Keep credentials out of every log line, oss2's DEBUG output included.

oss2 logs whole request headers at DEBUG, ``x-oss-security-token`` and ``authorization``
among them, on its module loggers (``oss2.http``, ``oss2.api``, ...); aliyun-fc2 logs its
request headers on the root logger, at ERROR for every failed call. A filter on a logger
only sees records created on that very logger, so one filter is attached to each of them,
and to this package's own loggers as a second line of defence.
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote

_SENSITIVE_HEADER = re.compile(
    r"""(?ix)
    (['"]?(?:x-(?:oss|fc|acs)-security-token|security-token|securitytoken|authorization|accesskeysecret)['"]?\s*[:=]\s*['"]?)
    ([^'",}\s]+(?:\ [^'",}\s]+)?)
    """
)
MASK = "***"

PROTECTED_LOGGERS = (
    "",  # the root logger, which fc2 logs to directly
    "oss2",
    "oss2.api",
    "oss2.auth",
    "oss2.http",
    "oss2.models",
    "oss2.credentials",
    "oss2.utils",
    "resource_repair",
    "resource_repair.handler",
    "resource_repair.remediator",
    "resource_repair.audit",
    "resource_repair.retry",
    "resource_repair.remediation",
    "resource_repair.notify",
    "resource_repair.sweep",
    "resource_repair.config_api",
    # A second defence: config_api keeps aliyunsdkcore below DEBUG, where it logs tokens.
    "aliyunsdkcore",
    "aliyunsdkcore.client",
    "aliyunsdkcore.http.http_response",
)


class SecretRedactor(logging.Filter):
    """Replace known secret values and sensitive header values in a record's message."""

    # Credentials rotate; the last few sets are enough, and the memory stays bounded.
    _REMEMBERED_SETS = 8

    def __init__(self) -> None:
        super().__init__()
        self._secret_sets: collections.deque[tuple[str, ...]] = collections.deque(
            maxlen=self._REMEMBERED_SETS
        )

    # Shorter values would mask ordinary words; real keys and tokens are far longer.
    _MIN_SECRET_LENGTH = 8

    def remember(self, secrets: Iterable[str]) -> None:
        long_enough = {s for s in secrets if len(s) >= self._MIN_SECRET_LENGTH}
        # SDKs quote the signed URL in their errors: a token there is percent-encoded, and
        # in a string to sign that a server echoes back, encoded twice.
        once = {quote(s, safe="") for s in long_enough}
        long_enough |= once | {quote(s, safe="") for s in once}
        values = tuple(sorted(long_enough, key=len, reverse=True))
        if values and values not in self._secret_sets:
            self._secret_sets.append(values)

    def redact(self, text: str) -> str:
        text = _SENSITIVE_HEADER.sub(lambda m: m.group(1) + MASK, text)
        for values in self._secret_sets:
            for value in values:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: show it unformatted
            message = f"{record.msg} {record.args}"
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = SecretRedactor()


def protect_logs(secrets: Iterable[str] = ()) -> SecretRedactor:
    """Attach the redactor to every logger that could see a credential, once, and teach it
    the secrets in use now."""
    _REDACTOR.remember(secrets)
    for name in PROTECTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    return _REDACTOR
