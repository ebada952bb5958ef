"""Buckets that a Config listing names, worked through on the function's own path, for
the sweep and ``backfill``: one bucket never raising (:func:`remediate_one`), a few at a
time in flat memory (:func:`bounded_map`), and one bucket's worst-case time
(:func:`bucket_budget`), which decides whether another may start."""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from resource_repair.cutoff import SIGNAL_SLICE
from resource_repair.errors import InvalidEventError, TransientError
from resource_repair.logtext import untrusted, untrusted_traceback
from resource_repair.member_access import worst_case_seconds
from resource_repair.message import NonComplianceEvent
from resource_repair.remediation import remediate_event
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def remediate_one(
    event: NonComplianceEvent,
    settings: Settings,
    *,
    context: object,
    environ: Mapping[str, str],
    account_id: str | None,
    function_region: str | None,
    deadline: Deadline,
    retry_note: str,
) -> Report:
    """One listed bucket through the function's own path, never raising: a failure stays
    this bucket's, and the caller (sweep or backfill) goes on with the next one."""
    try:
        return remediate_event(
            event,
            settings,
            context=context,
            environ=environ,
            account_id=account_id,
            function_region=function_region,
            deadline=deadline,
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
            f"{exc}; retries spent, {retry_note}",
            bucket=event.bucket,
            region=event.region_id,
            rule=event.rule_label,
        )
    except Exception as exc:  # a defect of ours: one bucket's, not the whole run's
        logger.error(
            "unexpected error on bucket %s: %s", untrusted(event.bucket[:80]), untrusted_traceback()
        )
        return Report(
            Outcome.FAILED,
            f"internal error: {type(exc).__name__}",
            bucket=event.bucket[:80],
            region=event.region_id[:40],
            rule=event.rule_label,
        )


def calls_per_bucket(settings: Settings) -> int:
    """The most OSS calls one bucket can take: the policy fix's four (read the bucket, read
    the policy, write, read back; the ACL fix takes three), the tag read of exemptTag, and
    Block Public Access's read, write and read-back."""
    calls = 4
    if settings.exempt_tag is not None:
        calls += 1
    if settings.block_public_access:
        calls += 3
    return calls


def bucket_budget(settings: Settings) -> float:
    """Worst-case seconds of one bucket: every call with all its attempts and backoffs."""
    budget = calls_per_bucket(settings) * settings.oss_retry.worst_case()
    if settings.member_role_name:
        # Hub mode: a member's first bucket also waits for its session (AssumeRole).
        budget += worst_case_seconds(settings.max_attempts)
    return budget


def bounded_map(
    func: Callable[[T], R], items: Iterable[T], concurrency: int
) -> Iterator[tuple[T, R]]:
    """(item, func(item)) as each finishes, with at most ``2 x concurrency`` items taken
    from ``items`` and not yet yielded, so that a stream of any length runs in flat memory.
    ``items`` is advanced in the caller's thread only."""
    source = iter(items)
    limit = max(1, concurrency) * 2
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=max(1, concurrency), thread_name_prefix="bucket"
    ) as pool:
        pending: dict[concurrent.futures.Future[R], T] = {}
        exhausted = False
        try:
            while pending or not exhausted:
                for item in itertools.islice(source, 0 if exhausted else limit - len(pending)):
                    pending[pool.submit(func, item)] = item
                if len(pending) < limit:
                    exhausted = True
                if not pending:
                    break
                # In slices, so that a Ctrl-C the kernel gave a worker is heard (cutoff).
                done, _ = concurrent.futures.wait(
                    pending, SIGNAL_SLICE, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in done:
                    yield pending.pop(future), future.result()
        except BaseException:
            # Stopped early (Ctrl-C in a local run, the caller gone): the items not started
            # are dropped; those started finish, as the pool's exit waits for them.
            for future in pending:
                future.cancel()
            raise
