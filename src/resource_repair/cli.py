"""``resource-repair``: run the function locally, write events, invoke the deployed function.

Results go to stdout, logs and messages to stderr. Exit codes: 0 success, 1 the function
reported ``fail`` (or raised) or a cloud service refused or could not be reached, 2 a usage
error, 130 stopped by Ctrl-C. Every error is one line; every option is checked before the
first network request.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from resource_repair.credentials import Credentials
from resource_repair.delivery import FORMS
from resource_repair.errors import InvalidEventError, ResourceRepairError
from resource_repair.settings import ENDPOINT_MODE, RULE_REFERENCES
from resource_repair.testing.context import RUNTIMES
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID
from resource_repair.testing.oss.models import ACLS
from resource_repair.tools.caller import CloudServiceError
from resource_repair.tools.command_help import document_fake_options, example
from resource_repair.validation import check_region_id

DEFAULT_TEMPLATE = "template.yml"
FC3_TEMPLATE = "template.fc3.yml"
# The event function's names in both templates, for remote-invoke without one.
EVENT_SERVICE = "resource_repair"
EVENT_FUNCTION = "oss_repair_acl_trigger"
EXIT_FAILED = 1
EXIT_USAGE = 2
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class UsageError(ResourceRepairError):
    """A mistake on the command line or in a file it names."""


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C ended


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:
        # Ctrl-C: one line, not the traceback of wherever the command happened to be.
        # A command that was writing says which bucket it was in (see tools/interruption).
        _say(f"resource-repair: interrupted{': ' + str(exc) if str(exc) else ''}")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Said by the command's own parser, so that its --help is the one pointed to.
        _unrecognized(args.parser, extra)
    level = getattr(logging, args.log_level)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # aliyunsdkcore logs every failed request at ERROR before raising; the command reports
    # the same failure in its own one line, so the SDK speaks only when asked for DEBUG.
    logging.getLogger("aliyunsdkcore").setLevel(
        logging.NOTSET if level <= logging.DEBUG else logging.CRITICAL
    )
    try:
        return int(args.command(args))
    except CloudServiceError as exc:
        _say(f"resource-repair: {exc}")
        return EXIT_FAILED
    except ResourceRepairError as exc:
        _say(f"resource-repair: error: {exc}")
        return EXIT_USAGE


# A URL's query string, up to a quote, bracket or space: aliyunsdkcore's connection errors
# quote the signed RPC URL, whose query carries the security token, percent-encoded.
_QUERY = re.compile(r"\?[^\s'\")]+")


def _say(line: str) -> None:
    """One line on stderr, without any credential in use."""
    from resource_repair.redaction import protect_logs

    text = _QUERY.sub("?...", " ".join(line.split()))
    print(protect_logs().redact(text), file=sys.stderr)


# -- the parser ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one worth showing; the example at the end as
    it is written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], "", argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action) or text


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="resource-repair",
        description="Run the function locally, write events, invoke the deployed function,"
        " remediate what Cloud Config already reported.",
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS, help="log detail"
    )
    # The same option after the subcommand; SUPPRESS keeps the one given before it otherwise.
    after = _Parser(add_help=False)
    after.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        type=str.upper,
        choices=LOG_LEVELS,
        help="log detail (default: INFO)",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", help="what to do")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=text,
            description=text,
            parents=[after],
            formatter_class=_Formatter,
            epilog=example(name),
        )
        sub.set_defaults(parser=sub)
        return sub

    invoke = command("invoke", "run the function's handler here, like `s local invoke`")
    _event_source(invoke)
    invoke.add_argument(
        "-t",
        "--template",
        help=f"the function's settings (default: {DEFAULT_TEMPLATE} if there is one here,"
        " else the function's defaults with the event's own rule selected)",
    )
    _env_option(invoke)
    invoke.add_argument("--runtime", choices=RUNTIMES, default="python3.10", help="context shape")
    invoke.add_argument(
        "--oss", choices=["fake", "real"], default="fake", help="fake OSS, or real OSS (writes!)"
    )
    invoke.add_argument(
        "--bucket-acl", choices=sorted(ACLS), default="public-read", help="the fake bucket's ACL"
    )
    invoke.add_argument("--no-bucket", action="store_true", help="leave the fake bucket missing")
    invoke.add_argument(
        "--account-id", help="the function's account (default: the message's owner)"
    )
    invoke.set_defaults(command=_invoke)

    event = command("event", "write a Cloud Config non-compliance message")
    event.add_argument("--bucket", required=True, help="the bucket it reports")
    event.add_argument("--region", required=True, help="the bucket's region id")
    event.add_argument(
        "--rule", default="test-oss-bucket-public-read-prohibited", help="configRuleName"
    )
    event.add_argument("--rule-id", default="cr-0000000000000000demo", help="configRuleId")
    event.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        help="the bucket owner's account (default: Config's documented example account)",
    )
    event.add_argument(
        "--format",
        "--form",
        dest="format",
        choices=FORMS,
        default="stream",
        help="how the trigger delivers it: STREAM, attrs-wrapped, JSON envelope, or the"
        " plain message",
    )
    event.add_argument("-o", "--output", help="file to write (default: stdout)")
    event.set_defaults(command=_event)

    remote = command("remote-invoke", "invoke the deployed function via the FC API")
    _event_source(remote)
    remote.add_argument(
        "-t",
        "--template",
        help=f"function, region and FC version from it: {DEFAULT_TEMPLATE} (FC 2.0) or"
        f" {FC3_TEMPLATE} (FC 3.0); none with --fc (default: {DEFAULT_TEMPLATE})",
    )
    remote.add_argument(
        "--fc",
        type=int,
        choices=(2, 3),
        help="the FC API without a template: 2 (aliyun-fc2) or 3 (alibabacloud-fc20230330);"
        " needs --region",
    )
    remote.add_argument(
        "--function", help=f"the function's name (default: the template's, else {EVENT_FUNCTION})"
    )
    remote.add_argument(
        "--service",
        help=f"FC 2.0's service (default: the template's, else {EVENT_SERVICE}); with --fc 3,"
        " reaches that FC 2.0 function through FC 3.0's API as <service>$<function>",
    )
    remote.add_argument(
        "--account-id", help="the function's account (default: yours, from STS GetCallerIdentity)"
    )
    remote.add_argument("--region", help="the function's region (default: the template's)")
    remote.add_argument("--qualifier", help="version or alias (default: LATEST)")
    remote.add_argument(
        "--async", dest="asynchronous", action="store_true", help="invoke asynchronously"
    )
    _credential_options(remote)
    remote.set_defaults(command=_remote_invoke)

    backfill = command("backfill", "remediate buckets Config already reported (dry run by default)")
    rule = backfill.add_mutually_exclusive_group(required=True)
    rule.add_argument("--rule-id", help="the rule's cr-... id")
    rule.add_argument("--rule-name", help="the rule's exact name")
    backfill.add_argument("--aggregator-id", help="list the account group's rules and results")
    backfill.add_argument(
        "--site",
        choices=["china", "international"],
        help="which Config endpoint lists the results (default: the template's configSite,"
        " else from its region, as the sweep and doctor choose)",
    )
    backfill.add_argument(
        "--regions", default="", help="comma-separated region ids to include (default: all)"
    )
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
    backfill.add_argument(
        "--account-id",
        help="only this account's buckets (default: yours, from STS GetCallerIdentity)",
    )
    backfill.add_argument(
        "--member-role",
        metavar="NAME",
        help="reach member accounts' buckets by assuming this role (template.member.yml)",
    )
    backfill.add_argument(
        "--member-accounts",
        metavar="IDS",
        help="with --member-role: the member account ids, comma-separated, or '*'"
        " (default: the template's memberAccounts)",
    )
    backfill.add_argument(
        "-t", "--template", default=DEFAULT_TEMPLATE, help="exemptBuckets etc. from here"
    )
    _env_option(backfill)
    _config_endpoint_option(backfill)
    _credential_options(backfill)
    backfill.set_defaults(command=_backfill)

    whoami = command(
        "whoami",
        "print your account id and ARN (STS GetCallerIdentity): the AccountID for `s config add`",
    )
    _credential_options(whoami)
    whoami.set_defaults(command=_whoami)

    doctor = command(
        "doctor",
        "check (read-only) that the rule, topics, Config delivery and deployment are in place",
    )
    from resource_repair.tools.doctor import add_arguments as doctor_arguments

    doctor_arguments(doctor)
    doctor.set_defaults(command=_doctor)

    restore = command(
        "restore", "put back what remediations changed, from audit lines (dry run by default)"
    )
    from resource_repair.tools.restore import add_arguments as restore_arguments

    restore_arguments(restore)
    restore.set_defaults(command=_restore)

    setup = command(
        "setup", "create the topics, Config rule and delivery the function needs (plan first)"
    )
    from resource_repair.tools.setup import add_arguments as setup_arguments

    setup_arguments(setup)
    setup.set_defaults(command=_setup)

    sweep = command(
        "sweep",
        "run the sweep (index.sweep) here once and print its result: against the fakes by"
        " default, dry run unless --apply",
    )
    sweep.add_argument(
        "-t",
        "--template",
        help=f"the function's settings, prepareRuleName's rules included (default:"
        f" {DEFAULT_TEMPLATE} if there is one here, else the function's defaults)",
    )
    _env_option(sweep)
    from resource_repair.tools.local_sweep import add_arguments as sweep_arguments

    sweep_arguments(sweep)
    sweep.add_argument(
        "--profile",
        help="with --oss real: a profile of the aliyun CLI's configuration (default:"
        " ALIBABA_CLOUD_ACCESS_KEY_* from the environment)",
    )
    sweep.set_defaults(command=_sweep)

    cloud = command(
        "fake-cloud", "serve fakes of Config, SMQ, STS, RAM and OSS on loopback; print settings"
    )
    cloud.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cloud.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:REGION[:ACL]]",
        help="a bucket of the fake OSS (ap-southeast-1, public-read unless given); repeatable",
    )
    cloud.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="SERVICE/FUNCTION",
        help="a function the fake FC API has deployed (for setup --config-remediation); repeatable",
    )
    cloud.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME",
        help="a Config rule there from the start (built on oss-bucket-public-read-prohibited;"
        " every public bucket is its NON_COMPLIANT result); repeatable (default: none, as"
        " before `setup`)",
    )
    cloud.set_defaults(command=_fake_cloud)

    fake = command("fake-oss", "serve the fake OSS over HTTP (for ossEndpointOverride)")
    fake.add_argument("--host", default="127.0.0.1", help="address to listen on")
    fake.add_argument("--port", type=_port, default=9000, help="0 picks a free port")
    fake.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:REGION[:ACL]]",
        help="a bucket to serve (region ap-southeast-1, ACL public-read unless given);"
        " repeat for more",
    )
    fake.add_argument(
        "--public-buckets",
        type=_count,
        default=0,
        metavar="N",
        help="add N public buckets bench-000000... in ap-southeast-1",
    )
    fake.add_argument(
        "--latency-ms", type=_latency, default=0.0, help="delay every answer this long"
    )
    fake.add_argument(
        "--trust-any-key",
        action="store_true",
        help="accept requests signed with any key: your own with `invoke --oss real`, or a"
        " benchmark's. Without it only the built-in test key is accepted, which `invoke"
        " --env ossEndpointOverride=URL` signs with and `fake-cloud` exports",
    )
    fake.add_argument(
        "--qps-limit",
        type=_qps,
        default=None,
        metavar="Q",
        help="answer at most Q requests a second, 503 MetaOperationQpsLimitExceeded beyond"
        " (default: no limit)",
    )
    fake.set_defaults(command=_fake_oss)
    for sub in commands.choices.values():
        document_fake_options(sub)
    return parser


def _unrecognized(parser: argparse.ArgumentParser, extra: Sequence[str]) -> NoReturn:
    """The command's own usage error for options it does not have, with the closest one
    it does have (``backfill --dry-run``: a dry run is the default there)."""
    known = [o for action in parser._actions for o in action.option_strings]
    hints = []
    for word in extra:
        name = word.split("=", 1)[0]
        if name in ("--dry-run", "--dryrun"):
            hints.append(f"{name}: a dry run is the default; --apply writes")
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close and name.startswith("-"):
            hints.append(f"did you mean {close[0]}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")


def _event_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--event-file", help="file holding the event, as FC would pass it")
    source.add_argument("-e", "--event", help="the event itself")


def _env_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one of the function's variables, over the template's; repeatable",
    )


def _credential_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        help="a profile of the aliyun CLI's configuration (default: ALIBABA_CLOUD_ACCESS_KEY_*"
        " from the environment)",
    )
    parser.add_argument(
        "--sts-endpoint",
        metavar="HOST:PORT",
        help="a fake STS on this machine instead of STS (loopback only, plain HTTP):"
        " fake-cloud's $FAKE_STS",
    )


def _config_endpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-endpoint",
        metavar="HOST:PORT",
        help="a fake Config API on this machine instead of Config (loopback only, plain"
        " HTTP): fake-cloud's $FAKE_CONFIG",
    )


def _port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0..65535)")
    return value


def _count(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not within 0..1000000")
    return value


def _qps(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not within 1..1000000")
    return value


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= 60_000):
        raise argparse.ArgumentTypeError(f"{text!r} is not within 0..60000 milliseconds")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


# -- checks shared by the commands ----------------------------------------------------------


def _read_event(args: argparse.Namespace) -> bytes:
    if args.event is not None:
        return str(args.event).encode()
    try:
        raw = Path(args.event_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read event file {args.event_file}: {exc.strerror}") from None
    # Editors add a final newline; FC's STREAM body has none.
    return raw.rstrip(b"\r\n")


def _account_id(value: str | None) -> str | None:
    """An account id as the user typed it, refused unless it is digits."""
    if value is not None and not (value.isascii() and value.isdigit()):
        raise UsageError(f"--account-id {value!r} must be digits (an account's UID)")
    return value


def _bucket_name(value: str, option: str) -> str:
    """A bucket name as OSS allows it: an event or request naming another is refused."""
    from resource_repair.validation import check_bucket_name

    try:
        check_bucket_name(value)
    except InvalidEventError as exc:
        raise UsageError(f"{option}: {exc}") from None
    return value


def _region(value: str, option: str) -> str:
    try:
        check_region_id(value)
    except InvalidEventError as exc:
        raise UsageError(f"{option}: {exc}") from None
    return value


def _env_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``--env NAME=VALUE`` pairs; a name the function does not read is refused, since a
    typo (``dryrun=true``) would otherwise be ignored and the run would write."""
    known = function_variables()
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r} is not NAME=VALUE")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(
                f"--env {key}: the function reads no such variable; {hint}"
                f"it reads {', '.join(known)}"
            )
        overrides[key] = value
    return overrides


def function_variables() -> tuple[str, ...]:
    """Every environment variable the deployed code reads (resource_repair.settings lists
    them all, notifications' included): its deployment settings, then those for local runs
    and tests."""
    from resource_repair import settings

    return tuple(dict.fromkeys((*settings.VARIABLES, *settings.LOCAL_ONLY_VARIABLES)))


def _function_environment(
    template: Mapping[str, str], overrides: Mapping[str, str], *, workstation: bool
) -> dict[str, str]:
    """The template's variables, then --env. Requests sent from a workstation to real OSS
    use the public endpoint, whatever the template says for the deployed function: its
    internal endpoints are unreachable from outside. An explicit --env still wins."""
    reachable = {ENDPOINT_MODE: "public"} if workstation else {}
    return {**template, **reachable, **overrides}


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


def _credentials(args: argparse.Namespace) -> Credentials:
    from resource_repair.tools.cloud_credentials import tool_credentials

    _sts_endpoint(args)  # checked before a profile's role is assumed: the first request
    return tool_credentials(args.profile)


def _callers_account(args: argparse.Namespace, credentials: Credentials) -> str:
    """--account-id when given, else the account the credentials belong to (never a value
    from the template: a copied template would aim at someone else's account)."""
    if args.account_id:
        return str(args.account_id)
    from resource_repair.tools.caller import caller_identity

    return caller_identity(credentials, endpoint=_sts_endpoint(args)).account_id


def _sts_endpoint(args: argparse.Namespace) -> str | None:
    """The hidden --sts-endpoint, for a fake STS: plain HTTP, so loopback only."""
    from resource_repair.endpoints import loopback_host_port

    return loopback_host_port(args.sts_endpoint, "--sts-endpoint")


# -- the commands ----------------------------------------------------------------------------


def _invoke(args: argparse.Namespace) -> int:
    from resource_repair.tools.local_run import LocalRun, bucket_in, run
    from resource_repair.tools.template import load_template

    account = _account_id(args.account_id)
    overrides = _env_overrides(args.env)
    event = _read_event(args)
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
        environment=_function_environment(environment, overrides, workstation=real),
        runtime=args.runtime,
        region=region,
        account_id=account,
        bucket_acl=None if args.no_bucket else args.bucket_acl,
        real_oss=real,
    )
    return run(local, sys.stdout, sys.stderr)


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
        print(f"{where}; the event names no rule, so none is selected", file=sys.stderr)
        return {}, region
    print(
        f"{where}, with {RULE_REFERENCES}={rule} (the event's own rule) and region {region}",
        file=sys.stderr,
    )
    return {RULE_REFERENCES: rule}, region


def _event(args: argparse.Namespace) -> int:
    from resource_repair.tools.event_builder import non_compliance_message, wrap

    account = str(_account_id(args.account_id))
    _bucket_name(args.bucket, "--bucket")
    _region(args.region, "--region")
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


def _backfill(args: argparse.Namespace) -> int:
    from resource_repair.config_api import site_for_region
    from resource_repair.endpoints import loopback_host_port
    from resource_repair.settings import Settings
    from resource_repair.tools.backfill import Backfill, run_backfill
    from resource_repair.tools.config_client import ConfigApiError
    from resource_repair.tools.template import load_template

    # Everything the user typed is checked before the first request.
    if args.max_changes < 0 or not 1 <= args.concurrency <= 256:
        raise UsageError("--max-changes must be >= 0 and --concurrency within 1..256")
    regions = tuple(_region(r.strip(), "--regions") for r in args.regions.split(",") if r.strip())
    _account_id(args.account_id)
    _aggregator_id(args.aggregator_id)
    report_path = _report_path(args.report)
    config_endpoint = loopback_host_port(args.config_endpoint, "--config-endpoint")
    overrides = _env_overrides(args.env)
    template = load_template(args.template, account_id=args.account_id, accept_fc3=True)
    environment = _function_environment(template.environment, overrides, workstation=True)
    settings = Settings.from_env(environment)
    credentials = _credentials(args)
    plan = Backfill(
        rule_id=args.rule_id,
        rule_name=args.rule_name,
        site=args.site or settings.config_site or site_for_region(template.region),
        settings=settings,
        environment=environment,
        account_id=_callers_account(args, credentials),
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
        return run_backfill(plan, credentials, sys.stdout, sys.stderr)
    except ConfigApiError as exc:  # the run could not list or re-evaluate: it failed
        _say(f"resource-repair: backfill failed: {exc}")
        return EXIT_FAILED


def _whoami(args: argparse.Namespace) -> int:
    from resource_repair.tools.caller import caller_identity

    endpoint = _sts_endpoint(args)
    identity = caller_identity(_credentials(args), endpoint=endpoint)
    print(f"{identity.account_id} {identity.arn}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from resource_repair.tools.doctor import run

    return run(args, sys.stdout, sys.stderr)


def _restore(args: argparse.Namespace) -> int:
    from resource_repair.tools.restore import run

    return run(args, sys.stdout, sys.stderr)


def _setup(args: argparse.Namespace) -> int:
    from resource_repair.tools.setup import run

    args.overrides = _env_overrides(args.env)  # checked as every command checks --env
    return run(args, sys.stdout, sys.stderr)


def _sweep(args: argparse.Namespace) -> int:
    from resource_repair.tools.local_sweep import real_credentials, run, template_path
    from resource_repair.tools.template import load_template

    overrides = _env_overrides(args.env)
    real = args.oss == "real"
    path = template_path(args.template, DEFAULT_TEMPLATE)
    if path is not None:
        template = load_template(path, accept_fc3=True)
        environment, region = template.environment, template.region
    else:
        environment, region = {}, "ap-southeast-1"
        print(
            f"no {DEFAULT_TEMPLATE} in {Path.cwd()}: using the function's default settings"
            f" (pass --env {RULE_REFERENCES}=NAME for the rules to sweep)",
            file=sys.stderr,
        )
    credentials = real_credentials(args.profile) if real else None
    return run(
        _function_environment(environment, overrides, workstation=real),
        region,
        real=real,
        buckets=args.bucket,
        apply=args.apply,
        max_changes=args.max_changes,
        credentials=credentials,
        out=sys.stdout,
        err=sys.stderr,
    )


def _fake_cloud(args: argparse.Namespace) -> int:
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
            qps_limit=args.qps_limit,
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None


def _remote_invoke(args: argparse.Namespace) -> int:
    from resource_repair.tools.remote import RemoteInvocation, remote_invoke

    _account_id(args.account_id)
    event = _read_event(args)
    fc_version, service, function, region, timeout = _remote_target(args)
    region = _region(region, "--region")
    credentials = _credentials(args)
    invocation = RemoteInvocation(
        event=event,
        account_id=_callers_account(args, credentials),
        region=region,
        service=service,
        function=function,
        qualifier=args.qualifier,
        asynchronous=args.asynchronous,
        function_timeout=timeout,
        fc_version=fc_version,
    )
    return remote_invoke(invocation, credentials, sys.stdout, sys.stderr)


def _remote_target(args: argparse.Namespace) -> tuple[int, str, str, str, int]:
    """FC version, service, function, region and timeout: from the template (its edition
    decides the API), or from --fc and the options without one."""
    from resource_repair.tools.template import load_template

    if args.template is None and args.fc is not None:
        if not args.region:
            raise UsageError("--region is needed when no template is given")
        fc, service, function = _fc_names(
            args.fc,
            args.service or (EVENT_SERVICE if args.fc == 2 else ""),
            args.function or EVENT_FUNCTION,
        )
        # The longer of the two functions' timeouts (the sweep's), for the read timeout.
        return fc, service, function, args.region, 600
    path = args.template or DEFAULT_TEMPLATE
    template = load_template(path, account_id=args.account_id, accept_fc3=True)
    if args.fc is not None and args.fc != template.fc_version:
        raise UsageError(f"--fc {args.fc}: {path} is an FC {template.fc_version}.0 template")
    fc, service, function = _fc_names(
        template.fc_version, args.service or template.service, args.function or template.function
    )
    return fc, service, function, args.region or template.region, template.timeout


def _fc_names(fc_version: int, service: str, function: str) -> tuple[int, str, str]:
    """FC 3.0 has no services: an FC 2.0 function is <service>$<function> in its API."""
    if fc_version == 3 and service and "$" not in function:
        return 3, "", f"{service}${function}"
    return fc_version, service, function
