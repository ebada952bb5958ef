"""``resource-repair event``: write the message Cloud Config sends about a bucket."""

from __future__ import annotations

import argparse
from pathlib import Path

from resource_repair.delivery import FORMS
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID
from resource_repair.tools.commands.exits import UsageError
from resource_repair.tools.commands.options import account_id, bucket_name, region

NAME = "event"
HELP = "write a Cloud Config non-compliance message"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True, help="the bucket it reports")
    parser.add_argument("--region", required=True, help="the bucket's region id")
    parser.add_argument(
        "--rule", default="test-oss-bucket-public-read-prohibited", help="configRuleName"
    )
    parser.add_argument("--rule-id", default="cr-0000000000000000demo", help="configRuleId")
    parser.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        help="the bucket owner's account (default: Config's documented example account)",
    )
    parser.add_argument(
        "--format",
        "--form",
        dest="format",
        choices=FORMS,
        default="stream",
        help="how the trigger delivers it: STREAM, attrs-wrapped, JSON envelope, or the"
        " plain message",
    )
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.event_builder import non_compliance_message, wrap

    account = str(account_id(args.account_id))
    bucket_name(args.bucket, "--bucket")
    region(args.region, "--region")
    text = wrap(
        non_compliance_message(args.bucket, args.region, args.rule, account, args.rule_id),
        args.format,
    )
    if args.output:
        try:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        print(text)
    return 0
