"""Which of the registry's remediations a message gets under the settings, and which OSS
actions the settings need in all (the role's policy, and a member session's)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from resource_repair.remediators.registry import (
    ACTIONS,
    BLOCK_PUBLIC_ACCESS_ACTIONS,
    EXEMPT_TAG_ACTIONS,
    KNOWN_IDENTIFIERS,
    READ_RULE,
    REMEDIES,
    Remedy,
)
from resource_repair.settings import Settings


@dataclasses.dataclass(frozen=True)
class Dispatch:
    """The remedy for one message, or why there is none."""

    identifier: str | None
    remedy: Remedy | None
    reason: str = ""


def dispatch(
    source_identifier: str | None, references: tuple[str, ...], settings: Settings
) -> Dispatch:
    """The remedy for a message from the rule that ``references`` (its name, id, ...) name.

    The message's own managed rule identifier decides where it has one. Older messages have
    none: then the ``=identifier`` of the configured entry that matched decides, and a plain
    entry means the ACL fix, as it always has (an entry that is itself a known identifier
    means that identifier's remedy).
    """
    if source_identifier is not None:
        identifier = source_identifier
    else:
        identifier = settings.remedy_for_reference(references) or _plain(references, settings)
    remedy = REMEDIES.get(identifier)
    if remedy is None:
        return Dispatch(
            identifier,
            None,
            f"managed rule {identifier[:80]!r} has no remediation here (known:"
            f" {', '.join(KNOWN_IDENTIFIERS)})",
        )
    return Dispatch(identifier, remedy)


def _plain(references: tuple[str, ...], settings: Settings) -> str:
    for reference in settings.rule_references:
        if reference in references and reference in REMEDIES:
            return reference
    return READ_RULE


def selected_identifiers(settings: Settings) -> frozenset[str]:
    """The managed rules whose remediation these settings can run: every bound entry, every
    entry that is itself a known identifier, and the ACL fix for any plain name or id."""
    bound = dict(settings.rule_remedies)
    chosen: set[str] = set()
    for reference in settings.rule_references:
        if reference in bound:
            chosen.add(bound[reference])
        elif reference in REMEDIES:
            chosen.add(reference)
        else:
            chosen.add(READ_RULE)
    return frozenset(chosen)


def read_rule_selected(settings: Settings, references: tuple[str, ...] = ()) -> bool:
    """True when the read rule is configured too: then the write rule's fix goes straight
    to private, since the read rule would take the read away anyway (and two concurrent
    fixes writing different ACLs could otherwise leave the bucket readable).

    Only plain evidence counts: the read rule's identifier itself, or an entry bound to it
    (``name=oss-bucket-public-read-prohibited``). A plain name may be any rule (newer
    messages say which by themselves), and taking it for the read rule would make private a
    bucket that serves reads on purpose. ``references`` (the message's own) are the write
    rule's, never the read rule's.
    """
    bound = dict(settings.rule_remedies)
    for reference in settings.rule_references:
        if reference in references:
            continue
        if bound.get(reference, reference) == READ_RULE:
            return True
    return False


def required_actions(settings: Settings) -> frozenset[str]:
    """Every OSS action the function may call under ``settings``."""
    actions: set[str] = set(_actions(REMEDIES[i] for i in selected_identifiers(settings)))
    if settings.exempt_tag is not None:
        actions.update(EXEMPT_TAG_ACTIONS)
    if settings.block_public_access:
        actions.update(BLOCK_PUBLIC_ACCESS_ACTIONS)
    return frozenset(actions)


def _actions(remedies: Iterable[Remedy]) -> Iterable[str]:
    for remedy in remedies:
        yield from ACTIONS[remedy]
