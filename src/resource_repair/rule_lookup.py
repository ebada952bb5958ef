"""Which Config rules the configured references (``prepareRuleName``: names, ``cr-`` ids,
managed-rule identifiers) name, and which managed rule each rule is built on, so that a
listed bucket gets the same fix as a delivered one. Both are kept for the life of the
instance: a warm instance sweeps with one listing request per rule and no lookup."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable

from resource_repair.config_api import ConfigApiError, ConfigClient, ConfigRule
from resource_repair.message import NonComplianceEvent
from resource_repair.settings import Settings

# A reference as results and messages show it: bounded, whatever was configured.
MAX_REFERENCE_CHARS = 256

# Rule names and managed-rule identifiers resolved to rule ids, kept for the life of the
# instance: a warm instance sweeps with one listing request per rule and no lookup. Keyed
# by (site, account group or "", reference).
_rule_ids: dict[tuple[str, str, str], tuple[str, ...]] = {}
_rule_ids_lock = threading.Lock()


# Rule ids' managed-rule identifiers, kept likewise: Config's listing of results does not
# carry them, and the fix a bucket gets depends on them (remediators.registry). "" for a
# rule built on no managed rule.
_identifiers: dict[tuple[str, str, str], str] = {}


def clear_rule_cache() -> None:
    """Forget resolved rule ids (tests, and a rule that no longer exists)."""
    with _rule_ids_lock:
        _rule_ids.clear()
        _identifiers.clear()


def with_rule_identifier(
    config: ConfigClient,
    site: str,
    event: NonComplianceEvent,
    settings: Settings | None = None,
    aggregator_id: str | None = None,
) -> NonComplianceEvent:
    """``event`` with its rule's managed-rule identifier, as a message would carry it, so
    that a listed bucket gets the same fix as a delivered one. Costs one listing of the
    account's rules per instance (for an account group's rule, one GetAggregateConfigRule),
    and only once a rule has a bucket to fix.

    An account group's rule whose entry says what it is built on (``cr-...=oss-bucket-...``)
    is not looked up: the entry decides, as it always has."""
    if event.source_identifier or not event.rule_id:
        return event
    group = aggregator_id or ""
    if group and settings is not None and settings.remedy_for_reference(event.rule_references):
        return event
    key = (site, group, event.rule_id)
    with _rule_ids_lock:
        known = key in _identifiers
    if not known:
        # One GetAggregateConfigRule for a group's rule; the account's own are all listed.
        found = [config.aggregate_rule(group, event.rule_id)] if group else list(config.rules())
        _remember_identifiers(site, group, found, also=(event.rule_id,))
    with _rule_ids_lock:
        identifier = _identifiers.get(key) or None
    return dataclasses.replace(event, source_identifier=identifier)


def _remember_identifiers(
    site: str, group: str, rules: Iterable[ConfigRule], also: Iterable[str] = ()
) -> None:
    with _rule_ids_lock:
        for rule in rules:
            _identifiers[(site, group, rule.rule_id)] = rule.source_identifier or ""
        for rule_id in also:  # not listed: a deleted rule; do not look again
            _identifiers.setdefault((site, group, rule_id), "")


def resolve_references(
    config: ConfigClient, site: str, references: Iterable[str], aggregator_id: str | None = None
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The rule ids each reference names, and why a reference names none. ``cr-`` ids are
    used as they are; names and managed-rule identifiers are looked up with one listing of
    the account's rules (with ``aggregator_id``, of the account group's:
    ListAggregateConfigRules), only when some are not cached yet, matching names exactly."""
    group = aggregator_id or ""
    resolved: dict[str, tuple[str, ...]] = {}
    unresolved: list[str] = []
    with _rule_ids_lock:
        for reference in dict.fromkeys(references):
            if reference.startswith("cr-"):
                resolved[reference] = (reference,)
            elif (site, group, reference) in _rule_ids:
                resolved[reference] = _rule_ids[(site, group, reference)]
            else:
                unresolved.append(reference)
    failures: dict[str, str] = {}
    if unresolved:
        try:
            every_rule = list(config.rules(aggregator_id))
        except ConfigApiError as exc:
            every_rule = []
            failures = {ref: f"looking the rule up failed: {exc}" for ref in unresolved}
        _remember_identifiers(site, group, every_rule)
        where = f" in the account group {group}" if group else ""
        for reference in unresolved:
            ids = _matching(every_rule, reference)
            if ids:
                resolved[reference] = ids
                with _rule_ids_lock:
                    _rule_ids[(site, group, reference)] = ids
            elif reference not in failures:
                failures[reference] = (
                    f"no Config rule is named {reference[:MAX_REFERENCE_CHARS]!r} or built on"
                    f" a managed rule of that identifier{where}"
                )
    return resolved, failures


def _matching(rules: Iterable[ConfigRule], reference: str) -> tuple[str, ...]:
    # The event function selects a message whose rule name, id or managed-rule identifier
    # is configured; the sweep selects the same rules.
    return tuple(r.rule_id for r in rules if reference in (r.name, r.source_identifier))
