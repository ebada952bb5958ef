"""``resource-repair fake-cloud``: serve fakes of Config, SMQ, STS, RAM, FC and OSS on
loopback and print the settings that point the other commands at them."""

from __future__ import annotations

import argparse
import sys

from resource_repair.tools.commands.exits import UsageError

NAME = "fake-cloud"
HELP = "serve fakes of Config, SMQ, STS, RAM and OSS on loopback; print settings"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:REGION[:ACL]]",
        help="a bucket of the fake OSS (ap-southeast-1, public-read unless given); repeatable",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="SERVICE/FUNCTION",
        help="a function the fake FC API has deployed (for setup --config-remediation); repeatable",
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME",
        help="a Config rule there from the start (built on oss-bucket-public-read-prohibited;"
        " every public bucket is its NON_COMPLIANT result); repeatable (default: none, as"
        " before `setup`)",
    )


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.fake_cloud import serve

    try:
        return serve(
            args.host,
            args.bucket,
            sys.stdout,
            sys.stderr,
            functions=args.function,
            rules=args.rule,
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}: {exc.strerror}") from None
