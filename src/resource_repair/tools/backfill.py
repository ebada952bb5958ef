"""``resource-repair backfill``: remediate the buckets Cloud Config reported before the
function existed, through the very path the function uses for each message.

Dry run is the default. With ``--apply`` a dry pass counts the buckets that would change
first, and nothing is written when they are more than ``--max-changes``. A bucket made
public between the two passes is written without having been counted: the limit guards
against a mistaken rule or account, not against a race of seconds.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TextIO, TypeVar

from resource_repair.audit import audit_record
from resource_repair.credentials import Credentials
from resource_repair.errors import InvalidEventError, ResourceRepairError, TransientError
from resource_repair.message import NonComplianceEvent
from resource_repair.remediation import remediate_event
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.settings import Settings
from resource_repair.tools.config_client import ConfigClient

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Time one bucket may take, retries included; far more than three requests need.
_PER_BUCKET_SECONDS = 120.0


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


@dataclasses.dataclass(frozen=True)
class _Caller:
    """Stands where the FC context would: it carries the credentials, and nothing else."""

    credentials: Credentials


def run_backfill(plan: Backfill, credentials: Credentials, out: TextIO, err: TextIO) -> int:
    if plan.rule_name and plan.aggregator_id:
        raise BackfillError("with --aggregator-id, name the rule with --rule-id")
    config = ConfigClient(credentials, plan.site, endpoint=plan.config_endpoint)
    rule_id = plan.rule_id or config.rule_id_by_name(str(plan.rule_name))
    caller = _Caller(credentials)

    def buckets() -> Iterator[NonComplianceEvent]:
        return config.non_compliant_buckets(
            rule_id, regions=plan.regions, aggregator_id=plan.aggregator_id
        )

    def one_pass(
        settings: Settings, report: IO[str] | None, label: str
    ) -> collections.Counter[str]:
        counts: collections.Counter[str] = collections.Counter()
        with _progress(err, label) as tick:
            for _, result in bounded_map(
                lambda e: _remediate(e, settings, caller, plan), buckets(), plan.concurrency
            ):
                tick()
                counts[result.outcome.value] += 1
                if report is not None:
                    report.write(json.dumps(audit_record(result, None, form="backfill")) + "\n")
        return counts

    with _report_file(plan.report_path) as report:
        # Pass 1 reads every bucket and writes nothing; with --apply it counts the changes.
        counts = one_pass(dataclasses.replace(plan.settings, dry_run=True), report, "reading")
        would_change = counts[Outcome.DRY_RUN.value]
        if plan.apply and would_change > plan.max_changes:
            print(
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

    if plan.reevaluate and plan.apply and counts[Outcome.REMEDIATED.value]:
        if plan.aggregator_id:
            print("--reevaluate: re-evaluate the aggregator's rule in the console", file=err)
        else:
            config.start_evaluation(rule_id)
            print(f"re-evaluation of {rule_id} started", file=err)
    _print_summary(counts, out)
    return 1 if counts[Outcome.FAILED.value] else 0


def _remediate(
    event: NonComplianceEvent, settings: Settings, caller: _Caller, plan: Backfill
) -> Report:
    """One bucket through the function's own path; a failure stays this bucket's."""
    try:
        return remediate_event(
            event,
            settings,
            context=caller,
            environ=plan.environment,
            account_id=plan.account_id,
            function_region=None,  # a workstation: always the public endpoint
            deadline=Deadline(_PER_BUCKET_SECONDS),
        )
    except InvalidEventError as exc:
        return Report(
            Outcome.INVALID_EVENT,
            str(exc),
            bucket=event.bucket[:80],
            region=event.region_id[:40],
            rule=event.rule_label,
        )
    except TransientError as exc:
        return Report(
            Outcome.FAILED,
            f"{exc}; retries spent",
            bucket=event.bucket,
            region=event.region_id,
            rule=event.rule_label,
        )
    except Exception as exc:
        logger.exception("unexpected error on bucket %s", event.bucket[:80])
        return Report(
            Outcome.FAILED,
            f"internal error: {type(exc).__name__}",
            bucket=event.bucket,
            region=event.region_id,
        )


def bounded_map(
    func: Callable[[T], R], items: Iterable[T], concurrency: int
) -> Iterator[tuple[T, R]]:
    """(item, func(item)) as each finishes, with at most ``2 x concurrency`` items taken
    from ``items`` and not yet yielded, so that a stream of any length runs in flat memory."""
    source = iter(items)
    limit = max(1, concurrency) * 2
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, concurrency), thread_name_prefix="backfill"
    ) as pool:
        pending: dict[concurrent.futures.Future[R], T] = {}
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < limit:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(func, item)] = item
            if not pending:
                break
            done, _ = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                yield pending.pop(future), future.result()


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
