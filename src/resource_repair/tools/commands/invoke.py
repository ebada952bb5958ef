"""``resource-repair invoke``: run the function's handler here, as ``s local invoke`` does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from resource_repair.settings import RULE_REFERENCES
from resource_repair.testing.context import RUNTIMES
from resource_repair.testing.oss.models import ACLS
from resource_repair.tools.commands.options import (
    account_id,
    env_option,
    env_overrides,
    event_source,
    function_environment,
    read_event,
)
from resource_repair.tools.template import DEFAULT_TEMPLATE
from resource_repair.tools.terminal import print_line

NAME = "invoke"
HELP = "run the function's handler here, like `s local invoke`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    event_source(parser)
    parser.add_argument(
        "-t",
        "--template",
        help=f"the function's settings (default: {DEFAULT_TEMPLATE} if there is one here,"
        " else the function's defaults with the event's own rule selected)",
    )
    env_option(parser)
    parser.add_argument("--runtime", choices=RUNTIMES, default="python3.10", help="context shape")
    parser.add_argument(
        "--oss", choices=["fake", "real"], default="fake", help="fake OSS, or real OSS (writes!)"
    )
    parser.add_argument(
        "--bucket-acl", choices=sorted(ACLS), default="public-read", help="the fake bucket's ACL"
    )
    parser.add_argument("--no-bucket", action="store_true", help="leave the fake bucket missing")
    parser.add_argument(
        "--account-id", help="the function's account (default: the message's owner)"
    )


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.local_run import LocalRun, bucket_in
    from resource_repair.tools.local_run import run as run_here
    from resource_repair.tools.template import load_template

    account = account_id(args.account_id)
    overrides = env_overrides(args.env)
    event = read_event(args)
    real = args.oss == "real"
    template_path = args.template or (
        DEFAULT_TEMPLATE if Path(DEFAULT_TEMPLATE).is_file() else None
    )
    if template_path is not None:
        template = load_template(template_path, account_id=account, accept_fc3=True)
        environment, region = template.environment, template.region
    else:
        environment, region = _defaults_for(bucket_in(event))
    local = LocalRun(
        event=event,
        environment=function_environment(environment, overrides, workstation=real),
        runtime=args.runtime,
        region=region,
        account_id=account,
        bucket_acl=None if args.no_bucket else args.bucket_acl,
        real_oss=real,
    )
    return run_here(local, sys.stdout, sys.stderr)


def _defaults_for(target: Any) -> tuple[dict[str, str], str]:
    """Without a template: the function's default settings, the event's own rule selected
    (else the run would only say that no rule is selected), the bucket's region as the
    function's. Both are said on stderr."""
    region = target.region_id if target is not None else "ap-southeast-1"
    refs = [] if target is None else [target.rule_name, target.rule_id, target.source_identifier]
    # One plain reference: a rule name is free text, and this one is printed and parsed.
    rule = next((r for r in refs if r and r.isprintable() and "," not in r and len(r) <= 128), None)
    where = f"no {DEFAULT_TEMPLATE} in {Path.cwd()}: using the function's default settings"
    if rule is None:
        print_line(f"{where}; the event names no rule, so none is selected", file=sys.stderr)
        return {}, region
    print_line(
        f"{where}, with {RULE_REFERENCES}={rule} (the event's own rule) and region {region}",
        file=sys.stderr,
    )
    return {RULE_REFERENCES: rule}, region
