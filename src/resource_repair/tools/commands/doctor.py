"""``resource-repair doctor``: check, read-only, that what the function needs is in place
(its options and checks live in tools/doctor)."""

from __future__ import annotations

import argparse
import sys

NAME = "doctor"
HELP = "check (read-only) that the rule, topics, Config delivery and deployment are in place"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from resource_repair.tools.doctor import add_arguments as doctor_arguments

    doctor_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.doctor import run as doctor

    return doctor(args, sys.stdout, sys.stderr)
