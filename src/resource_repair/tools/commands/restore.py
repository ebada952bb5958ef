"""``resource-repair restore``: put back what remediations changed, from their audit lines
(its options and work live in tools/restore)."""

from __future__ import annotations

import argparse
import sys

NAME = "restore"
HELP = "put back what remediations changed, from audit lines (dry run by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from resource_repair.tools.restore import add_arguments as restore_arguments

    restore_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.restore import run as restore

    return restore(args, sys.stdout, sys.stderr)
