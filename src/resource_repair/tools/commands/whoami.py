"""``resource-repair whoami``: the account and ARN the credentials belong to."""

from __future__ import annotations

import argparse

from resource_repair.tools.commands.options import credential_options, credentials, sts_endpoint
from resource_repair.tools.terminal import shown_line

NAME = "whoami"
HELP = "print your account id and ARN (STS GetCallerIdentity): the AccountID for `s config add`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    credential_options(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.caller import caller_identity

    endpoint = sts_endpoint(args)
    identity = caller_identity(credentials(args), endpoint=endpoint)
    print(shown_line(f"{identity.account_id} {identity.arn}"))  # STS's text (terminal.py)
    return 0
