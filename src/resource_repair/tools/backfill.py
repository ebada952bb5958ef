"""``resource-repair backfill``: remediate the buckets Cloud Config reported before the
function existed, through the very path the function uses for each message.

Dry run is the default. With ``--apply`` a dry pass counts the buckets that would change
first, and nothing is written when they are more than ``--max-changes``. A bucket made
public between the two passes is written without having been counted: the limit guards
against a mistaken rule or account, not against a race of seconds.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TextIO

from resource_repair.audit import audit_record
from resource_repair.config_api import ConfigClient
from resource_repair.credentials import Credentials
from resource_repair.errors import ConfigurationError, ResourceRepairError
from resource_repair.listed_buckets import bounded_map, remediate_one
from resource_repair.message import NonComplianceEvent
from resource_repair.redaction import redacted
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.rule_lookup import with_rule_identifier
from resource_repair.settings import Settings
from resource_repair.tools.interruption import EXIT_INTERRUPTED, FinishInHand, Hand
from resource_repair.tools.terminal import print_line

# Time one bucket may take, retries included; far more than three requests need.
_PER_BUCKET_SECONDS = 120.0
# Outcomes that mean the bucket was never examined: a run of nothing else failed.
_UNEXAMINED = frozenset({Outcome.INVALID_EVENT.value, Outcome.FAILED.value})
_REASONS_SHOWN = 3
_REASONS_KEPT = 100  # distinct reasons counted; memory stays flat on any account
_REASON_CHARS = 160


class BackfillError(ResourceRepairError):
    """The backfill cannot start as asked (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class Backfill:
    rule_id: str | None
    rule_name: str | None
    site: str
    settings: Settings
    """The function's settings (template + overrides); dry_run is set per pass."""
    environment: dict[str, str]
    account_id: str | None
    aggregator_id: str | None = None
    regions: tuple[str, ...] = ()
    apply: bool = False
    max_changes: int = 25
    concurrency: int = 8
    report_path: Path | None = None
    reevaluate: bool = False
    config_endpoint: str | None = None
    member_role: str | None = None
    """``--member-role``: reach member accounts' buckets through this role, as the hub
    function does, with the caller's credentials as the hub (the operator role)."""
    member_accounts: str | None = None
    """``--member-accounts``: the account ids (or ``*``) it may act in; default: the
    template's memberAccounts."""


def with_member_role(plan: Backfill) -> Settings:
    """The plan's settings in hub mode when ``--member-role`` is given, checked as the
    function checks its own (a role needs an explicit list of accounts, ``*`` included)."""
    if plan.member_role is None:
        return plan.settings
    from resource_repair.settings import MEMBER_ACCOUNTS, MEMBER_ROLE_NAME

    accounts = plan.member_accounts
    if accounts is None:
        accounts = ",".join(sorted(plan.settings.member_accounts))
    if not accounts:
        raise BackfillError(
            "--member-role needs the member accounts: --member-accounts ID,ID (or '*' for"
            " any account whose role trusts you), or memberAccounts in the template"
        )
    try:
        parsed = Settings.from_env({MEMBER_ROLE_NAME: plan.member_role, MEMBER_ACCOUNTS: accounts})
    except ConfigurationError as exc:
        raise BackfillError(
            str(exc)
            .replace(MEMBER_ROLE_NAME, "--member-role")
            .replace(MEMBER_ACCOUNTS, "--member-accounts")
        ) from None
    return dataclasses.replace(
        plan.settings,
        member_role_name=parsed.member_role_name,
        member_accounts=parsed.member_accounts,
    )


@dataclasses.dataclass(frozen=True)
class _Caller:
    """Stands where the FC context would: it carries the credentials, and nothing else."""

    credentials: Credentials


def run_backfill(plan: Backfill, credentials: Credentials, out: TextIO, err: TextIO) -> int:
    plan = dataclasses.replace(plan, settings=with_member_role(plan))
    config = ConfigClient(credentials, plan.site, endpoint=plan.config_endpoint)
    # An account group's rule is looked up in the group (ListAggregateConfigRules), as the
    # account's own rules are in the account.
    rule_id = plan.rule_id or config.rule_id_by_name(str(plan.rule_name), plan.aggregator_id)
    caller = _Caller(credentials)

    def buckets() -> Iterator[NonComplianceEvent]:
        # Each with its rule's managed-rule identifier, which picks the fix, as the sweep does
        # (an account group's rule through GetAggregateConfigRule, unless its entry says).
        # The listing yields each bucket once, and ends with ConfigPaginationError (exit 1)
        # when Config's pages stop moving on.
        for event in config.non_compliant_buckets(
            rule_id, regions=plan.regions, aggregator_id=plan.aggregator_id
        ):
            yield with_rule_identifier(config, plan.site, event, plan.settings, plan.aggregator_id)

    reasons: collections.Counter[str] = collections.Counter()
    # Ctrl-C stops taking buckets; those in hand finish their write and read-back.
    stop = FinishInHand(err, read_state="resource-repair backfill without --apply (a dry run)")

    def one_pass(
        settings: Settings, report: IO[str] | None, label: str
    ) -> collections.Counter[str]:
        counts: collections.Counter[str] = collections.Counter()
        reasons.clear()

        def work(event: NonComplianceEvent) -> tuple[Hand, Report] | None:
            # In hand until its record is written below, in this (the main) thread.
            name = f"{event.bucket} ({event.region_id})"
            return stop.run_kept(name, lambda: _remediate(event, settings, caller, plan))

        listed = itertools.takewhile(lambda _: not stop.requested, buckets())
        with _progress(err, label) as tick:
            for _, done in bounded_map(work, listed, plan.concurrency):
                if done is None:  # not started: Ctrl-C came first
                    continue
                hand, result = done
                tick()
                counts[result.outcome.value] += 1
                if result.outcome.value in _UNEXAMINED:
                    _count_reason(reasons, result)
                if report is not None:
                    record = redacted(audit_record(result, None, form="backfill"))
                    report.write(json.dumps(record) + "\n")
                    # On disk before the bucket leaves the hand: a second Ctrl-C ends the
                    # process without emptying buffers, and restore undoes only what the
                    # report holds.
                    report.flush()
                stop.release(hand)
        return counts

    with _report_file(plan.report_path) as report, stop:
        # Pass 1 reads every bucket and writes nothing; with --apply it counts the changes.
        counts = one_pass(dataclasses.replace(plan.settings, dry_run=True), report, "reading")
        would_change = counts[Outcome.DRY_RUN.value]
        if stop.requested:
            _print_summary(counts, out)
            print_line(f"{stop.summary()}; nothing was written", file=err)
            return EXIT_INTERRUPTED
        if plan.apply and would_change > plan.max_changes:
            print_line(
                f"refusing to apply: {would_change} buckets would change, more than"
                f" --max-changes {plan.max_changes}; nothing was written (raise it to proceed)",
                file=err,
            )
            _print_summary(counts, out)
            return 1
        if plan.apply and would_change:
            # Pass 2 streams the listing again rather than holding pass 1's buckets, so
            # memory stays flat; each bucket is read again before any write, as always.
            if report is not None:
                report.seek(0)
                report.truncate()
            counts = one_pass(dataclasses.replace(plan.settings, dry_run=False), report, "applying")
            if stop.requested:
                _print_summary(counts, out)
                print_line(stop.summary(), file=err)
                return EXIT_INTERRUPTED

    if plan.reevaluate and plan.apply and counts[Outcome.REMEDIATED.value]:
        if plan.aggregator_id:
            print_line("--reevaluate: re-evaluate the aggregator's rule in the console", file=err)
        else:
            config.start_evaluation(rule_id)
            print_line(f"re-evaluation of {rule_id} started", file=err)
    _print_summary(counts, out)
    examined = sum(n for outcome, n in counts.items() if outcome not in _UNEXAMINED)
    if reasons:
        _print_reasons(reasons, counts, examined, err)
    if counts and not examined:
        return 1  # nothing could even be read: a wrong account, role or rule, not "all clear"
    # Any failing outcome (failed, bucket_replaced) needs someone to look.
    failing = sum(n for outcome, n in counts.items() if Outcome(outcome).status == "fail")
    return 1 if failing - counts[Outcome.INVALID_EVENT.value] else 0


def _remediate(
    event: NonComplianceEvent, settings: Settings, caller: _Caller, plan: Backfill
) -> Report:
    """One bucket through the function's own path; a failure stays this bucket's."""
    return remediate_one(
        event,
        settings,
        context=caller,
        environ=plan.environment,
        account_id=plan.account_id,
        function_region=None,  # a workstation: always the public endpoint
        deadline=Deadline(_PER_BUCKET_SECONDS),
        retry_note="run the backfill again later",
    )


def _count_reason(reasons: collections.Counter[str], result: Report) -> None:
    reason = f"{result.outcome.value}: {result.reason}"[:_REASON_CHARS]
    if reason in reasons or len(reasons) < _REASONS_KEPT:
        reasons[reason] += 1
    else:
        reasons["(other reasons)"] += 1


def _print_reasons(
    reasons: collections.Counter[str],
    counts: collections.Counter[str],
    examined: int,
    err: TextIO,
) -> None:
    total = sum(counts.values())
    if examined:
        print_line(f"{total - examined} of {total} buckets were invalid_event or failed", file=err)
    else:
        print_line(
            f"no bucket could be examined: all {total} were invalid_event or failed;"
            " check --account-id, the credentials' permissions and the rule",
            file=err,
        )
    print_line("most frequent reasons:", file=err)
    for reason, count in reasons.most_common(_REASONS_SHOWN):
        print_line(f"{count:>8}  {reason}", file=err)


@contextlib.contextmanager
def _report_file(path: Path | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    try:
        report = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise BackfillError(f"cannot write report {path}: {exc.strerror}") from None
    with report:
        yield report


@contextlib.contextmanager
def _progress(err: TextIO, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while it is a terminal; silent otherwise."""
    from tqdm import tqdm

    with tqdm(desc=label, unit="bucket", file=err, disable=not err.isatty(), leave=False) as bar:
        yield lambda: bar.update(1)


def _print_summary(counts: collections.Counter[str], out: TextIO) -> None:
    print(f"{'outcome':<18}{'buckets':>8}", file=out)
    for outcome in Outcome:
        if counts[outcome.value]:
            print(f"{outcome.value:<18}{counts[outcome.value]:>8}", file=out)
    print(f"{'total':<18}{sum(counts.values()):>8}", file=out)
