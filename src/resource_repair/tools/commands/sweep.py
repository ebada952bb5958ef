"""``resource-repair sweep``: run the sweep (index.sweep) here once, against the fakes unless
--oss real, a dry run unless --apply (its own options live in tools/local_sweep)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from resource_repair.settings import RULE_REFERENCES
from resource_repair.tools.commands.options import (
    env_option,
    env_overrides,
    function_environment,
)
from resource_repair.tools.template import DEFAULT_TEMPLATE
from resource_repair.tools.terminal import print_line

NAME = "sweep"
HELP = (
    "run the sweep (index.sweep) here once and print its result: against the fakes by"
    " default, dry run unless --apply"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-t",
        "--template",
        help=f"the function's settings, prepareRuleName's rules included (default:"
        f" {DEFAULT_TEMPLATE} if there is one here, else the function's defaults)",
    )
    env_option(parser)
    from resource_repair.tools.local_sweep import add_arguments as sweep_arguments

    sweep_arguments(parser)
    parser.add_argument(
        "--profile",
        help="with --oss real: a profile of the aliyun CLI's configuration (default:"
        " ALIBABA_CLOUD_ACCESS_KEY_* from the environment)",
    )


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.local_sweep import real_credentials, template_path
    from resource_repair.tools.local_sweep import run as sweep
    from resource_repair.tools.template import load_template

    overrides = env_overrides(args.env)
    real = args.oss == "real"
    path = template_path(args.template, DEFAULT_TEMPLATE)
    if path is not None:
        template = load_template(path, accept_fc3=True)
        environment, region = template.environment, template.region
    else:
        environment, region = {}, "ap-southeast-1"
        print_line(
            f"no {DEFAULT_TEMPLATE} in {Path.cwd()}: using the function's default settings"
            f" (pass --env {RULE_REFERENCES}=NAME for the rules to sweep)",
            file=sys.stderr,
        )
    credentials = real_credentials(args.profile) if real else None
    return sweep(
        function_environment(environment, overrides, workstation=real),
        region,
        real=real,
        buckets=args.bucket,
        apply=args.apply,
        max_changes=args.max_changes,
        credentials=credentials,
        out=sys.stdout,
        err=sys.stderr,
    )
