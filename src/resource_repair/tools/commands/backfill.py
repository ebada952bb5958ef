"""``resource-repair backfill``: remediate the buckets Cloud Config already reported for a
rule, a dry run unless --apply."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from resource_repair.tools.commands.exits import EXIT_FAILED, UsageError, say
from resource_repair.tools.commands.options import (
    account_id,
    callers_account,
    credential_options,
    credentials,
    env_option,
    env_overrides,
    function_environment,
    region,
)
from resource_repair.tools.template import DEFAULT_TEMPLATE

NAME = "backfill"
HELP = "remediate buckets Config already reported (dry run by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    rule = parser.add_mutually_exclusive_group(required=True)
    rule.add_argument("--rule-id", help="the rule's cr-... id")
    rule.add_argument("--rule-name", help="the rule's exact name")
    parser.add_argument("--aggregator-id", help="list the account group's rules and results")
    parser.add_argument(
        "--site",
        choices=["china", "international"],
        help="which Config endpoint lists the results (default: the template's configSite,"
        " else from its region, as the sweep and doctor choose)",
    )
    parser.add_argument(
        "--regions", default="", help="comma-separated region ids to include (default: all)"
    )
    parser.add_argument("--apply", action="store_true", help="write; without it nothing is changed")
    parser.add_argument(
        "--max-changes", type=int, default=25, help="refuse to apply beyond this many"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="buckets worked on at once")
    parser.add_argument("--report", help="write one JSON line per bucket to this file")
    parser.add_argument(
        "--reevaluate", action="store_true", help="re-evaluate the rule after applying"
    )
    parser.add_argument(
        "--account-id",
        help="only this account's buckets (default: yours, from STS GetCallerIdentity)",
    )
    parser.add_argument(
        "--member-role",
        metavar="NAME",
        help="reach member accounts' buckets by assuming this role (template.member.yml)",
    )
    parser.add_argument(
        "--member-accounts",
        metavar="IDS",
        help="with --member-role: the member account ids, comma-separated, or '*'"
        " (default: the template's memberAccounts)",
    )
    parser.add_argument(
        "-t", "--template", default=DEFAULT_TEMPLATE, help="exemptBuckets etc. from here"
    )
    env_option(parser)
    parser.add_argument(
        "--config-endpoint",
        metavar="HOST:PORT",
        help="a fake Config API on this machine instead of Config (loopback only, plain"
        " HTTP): fake-cloud's $FAKE_CONFIG",
    )
    credential_options(parser)


def run(args: argparse.Namespace) -> int:
    from resource_repair.config_api import site_for_region
    from resource_repair.endpoints import loopback_host_port
    from resource_repair.settings import Settings
    from resource_repair.tools.backfill import Backfill, run_backfill
    from resource_repair.tools.config_client import ConfigApiError
    from resource_repair.tools.template import load_template

    # Everything the user typed is checked before the first request.
    if args.max_changes < 0 or not 1 <= args.concurrency <= 256:
        raise UsageError("--max-changes must be >= 0 and --concurrency within 1..256")
    regions = tuple(region(r.strip(), "--regions") for r in args.regions.split(",") if r.strip())
    account_id(args.account_id)
    _aggregator_id(args.aggregator_id)
    report_path = _report_path(args.report)
    config_endpoint = loopback_host_port(args.config_endpoint, "--config-endpoint")
    overrides = env_overrides(args.env)
    template = load_template(args.template, account_id=args.account_id, accept_fc3=True)
    environment = function_environment(template.environment, overrides, workstation=True)
    settings = Settings.from_env(environment)
    keys = credentials(args)
    plan = Backfill(
        rule_id=args.rule_id,
        rule_name=args.rule_name,
        site=args.site or settings.config_site or site_for_region(template.region),
        settings=settings,
        environment=environment,
        account_id=callers_account(args, keys),
        aggregator_id=args.aggregator_id,
        regions=regions,
        apply=args.apply,
        max_changes=args.max_changes,
        concurrency=args.concurrency,
        report_path=report_path,
        reevaluate=args.reevaluate,
        config_endpoint=config_endpoint,
        member_role=args.member_role,
        member_accounts=args.member_accounts,
    )
    try:
        return run_backfill(plan, keys, sys.stdout, sys.stderr)
    except ConfigApiError as exc:  # the run could not list or re-evaluate: it failed
        say(f"resource-repair: backfill failed: {exc}")
        return EXIT_FAILED


def _aggregator_id(value: str | None) -> str | None:
    """An account group's id (``ca-...``), checked as the function checks
    configAggregatorId, before any request."""
    if value is None:
        return None
    from resource_repair.errors import ConfigurationError
    from resource_repair.settings import CONFIG_AGGREGATOR_ID, Settings

    try:
        Settings.from_env({CONFIG_AGGREGATOR_ID: value})
    except ConfigurationError:
        raise UsageError(
            f"--aggregator-id {value[:80]!r} is not an account group id (ca- and 4 to 40"
            " lowercase letters or digits)"
        ) from None
    return value


def _report_path(value: str | None) -> Path | None:
    """The --report file, checked to be writable before anything is listed or changed."""
    if not value:
        return None
    path = Path(value)
    folder = path.parent
    problem = None
    if path.is_dir():
        problem = "is a directory"
    elif not folder.is_dir():
        problem = f"is in {folder}, which is not a directory"
    elif not os.access(path if path.exists() else folder, os.W_OK):
        problem = "is not writable"
    if problem:
        raise UsageError(f"--report {value} {problem}")
    return path
