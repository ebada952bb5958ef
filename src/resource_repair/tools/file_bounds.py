"""Files the tools are given, read to a bound.

A path on the command line may name ``/dev/zero``, a named pipe or a multi-gigabyte log: read
whole, it ends in a ``MemoryError`` traceback or a machine out of memory. Every file a tool
reads goes through here, with a bound that is generous for what the file should be and
refuses, in one line naming the file, what is larger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from resource_repair.errors import ResourceRepairError

KIB = 1024
MIB = 1024 * KIB


class FileTooLargeError(ResourceRepairError, ValueError):
    """A file past the bound for its kind."""


def read_bytes_at_most(path: str | Path, limit: int, what: str) -> bytes:
    """The whole of ``path`` when it holds at most ``limit`` bytes. ``what`` names the file
    in the refusal (``"template"``, ``"event file"``). OSError passes through."""
    with Path(path).open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"{what} {path} is larger than {_size(limit)}: not read")
    return data


def lines_at_most(
    handle: IO[str], *, line_limit: int, total_limit: int, what: str
) -> Iterator[str | None]:
    """The lines of ``handle``, each as read (line end kept); ``None`` in place of a line
    longer than ``line_limit`` characters, which is skipped without being held. Past
    ``total_limit`` characters in all, FileTooLargeError: a file is read to its end or not
    at all, so that nothing is acted on from a part of it."""
    total = 0

    def read() -> str:
        nonlocal total
        piece = handle.readline(line_limit + 1)
        total += len(piece)
        if total > total_limit:
            raise FileTooLargeError(f"{what} is larger than {_size(total_limit)}: not read")
        return piece

    while line := read():
        if len(line) <= line_limit or line.endswith("\n"):
            yield line
            continue
        # An overlong line: read past it in pieces, never holding it whole.
        while line and not line.endswith("\n"):
            line = read()
        yield None


def _size(limit: int) -> str:
    if limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit % KIB == 0:
        return f"{limit // KIB} KiB"
    return f"{limit} bytes"
