"""The sweep (``index.sweep``, a timer trigger): bring back the level that messages miss.

Messages are edges: one lost delivery, or one FC gave up on, leaves a bucket public with
nobody told. Cloud Config's evaluation results are the level. On every tick the sweep lists
the ``NON_COMPLIANT`` buckets of every rule ``prepareRuleName`` selects and sends each one
through :func:`~resource_repair.remediation.remediate_event`, the path the event function
and ``backfill`` share, with the same settings read the same way.

It never outlives its invocation: buckets run a few at a time, none starts unless the time
left holds its worst case, and the result says whether the sweep got through everything
(``complete``); what it did not reach, the next tick does. A rule with nothing
non-compliant costs one listing request and no OSS request.

It is never silent: a sweep that cannot start (an event that is not its timer's, settings
under which not one bucket fits its time), a rule whose listing fails, and a sweep that
leaves buckets unreached are each a ``fail``, published to the failure topic.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from resource_repair import config_remediation, sweep_trigger
from resource_repair.audit import write_audit
from resource_repair.config_api import (
    ConfigApiError,
    ConfigClient,
    ConfigOutOfTimeError,
    site_for_region,
)
from resource_repair.credentials import resolve_credentials
from resource_repair.errors import ConfigurationError
from resource_repair.invocation import context_text, function_region, function_timeout
from resource_repair.listed_buckets import (
    bounded_map,
    bucket_budget,
    calls_per_bucket,
    remediate_one,
)
from resource_repair.logtext import untrusted, untrusted_traceback
from resource_repair.message import NonComplianceEvent
from resource_repair.notify import Notified, Notifier
from resource_repair.notify_settings import NotifySettings
from resource_repair.redaction import protect_logs, redacted
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.rule_lookup import (
    MAX_REFERENCE_CHARS,
    resolve_references,
    with_rule_identifier,
)

# Named by index.sweep's docstring: tests and benchmarks call it between fakes.
from resource_repair.rule_lookup import clear_rule_cache as clear_rule_cache
from resource_repair.selection import dispatch
from resource_repair.settings import (
    BLOCK_PUBLIC_ACCESS,
    EXEMPT_TAG,
    MAX_ATTEMPTS,
    MEMBER_ROLE_NAME,
    REQUEST_TIMEOUT,
    RULE_REFERENCES,
    Settings,
)

logger = logging.getLogger(__name__)
audit_logger = logging.getLogger("resource_repair.audit")

T = TypeVar("T")
R = TypeVar("R")

SWEEP_CONCURRENCY = 4
"""Buckets worked on at once. Each makes its OSS management requests in sequence, so at
most four requests are in flight: a small, steady share of the account's management-
operation rate (OSS does not publish it; past it, 503 MetaOperationQpsLimitExceeded) that
leaves room for the event function working at the same moment."""

# Seconds kept back from FC's timeout for the summary line and returning ...
_RETURN_MARGIN = 5.0
# ... and before that, for the notifications (notify.py bounds one to 6 s).
_NOTIFY_SECONDS = 7.0
# Reports kept for the notifications, each kind: they list a few buckets, and count all.
_REPORTS_KEPT = 100
_DEFAULT_TIMEOUT = 600.0

# Time source of every deadline here; tests move it instead of waiting.
_clock: Callable[[], float] = time.monotonic


class InHand(Protocol):
    """How a sweep run by hand (``resource-repair sweep``) hears Ctrl-C: no bucket starts
    after it, and each bucket started stays in hand until its audit line is out, since
    restore undoes only what an audit line records (tools/interruption.FinishInHand).
    The function has none: FC does not interrupt it."""

    @property
    def requested(self) -> bool: ...

    def run_kept(self, name: str, call: Callable[[], Report]) -> tuple[object, Report] | None:
        """``(hand, call())``, the bucket kept in hand; None, not called, once requested."""
        ...

    def release(self, hand: object) -> None: ...


@dataclasses.dataclass
class _RuleSweep:
    """One rule's part of the sweep, as the result reports it."""

    reference: str
    rule_id: str | None = None
    buckets: int = 0
    listed_all: bool = False
    skipped: int = 0
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.listed_all and not self.skipped and self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference[:MAX_REFERENCE_CHARS],
            "rule_id": self.rule_id,
            "buckets": self.buckets,
            "complete": self.complete,
            "error": self.error,
        }


def handle_sweep(
    event: object,
    context: object,
    environ: Mapping[str, str] | None = None,
    *,
    in_hand: InHand | None = None,
) -> str:
    """Sweep once and return the summary as JSON text (see the module's docstring).

    ``event`` must be the timer's (``triggerTime``, ``triggerName``) or ``{"sweep": "run"}``
    (sweep_trigger). ``context`` is FC's: credentials on python3.10, else the
    ``ALIBABA_CLOUD_*`` variables; ``region``, ``account_id``, ``request_id`` and
    ``function.timeout`` are used when present. ``in_hand``: a run by hand's Ctrl-C.
    """
    protect_logs()
    env = os.environ if environ is None else environ
    timeout = function_timeout(context, _DEFAULT_TIMEOUT)
    deadline = Deadline(sweep_seconds(timeout), _clock)
    # The notifications' own end, counted from the start like the sweep's: never past FC's.
    notify_deadline = Deadline(timeout - _RETURN_MARGIN, _clock)
    fc_request_id = context_text(context, "request_id")
    region = function_region(context, env)
    started = _clock()
    try:
        settings = Settings.from_env(env)
        # A fake Config on this machine for local runs (resource-repair sweep), read as
        # Config's own call of the function reads it.
        config_endpoint = config_remediation.config_endpoint(env)
    except ConfigurationError as exc:
        result = _summary(
            f"configuration: {exc}", collections.Counter(), [], complete=False, failed=True
        )
        # A mistyped setting stops every sweep: tell someone, if the topics themselves parse.
        try:
            notify_settings = NotifySettings.from_env(env)
        except ConfigurationError:
            result["notification"] = Notified.UNDELIVERED.value
            return _finish(result, fc_request_id, started)
        notifier = Notifier(
            notify_settings,
            resolve_credentials(context, env),
            region,
            context_text(context, "account_id"),
        )
        notified = notifier.report_sweep(result, [], notify_deadline, fc_request_id)
        result["notification"] = notified.value
        return _finish(result, fc_request_id, started)
    credentials = resolve_credentials(context, env)
    site = settings.config_site or site_for_region(region)
    notifier = Notifier(settings.notify, credentials, region, context_text(context, "account_id"))
    kept: list[Report] = []
    # Refused before any request: what started it, and whether one bucket can fit at all.
    refused = sweep_trigger.refusal(event) or time_problem(settings, timeout)
    if refused is not None:
        logger.warning("sweep refused: %s", untrusted(refused))  # shows the event's keys
        result = _summary(refused, collections.Counter(), [], complete=False, failed=True)
    elif not settings.rule_references:
        logger.warning("%s is not set, so no rule is swept", RULE_REFERENCES)
        result = _summary(f"{RULE_REFERENCES} is not set", collections.Counter(), [], complete=True)
    elif credentials is None:
        result = _summary(
            "no credentials: the function has no role",
            collections.Counter(),
            [],
            complete=False,
            failed=True,
        )
    else:
        rules: list[_RuleSweep] = []
        counts: collections.Counter[str] = collections.Counter()
        try:
            config = ConfigClient(credentials, site, deadline=deadline, endpoint=config_endpoint)
            rules = _resolve_rules(
                config, site, settings.rule_references, settings.config_aggregator_id
            )
            counts = _sweep_rules(
                config, site, rules, settings, context, env, deadline, fc_request_id, kept, in_hand
            )
            complete = all(r.complete for r in rules)
            # Incomplete is a failure to report: what it did not reach stays public for now.
            result = _summary(
                None if complete else _unreached(rules),
                counts,
                rules,
                complete=complete,
                failed=not complete,
            )
        except Exception as exc:  # a defect of ours: a failed summary, never a crash FC replays
            logger.error("unexpected error in the sweep: %s", untrusted_traceback())
            result = _summary(
                f"internal error: {type(exc).__name__}", counts, rules, complete=False, failed=True
            )
    # Published before the summary line is written, so that the line says whether it was.
    notified = notifier.report_sweep(result, kept, notify_deadline, fc_request_id)
    result["notification"] = notified.value
    return _finish(result, fc_request_id, started)


def sweep_seconds(timeout: float) -> float:
    """The seconds a sweep of FC timeout ``timeout`` has for its buckets: the rest is kept
    for the notifications and for returning."""
    return timeout - _RETURN_MARGIN - _NOTIFY_SECONDS


def time_problem(settings: Settings, timeout: float) -> str | None:
    """Why not one bucket could ever start in a sweep of FC timeout ``timeout`` under
    ``settings`` (naming the variables that make its worst case), or None when one fits.
    Without this, such a sweep would start nothing, every time, and report nothing wrong."""
    budget = bucket_budget(settings)
    available = sweep_seconds(timeout)
    if budget <= available:
        return None
    parts = [
        f"{REQUEST_TIMEOUT}={settings.request_timeout:g}",
        f"{MAX_ATTEMPTS}={settings.max_attempts}",
    ]
    if settings.exempt_tag is not None:
        parts.append(f"{EXEMPT_TAG} set")
    if settings.block_public_access:
        parts.append(f"{BLOCK_PUBLIC_ACCESS}=true")
    if settings.member_role_name:
        parts.append(f"{MEMBER_ROLE_NAME} set (AssumeRole)")
    return (
        f"one bucket's worst case is {budget:.0f} s ({calls_per_bucket(settings)} OSS calls"
        f" with {', '.join(parts)}), more than the {available:.0f} s the sweep has of its"
        f" {timeout:.0f} s timeout: no bucket could ever start. Lower {REQUEST_TIMEOUT} or"
        f" {MAX_ATTEMPTS}, or raise the sweep function's timeout (at most 600 s on FC 2.0)"
    )


TIMEOUT_ADVICE = "; if this repeats, raise the sweep's timeout"
"""The end of an incomplete sweep's reason: wrong where the operator stopped it (Ctrl-C)."""


def _unreached(rules: list[_RuleSweep]) -> str:
    """The reason of an incomplete sweep, with its counts: it is a failure to report, since
    the buckets it did not reach stay public until a later sweep gets to them."""
    skipped = sum(rule.skipped for rule in rules)
    unlisted = [r for r in rules if not r.listed_all and r.error is None]
    failed = [r for r in rules if r.error is not None]
    parts = []
    if skipped:
        parts.append(f"{skipped} listed bucket(s) not reached")
    if unlisted:
        names = ", ".join(r.rule_id or r.reference[:MAX_REFERENCE_CHARS] for r in unlisted[:5])
        parts.append(f"{len(unlisted)} rule(s) not listed to the end ({names})")
    if failed:
        parts.append(f"{len(failed)} rule(s) failed (see rules)")
    reached = sum(rule.buckets for rule in rules)
    return (
        f"incomplete: {'; '.join(parts)}; {reached} bucket(s) reached. What was not reached"
        f" is the next sweep's{TIMEOUT_ADVICE}"
    )


def _sweep_rules(
    config: ConfigClient,
    site: str,
    rules: list[_RuleSweep],
    settings: Settings,
    context: object,
    environ: Mapping[str, str],
    deadline: Deadline,
    fc_request_id: str | None,
    kept: list[Report],
    in_hand: InHand | None = None,
) -> collections.Counter[str]:
    """Every listed bucket through remediate_one, a few at a time; the outcome counts.
    ``kept`` receives some failed and some remediated reports, for the notifications."""
    budget = bucket_budget(settings)
    kept_counts: collections.Counter[str] = collections.Counter()
    account_id = context_text(context, "account_id")
    region = function_region(context, environ)
    seen: set[tuple[str, str, str]] = set()  # a bucket two rules report: once per fix

    def listed() -> Iterator[tuple[_RuleSweep, NonComplianceEvent]]:
        for rule in rules:
            if rule.rule_id is None:
                continue
            try:
                for event in config.non_compliant_buckets(
                    rule.rule_id, aggregator_id=settings.config_aggregator_id
                ):
                    if in_hand is not None and in_hand.requested:
                        return  # Ctrl-C in a run by hand: the rest is not listed
                    if deadline.remaining() < budget:
                        rule.skipped += 1  # listed, not reached: the rest is the next sweep's
                        return
                    event = with_rule_identifier(
                        config, site, event, settings, settings.config_aggregator_id
                    )
                    # Two rules may report one bucket: once per fix, so that the ACL fix of
                    # one rule does not stand in for the policy fix of another.
                    key = (event.bucket, event.region_id, fix_of(event, settings))
                    if key not in seen:
                        seen.add(key)
                        yield rule, event
                rule.listed_all = True
            except ConfigOutOfTimeError:
                return
            except ConfigApiError as exc:
                rule.error = str(exc)
                if "ConfigRuleNotExists" in rule.error:
                    clear_rule_cache()  # deleted or re-created: resolve again next time
                logger.warning(
                    "listing rule %s failed: %s", untrusted(rule.rule_id), untrusted(exc)
                )

    def work(item: tuple[_RuleSweep, NonComplianceEvent]) -> tuple[object, Report] | None:
        event = item[1]
        if deadline.remaining() < budget:
            return None  # taken from the listing but not started: no time to finish it

        def remediate() -> Report:
            return remediate_one(
                event,
                settings,
                context=context,
                environ=environ,
                account_id=account_id,
                function_region=region,
                deadline=deadline,
                retry_note="the next sweep tries again",
            )

        if in_hand is None:
            return None, remediate()
        # None after Ctrl-C: not started, as if out of time.
        return in_hand.run_kept(f"{event.bucket} ({event.region_id})", remediate)

    counts: collections.Counter[str] = collections.Counter()
    for (rule, _), done in bounded_map(work, listed(), SWEEP_CONCURRENCY):
        if done is None:
            rule.skipped += 1
            continue
        hand, report = done
        rule.buckets += 1
        counts[report.outcome.value] += 1
        write_audit(report, fc_request_id, form="sweep")
        if in_hand is not None:
            in_hand.release(hand)  # its audit line is out
        kind = "fail" if report.status == "fail" else report.outcome.value
        if kind in ("fail", Outcome.REMEDIATED.value) and kept_counts[kind] < _REPORTS_KEPT:
            kept_counts[kind] += 1
            kept.append(report)
    return counts


def _resolve_rules(
    config: ConfigClient, site: str, references: Iterable[str], aggregator_id: str | None = None
) -> list[_RuleSweep]:
    """One entry per distinct rule id (rule_lookup.resolve_references finds them)."""
    resolved, failures = resolve_references(config, site, references, aggregator_id)
    entries: list[_RuleSweep] = []
    taken: set[str] = set()
    for reference in dict.fromkeys(references):
        if reference in failures:
            entries.append(_RuleSweep(reference, error=failures[reference]))
            continue
        for rule_id in resolved[reference]:
            if rule_id not in taken:
                taken.add(rule_id)
                entries.append(_RuleSweep(reference, rule_id))
    return entries


def fix_of(event: NonComplianceEvent, settings: Settings) -> str:
    """The managed rule whose remediation the event gets (remediators.registry)."""
    return dispatch(event.source_identifier, event.rule_references, settings).identifier or ""


def _summary(
    reason: str | None,
    counts: collections.Counter[str],
    rules: list[_RuleSweep],
    *,
    complete: bool,
    failed: bool = False,
) -> dict[str, Any]:
    failed = (
        failed
        or any(Outcome(name).status == "fail" for name in counts)
        or any(rule.error for rule in rules)
    )
    result: dict[str, Any] = {
        "status": "fail" if failed else "success",
        "outcomes": {o.value: counts[o.value] for o in Outcome if counts[o.value]},
        "complete": complete,
        "rules": [rule.as_dict() for rule in rules],
    }
    if reason is not None:
        result["reason"] = reason
    return result


def _finish(result: dict[str, Any], fc_request_id: str | None, started: float) -> str:
    line = {
        "audit": "resource_repair_sweep",
        "fc_request_id": fc_request_id,
        **result,
        "seconds": round(_clock() - started, 3),
    }
    level = (
        logging.WARNING if result["status"] == "fail" or not result["complete"] else logging.INFO
    )
    audit_logger.log(level, json.dumps(line, ensure_ascii=True))
    return json.dumps(redacted(result), ensure_ascii=True)
