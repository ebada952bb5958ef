"""Text from outside (a cloud answer, a file, the function's log) as the tools print it: the
one place that renders it for an operator's terminal.

A server's error message, a Config rule's name or the function's log tail is someone
else's text. Printed raw, an escape sequence in it can rewrite what the terminal shows
(clear the screen, move the cursor over a warning, set the window title), a carriage
return can overwrite the line it is on, and a server that echoes the request can print the
caller's security token. Here every credential in use is masked, every control and format
character (C0, DEL, C1, the bidirectional overrides) is shown as its escape, and a line is
cut to a length a person reads.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TextIO

from resource_repair.redaction import redacted

LINE_CHARS = 1000
"""The most of one line that is shown; the rest is counted, not printed."""

# Control (Cc), format (Cf: the bidirectional overrides, zero-width characters), the line
# and paragraph separators (Zl, Zp), which terminals and editors also act on, and lone
# surrogates (Cs: bytes a decoder could not read), which no terminal encoding can carry.
_UNPRINTED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def shown_line(text: object, limit: int = LINE_CHARS) -> str:
    """``text`` as one line: line breaks and tabs folded to a space (spaces kept, for
    columns), secrets masked, control characters escaped, at most ``limit`` characters and
    a count of the rest."""
    # Masked before folding: a secret broken over lines (base64 in MIME) is still whole.
    masked = _EDGE_BREAKS.sub("", redacted(str(text)))
    line = _escaped(_BREAKS.sub(" ", masked), keep="")
    if len(line) > limit:
        return f"{line[:limit]}... ({len(line) - limit} more characters)"
    return line


# A run of whitespace that holds a line break or a tab (any whitespace but a space).
_BREAKS = re.compile(r"\s*[^\S ]\s*")
# Such a run at either end goes: leading spaces alone stay (a right-aligned count).
_EDGE_BREAKS = re.compile(r"^\s*[^\S ]\s*|\s*[^\S ]\s*$")


def print_line(text: object, *, file: TextIO, flush: bool = False) -> None:
    """One line for the operator, as :func:`shown_line` shows it: what a command says on
    stderr names buckets, regions, rules and errors from events, templates and answers."""
    print(shown_line(text), file=file, flush=flush)


def shown_block(text: object) -> str:
    """``text`` as lines (a log tail, a function's answer): line ends and tabs kept, secrets
    masked, every other control character escaped."""
    return _escaped(redacted(str(text).replace("\r\n", "\n")), keep="\n\t")


def _escaped(text: str, keep: str) -> str:
    if text.isprintable():  # the common case, and quick
        return text
    return "".join(
        character
        if character in keep or unicodedata.category(character) not in _UNPRINTED
        else _escape(character)
        for character in text
    )


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quiet_rpc_sdk_logs() -> None:
    """aliyunsdkcore logs each failed request at ERROR, with its whole query string (key id,
    signature, security token); the command's own line says what failed (doctor, setup).
    Importing resource_repair.config_api sets that logger back to INFO, after the command
    line set it, so it is set again once that module is loaded: silent unless DEBUG was
    asked for."""
    debug = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("aliyunsdkcore").setLevel(logging.NOTSET if debug else logging.CRITICAL)
