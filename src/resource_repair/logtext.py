"""Text from outside (a message, the Config API, an error a server sent) as it goes into a
log line: the one place that renders it.

Restore acts on audit records read back from the logs, so whoever can publish a message
must not be able to put a record on any other line. The text is written as a JSON string
(quotes, backslashes, control characters and newlines escaped, non-ASCII as ``\\uXXXX``)
and its braces as ``\\u007b``/``\\u007d``: no brace is left, so no JSON object can be read
out of it, while the text stays exact for a reader (``json.loads`` gives it back).
"""

from __future__ import annotations

import json
import traceback

_BRACES = str.maketrans({"{": "\\u007b", "}": "\\u007d"})


def untrusted(value: object) -> str:
    """``value`` (its ``str``) as a quoted, brace-free JSON string, for a log line."""
    return json.dumps(str(value), ensure_ascii=True).translate(_BRACES)


def untrusted_traceback() -> str:
    """The exception being handled, with its traceback, as one escaped line: an exception's
    text may hold message text, newlines included, and on a line of its own that could
    read as FC's log line of a record (use instead of ``logger.exception``)."""
    return untrusted(traceback.format_exc())
