"""How a command ends: its exit codes, the error for a mistake on the command line, and the
one line on stderr that says why."""

from __future__ import annotations

import re
import sys

from resource_repair.errors import ResourceRepairError

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(ResourceRepairError):
    """A mistake on the command line or in a file it names."""


# A URL's query string, up to a quote, bracket or space: aliyunsdkcore's connection errors
# quote the signed RPC URL, whose query carries the security token, percent-encoded.
_QUERY = re.compile(r"\?[^\s'\")]+")


def say(line: str) -> None:
    """One line on stderr, without any credential in use."""
    from resource_repair.redaction import protect_logs

    text = _QUERY.sub("?...", " ".join(line.split()))
    print(protect_logs().redact(text), file=sys.stderr)
