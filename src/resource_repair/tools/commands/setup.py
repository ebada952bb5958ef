"""``resource-repair setup``: create the topics, Config rule and delivery the function needs
(its options and work live in tools/setup)."""

from __future__ import annotations

import argparse
import sys

from resource_repair.tools.commands.options import env_overrides

NAME = "setup"
HELP = "create the topics, Config rule and delivery the function needs (plan first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from resource_repair.tools.setup import add_arguments as setup_arguments

    setup_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.setup import run as setup

    args.overrides = env_overrides(args.env)  # checked as every command checks --env
    return setup(args, sys.stdout, sys.stderr)
