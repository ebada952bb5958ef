"""How a command ends: its exit codes, the error for a mistake on the command line, and the
one line on stderr that says why."""

from __future__ import annotations

import re
import sys

from resource_repair.errors import ResourceRepairError
from resource_repair.tools.terminal import shown_line

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(ResourceRepairError):
    """A mistake on the command line or in a file it names."""


# A URL's query string, up to a quote, bracket or space: aliyunsdkcore's connection errors
# quote the signed RPC URL, whose query carries the security token, percent-encoded.
_QUERY = re.compile(r"\?[^\s'\")]+")


def say(line: str) -> None:
    """One line on stderr, without any credential in use: an error's text may quote a
    server's answer (STS's Code and Message in whoami), shown as terminal.py shows it."""
    print(shown_line(_QUERY.sub("?...", line)), file=sys.stderr)
