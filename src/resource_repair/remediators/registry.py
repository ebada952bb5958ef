"""Which remediation each managed rule gets: the one place that maps a managed rule's
identifier to its remediator (a module beside this one) and to the OSS actions it calls.

A new managed rule is one new module in ``remediators/`` (its fix, its ``PERMISSIONS``, a
``build(job)``) and one entry in :data:`REMEDIATIONS`. ``selection.py`` reads the settings to
choose among these, and adds up the actions so that the template's role can be checked
against the code (tests/test_template.py). The settings check a ``prepareRuleName`` binding
against :data:`KNOWN_IDENTIFIERS`, so this module never reads the settings itself.

Kept free of oss2: the handler consults it for every message, before it knows whether a
request will be made.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from resource_repair.remediators import acl, exemption, policy, public_access_block
from resource_repair.remediators.contract import RemediationJob, Remediator


class Remedy(str, enum.Enum):
    """What is done to a bucket."""

    ACL_PRIVATE = "acl-private"
    """The ACL becomes private."""
    ACL_NO_WRITE = "acl-no-write"
    """Only the write is taken away: public-read-write becomes public-read."""
    POLICY = "policy"
    """Bucket policy statements that allow anyone are removed."""


@dataclasses.dataclass(frozen=True)
class Remediation:
    """One managed rule's fix."""

    remedy: Remedy
    build: Callable[[RemediationJob], Remediator]
    """The remediator for one bucket."""
    actions: tuple[str, ...]
    """The OSS actions it calls (its remediator's PERMISSIONS)."""


READ_RULE = acl.READ_RULE
WRITE_RULE = acl.WRITE_RULE
POLICY_RULE = policy.RULE

REMEDIATIONS: dict[str, Remediation] = {
    READ_RULE: Remediation(Remedy.ACL_PRIVATE, acl.private, acl.AclRemediator.PERMISSIONS),
    WRITE_RULE: Remediation(Remedy.ACL_NO_WRITE, acl.no_write, acl.AclRemediator.PERMISSIONS),
    POLICY_RULE: Remediation(Remedy.POLICY, policy.build, policy.PolicyRemediator.PERMISSIONS),
}
KNOWN_IDENTIFIERS = tuple(REMEDIATIONS)
REMEDIES: dict[str, Remedy] = {rule: entry.remedy for rule, entry in REMEDIATIONS.items()}
ACTIONS: dict[Remedy, tuple[str, ...]] = {
    entry.remedy: entry.actions for entry in REMEDIATIONS.values()
}
# What the settings switch on beside a rule's fix.
EXEMPT_TAG_ACTIONS = exemption.PERMISSIONS
BLOCK_PUBLIC_ACCESS_ACTIONS = public_access_block.PERMISSIONS
