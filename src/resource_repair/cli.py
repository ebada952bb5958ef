"""``resource-repair``: run the function locally, write events, invoke the deployed function.

Results go to stdout, logs and messages to stderr. Exit codes: 0 success, 1 the function
reported ``fail`` (or raised), 2 a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from resource_repair.delivery import FORMS
from resource_repair.errors import ResourceRepairError
from resource_repair.settings import ENDPOINT_MODE
from resource_repair.testing.context import RUNTIMES
from resource_repair.testing.oss.models import ACLS

DEFAULT_TEMPLATE = "template.yml"
EXIT_USAGE = 2


class UsageError(ResourceRepairError):
    """A mistake on the command line or in a file it names."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.command(args))
    except (UsageError, ResourceRepairError) as exc:
        print(f"resource-repair: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resource-repair", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    invoke = commands.add_parser("invoke", help="run index.handler here, like `s local invoke`")
    _event_source(invoke)
    invoke.add_argument(
        "-t", "--template", default=DEFAULT_TEMPLATE, help="read the function's settings from it"
    )
    invoke.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="override a variable"
    )
    invoke.add_argument("--runtime", choices=RUNTIMES, default="python3.10", help="context shape")
    invoke.add_argument(
        "--oss", choices=["fake", "real"], default="fake", help="fake OSS, or real OSS (writes!)"
    )
    invoke.add_argument(
        "--bucket-acl", choices=sorted(ACLS), default="public-read", help="fake bucket's ACL"
    )
    invoke.add_argument("--no-bucket", action="store_true", help="leave the fake bucket missing")
    invoke.add_argument("--account-id", help="the function's account (default: the message's)")
    invoke.set_defaults(command=_invoke)

    event = commands.add_parser("event", help="write a Cloud Config non-compliance message")
    event.add_argument("--bucket", required=True)
    event.add_argument("--region", required=True)
    event.add_argument(
        "--rule", default="test-oss-bucket-public-read-prohibited", help="configRuleName"
    )
    event.add_argument("--rule-id", default="cr-0000000000000000demo", help="configRuleId")
    event.add_argument("--account-id", default="1698272328540001")
    event.add_argument("--form", choices=FORMS, default="stream", help="delivery form")
    event.add_argument("-o", "--output", help="file to write (default: stdout)")
    event.set_defaults(command=_event)

    remote = commands.add_parser(
        "remote-invoke", help="invoke the deployed function via the FC API"
    )
    _event_source(remote)
    remote.add_argument("-t", "--template", default=DEFAULT_TEMPLATE)
    remote.add_argument("--account-id", help="your UID (default: the template's vars.accountId)")
    remote.add_argument("--region", help="default: the template's region")
    remote.add_argument("--qualifier", help="version or alias")
    remote.add_argument(
        "--async", dest="asynchronous", action="store_true", help="invoke asynchronously"
    )
    remote.set_defaults(command=_remote_invoke)

    backfill = commands.add_parser(
        "backfill", help="remediate buckets Config already reported (dry run by default)"
    )
    rule = backfill.add_mutually_exclusive_group(required=True)
    rule.add_argument("--rule-id", help="the rule's cr-... id")
    rule.add_argument("--rule-name", help="the rule's exact name")
    backfill.add_argument(
        "--aggregator-id", help="list the account group's results (needs --rule-id)"
    )
    backfill.add_argument("--site", choices=["china", "international"], default="international")
    backfill.add_argument("--regions", default="", help="comma-separated region ids to include")
    backfill.add_argument(
        "--apply", action="store_true", help="write; without it nothing is changed"
    )
    backfill.add_argument(
        "--max-changes", type=int, default=25, help="refuse to apply beyond this many"
    )
    backfill.add_argument("--concurrency", type=int, default=8, help="buckets worked on at once")
    backfill.add_argument("--report", help="write one JSON line per bucket to this file")
    backfill.add_argument(
        "--reevaluate", action="store_true", help="re-evaluate the rule after applying"
    )
    backfill.add_argument("--profile", help="a profile of the aliyun CLI's configuration")
    backfill.add_argument("--account-id", help="your UID (default: the template's vars.accountId)")
    backfill.add_argument(
        "-t", "--template", default=DEFAULT_TEMPLATE, help="exemptBuckets etc. from here"
    )
    backfill.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    backfill.add_argument("--config-endpoint", help=argparse.SUPPRESS)  # a local fake Config API
    backfill.set_defaults(command=_backfill)

    fake = commands.add_parser(
        "fake-oss", help="serve the fake OSS over HTTP (for ossEndpointOverride)"
    )
    fake.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    fake.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    fake.add_argument("--bucket", action="append", default=[], metavar="NAME[:REGION[:ACL]]")
    fake.add_argument(
        "--public-buckets", type=int, default=0, metavar="N", help="add bench-000000..."
    )
    fake.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer")
    fake.add_argument("--trust-any-key", action="store_true", help="accept any signature")
    fake.set_defaults(command=_fake_oss)
    return parser


def _event_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--event-file", help="file holding the event, as FC would pass it")
    source.add_argument("-e", "--event", help="the event itself")


def _read_event(args: argparse.Namespace) -> bytes:
    if args.event is not None:
        return str(args.event).encode()
    try:
        raw = Path(args.event_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read event file {args.event_file}: {exc.strerror}") from None
    # Editors add a final newline; FC's STREAM body has none.
    return raw.rstrip(b"\r\n")


def _env_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r} is not KEY=VALUE")
        overrides[key] = value
    return overrides


def _function_environment(
    template: Mapping[str, str], overrides: Sequence[str], *, workstation: bool
) -> dict[str, str]:
    """The template's variables, then --env. Requests sent from a workstation to real OSS
    use the public endpoint, whatever the template says for the deployed function: its
    internal endpoints are unreachable from outside. An explicit --env still wins."""
    reachable = {ENDPOINT_MODE: "public"} if workstation else {}
    return {**template, **reachable, **_env_overrides(overrides)}


def _invoke(args: argparse.Namespace) -> int:
    from resource_repair.tools.local_run import LocalRun, run
    from resource_repair.tools.template import load_template

    template = load_template(args.template)
    real = args.oss == "real"
    local = LocalRun(
        event=_read_event(args),
        environment=_function_environment(template.environment, args.env, workstation=real),
        runtime=args.runtime,
        region=template.region,
        account_id=args.account_id,
        bucket_acl=None if args.no_bucket else args.bucket_acl,
        real_oss=real,
    )
    return run(local, sys.stdout, sys.stderr)


def _event(args: argparse.Namespace) -> int:
    from resource_repair.tools.event_builder import non_compliance_message, wrap

    if not (args.account_id.isascii() and args.account_id.isdigit()):
        raise UsageError(f"--account-id {args.account_id!r} must be digits")
    text = wrap(
        non_compliance_message(args.bucket, args.region, args.rule, args.account_id, args.rule_id),
        args.form,
    )
    if args.output:
        try:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        print(text)
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from resource_repair.settings import Settings
    from resource_repair.tools.backfill import Backfill, run_backfill
    from resource_repair.tools.cloud_credentials import tool_credentials
    from resource_repair.tools.config_client import ConfigApiError
    from resource_repair.tools.template import load_template

    if args.max_changes < 0 or not 1 <= args.concurrency <= 256:
        raise UsageError("--max-changes must be >= 0 and --concurrency within 1..256")
    template = load_template(args.template)
    environment = _function_environment(template.environment, args.env, workstation=True)
    plan = Backfill(
        rule_id=args.rule_id,
        rule_name=args.rule_name,
        site=args.site,
        settings=Settings.from_env(environment),
        environment=environment,
        account_id=args.account_id or str(template.variables.get("accountId") or "") or None,
        aggregator_id=args.aggregator_id,
        regions=tuple(r.strip() for r in args.regions.split(",") if r.strip()),
        apply=args.apply,
        max_changes=args.max_changes,
        concurrency=args.concurrency,
        report_path=Path(args.report) if args.report else None,
        reevaluate=args.reevaluate,
        config_endpoint=args.config_endpoint,
    )
    try:
        return run_backfill(plan, tool_credentials(args.profile), sys.stdout, sys.stderr)
    except ConfigApiError as exc:  # the run could not list or re-evaluate: it failed
        print(f"resource-repair: backfill failed: {exc}", file=sys.stderr)
        return 1


def _fake_oss(args: argparse.Namespace) -> int:
    from resource_repair.tools.fake_oss import serve

    try:
        return serve(
            args.host,
            args.port,
            args.bucket,
            args.public_buckets,
            args.latency_ms,
            args.trust_any_key,
            sys.stdout,
            sys.stderr,
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None


def _remote_invoke(args: argparse.Namespace) -> int:
    from resource_repair.tools.remote import RemoteInvocation, remote_invoke
    from resource_repair.tools.template import load_template

    template = load_template(args.template)
    account = args.account_id or str(template.variables.get("accountId", ""))
    invocation = RemoteInvocation(
        event=_read_event(args),
        account_id=account,
        region=args.region or template.region,
        service=template.service,
        function=template.function,
        qualifier=args.qualifier,
        asynchronous=args.asynchronous,
    )
    return remote_invoke(invocation, os.environ, sys.stdout, sys.stderr)
