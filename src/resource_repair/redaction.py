"""Keep credentials out of every log line, oss2's DEBUG output included.

oss2 logs whole request headers at DEBUG, ``x-oss-security-token`` and ``authorization``
among them, on its module loggers (``oss2.http``, ``oss2.api``, ...); aliyun-fc2 logs its
request headers on the root logger, at ERROR for every failed call. A filter on a logger
only sees records created on that very logger, so one filter is attached to each of them,
and to this package's own loggers as a second line of defence.

A secret is masked wherever it appears in a line, in the encodings an SDK or a service may
put it in: plain, percent-encoded (once or twice: a signed URL, a string to sign echoed back),
hex (OSS's ``StringToSignBytes``) and base64 (inside any longer base64 text, such as a header
or a body an SDK dumps). The fields with which OSS echoes a request's signing back
(``StringToSign``, ``StringToSignBytes``, ``SignatureProvided``) are cut whoever knows the
secrets, and oss2's own line for every error answer, which carries them, is dropped: the
package logs each failure in its own words.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar
from urllib.parse import quote

_SENSITIVE_HEADER = re.compile(
    r"""(?ix)
    (['"]?(?:x-(?:oss|fc|acs)-security-token|security-token|securitytoken|authorization|accesskeysecret)['"]?\s*[:=]\s*['"]?)
    ([^'",}\s\\]+(?:\ [^'",}\s\\]+)?)
    """
)
# No pattern here takes a double quote, or a backslash without what it escapes, out of a
# line: on the audit line, a JSON record, that would unescape a quote from a message and
# break the record for restore and Log Service. A value a pattern stops short of stays
# masked by its remembered forms.
MASK = "***"
T = TypeVar("T")

# How OSS echoes a request's signing in a SignatureDoesNotMatch answer (with STS keys the
# string to sign holds the security token): as XML, or as the dict oss2 makes of it.
SIGNATURE_ECHO_FIELDS = ("StringToSign", "StringToSignBytes", "SignatureProvided")
_FIELD = "|".join(SIGNATURE_ECHO_FIELDS)
_SIGNATURE_ECHO = re.compile(
    rf"""(?sx)
    (<(?P<tag>{_FIELD})>) (?:\\.|[^"\\])*? (</(?P=tag)>)          # <StringToSign>...</...>
    | ((?P<q>['"])(?:{_FIELD})(?P=q) \s*:\s*) (?P<v>['"]) (?:\\.|(?!(?P=v))[^"\\])* (?P=v)
    | (server\ string\ to\ sign\ is:?) [^\s"'\\]*                  # aliyunsdkcore's RPC echo
    """
)

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
    "resource_repair.remediators.acl",
    "resource_repair.audit",
    "resource_repair.retry",
    "resource_repair.remediation",
    "resource_repair.notify",
    "resource_repair.smq",
    "resource_repair.sweep",
    "resource_repair.listed_buckets",
    "resource_repair.config_api",
    # A second defence: config_api keeps aliyunsdkcore below DEBUG, where it logs tokens.
    "aliyunsdkcore",
    "aliyunsdkcore.client",
    "aliyunsdkcore.http.http_response",
)


class SecretRedactor(logging.Filter):
    """Replace known secret values, in every encoding, and sensitive header values in a
    record's message and traceback."""

    # Credentials rotate; the few sets used most recently are enough, and the memory stays
    # bounded. Least recently remembered goes first: a hub sweeping many member accounts
    # remembers its own keys again before each use, which keeps them among the newest.
    _REMEMBERED_SETS = 8

    def __init__(self) -> None:
        super().__init__()
        # An immutable tuple, replaced whole under the lock: threads that log while another
        # remembers new credentials (the sweep's workers, member sessions) read a snapshot,
        # never a collection being changed under them.
        self._secret_sets: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = ()
        self._lock = threading.Lock()

    # Shorter values would mask ordinary words; real keys and tokens are far longer.
    _MIN_SECRET_LENGTH = 8

    def remember(self, secrets: Iterable[str]) -> None:
        # A key with whitespace at its ends (a CRLF file's "\r") is also masked without it:
        # the part that a server accepts is the secret.
        every = {form for s in secrets for form in (s, s.strip())}
        values = tuple(sorted({s for s in every if len(s) >= self._MIN_SECRET_LENGTH}))
        if not values:
            return
        with self._lock:
            known = [entry for entry in self._secret_sets if entry[0] == values]
            if known:
                # Seen again: moved to the newest end, so that it is the last to be dropped.
                others = tuple(entry for entry in self._secret_sets if entry[0] != values)
                self._secret_sets = (*others, known[0])
                return
            forms = {form for value in values for form in _encoded_forms(value)}
            # Longest first: a regex alternation takes the first that matches, not the longest.
            pattern = re.compile("|".join(sorted(forms, key=len, reverse=True)))
            remembered = (*self._secret_sets, (values, pattern))
            self._secret_sets = remembered[-self._REMEMBERED_SETS :]

    def redact(self, text: str) -> str:
        text = _SIGNATURE_ECHO.sub(_masked_echo, text)
        text = _SENSITIVE_HEADER.sub(lambda m: m.group(1) + MASK, text)
        for _, pattern in self._secret_sets:
            text = pattern.sub(MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "oss2.api" and str(record.msg).startswith("Exception: "):
            return False  # oss2's dump of an error answer, signing echo and all (see above)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: show it unformatted
            message = f"{record.msg} {record.args}"
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # A traceback shows the chained SDK exceptions' texts: formatters use this
            # cached text instead of formatting the exception again.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


def _masked_echo(match: re.Match[str]) -> str:
    if match.group("tag"):
        return f"{match.group(1)}{MASK}{match.group(3)}"
    if match.group("q"):
        return f"{match.group(4)}{match.group('v')}{MASK}{match.group('v')}"
    return f"{match.group(7)} {MASK}"


def _encoded_forms(secret: str) -> set[str]:
    """Regular expressions for ``secret`` as it may appear in a line."""
    # SDKs quote the signed URL in their errors: a token there is percent-encoded, and in a
    # string to sign that a server echoes back, encoded twice; encoders differ in what they
    # leave alone ("/" in a path, "=" ...), and JSON writers escape "/" as "\/" or any
    # character as "\u00XX". So each character that is not a letter or digit may appear in
    # any of those forms, independently of the others; hex digits in either case.
    forms = {"".join(_character_forms(character) for character in secret)}
    raw = secret.encode()
    # Every character escaped although it need not be: a JSON writer that escapes all
    # ("\u0041\u0042"), an encoder that percent-encodes every byte ("%41%42"). A JSON
    # escape may itself be escaped again (a JSON document quoted in another: "\\u0041").
    forms.add("".join(rf"{_ESCAPES}u(?i:{unit:04x})" for c in secret for unit in _utf16_units(c)))
    forms.add("".join(f"%(?i:{byte:02x})" for byte in raw))
    # Hex as OSS writes StringToSignBytes ("43 41 49 53"), run together, or as other dumps
    # do ("43:41", "43-41", "\x43\x41", "0x43 0x41"); either case.
    # (The first byte's own prefix may stay: what follows it is masked.)
    forms.add("(?i:" + (_HEX_SEPARATOR + _HEX_PREFIX).join(f"{byte:02x}" for byte in raw) + ")")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        # MIME and PEM writers break base64 into lines (76 or 64 characters): a break may
        # fall anywhere in the secret, as a real line end or as an escaped one.
        forms.add(_BASE64_LINE_BREAK.join(re.escape(c) for c in encode(raw).decode()))
        for offset in range(3):
            core = _base64_core(encode, raw, offset)
            forms.add(_BASE64_LINE_BREAK.join(re.escape(c) for c in core))
    return forms


# The one-letter escapes of repr() and JSON: a key read from a file with Windows line ends
# keeps its "\r", and an error that quotes the key with repr() writes it as two characters.
_SHORT_ESCAPES = {"\r": "r", "\n": "n", "\t": "t", "\f": "f", "\b": "b", "\x0b": "v"}
_ESCAPES = r"\\+"  # one backslash, or more where an escaped text was escaped again
_HEX_PREFIX = rf"(?:{_ESCAPES}x|0x)?"  # "\x" or "0x" before a byte
_HEX_SEPARATOR = "[ :-]?"
_BASE64_LINE_BREAK = r"(?:\r?\n|(?:\\r)?\\n)?"  # a line end, real or escaped ("\r\n")


def _character_forms(character: str) -> str:
    """A regular expression for one character of a secret, as it may be escaped."""
    if character.isascii() and character.isalnum():
        return character
    forms = [re.escape(character)]
    encoded = quote(character, safe="")
    if encoded != character:
        forms += [_any_case(encoded), _any_case(quote(encoded, safe=""))]
    if character == "/":
        forms.append(rf"{_ESCAPES}/")
    if character in _SHORT_ESCAPES:  # "\r" as repr() and JSON write a carriage return
        forms.append(rf"{_ESCAPES}{_SHORT_ESCAPES[character]}")
    forms.append("".join(rf"{_ESCAPES}u(?i:{unit:04x})" for unit in _utf16_units(character)))
    return "(?:" + "|".join(forms) + ")"


def _any_case(percent_encoded: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", r"%(?i:\1)", re.escape(percent_encoded))


def _utf16_units(character: str) -> list[int]:
    """The UTF-16 code units JSON's \\u escapes write for ``character``."""
    data = character.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _base64_core(encode: Callable[[bytes], bytes], raw: bytes, offset: int) -> str:
    """The base64 characters that ``raw`` alone determines when it starts ``offset`` bytes
    into a group of three: the same, whatever bytes come before and after it."""
    text = encode(bytes(offset) + raw).decode()
    first = -(-offset * 4 // 3)  # characters that share bits with the bytes before
    last = (offset + len(raw)) * 4 // 3  # characters made of these bytes only
    return text[first:last]


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


def redacted(value: T) -> T:
    """``value`` (a text, or a document of them) with every secret the logs mask masked,
    for what leaves by another way than a log line: a returned result, an SMQ message.
    A reason may quote an answer of a server, and a server may echo what it was sent."""
    if isinstance(value, str):
        return _REDACTOR.redact(value)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {key: redacted(item) for key, item in value.items()}  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        return [redacted(item) for item in value]  # type: ignore[return-value]  # JSON: a list
    return value
