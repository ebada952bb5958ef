"""What one delivery led to: the result the handler returns and the audit record it logs."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

MAX_RULE_CHARS = 256
"""A rule name is free text from a message or the Config API: results, audit lines and
summaries keep at most this many characters of it."""


def bounded_label(label: str | None, limit: int = MAX_RULE_CHARS) -> str | None:
    """``label`` cut to ``limit`` characters, marked as cut, so that output stays bounded."""
    if label is None or len(label) <= limit:
        return label
    return label[: limit - 3] + "..."


class Outcome(str, enum.Enum):
    """Every way a delivery can end. ``status`` keeps the sample's words."""

    REMEDIATED = "remediated"
    ALREADY_PRIVATE = "already_private"
    ALREADY_COMPLIANT = "already_compliant"
    """Nothing the rule objects to: a public-read bucket under the write rule, a bucket
    without a policy, or a policy that allows no anonymous access."""
    BUCKET_NOT_FOUND = "bucket_not_found"
    BUCKET_REPLACED = "bucket_replaced"
    """The bucket of this name is not the one that was evaluated or read: it was created
    later. Someone must find out whether it is wanted."""
    DRY_RUN = "dry_run"
    EXEMPT = "exempt"
    IGNORED = "ignored"
    INVALID_EVENT = "invalid_event"
    FAILED = "failed"

    @property
    def status(self) -> str:
        failures = (Outcome.INVALID_EVENT, Outcome.FAILED, Outcome.BUCKET_REPLACED)
        return "fail" if self in failures else "success"


@dataclasses.dataclass(frozen=True)
class Report:
    """The result of one delivery, one bucket: returned to FC and written to the audit log."""

    outcome: Outcome
    reason: str
    bucket: str | None = None
    region: str | None = None
    rule: str | None = None
    acl_before: str | None = None
    acl_after: str | None = None
    request_ids: tuple[str, ...] = ()
    remedy: str | None = None
    """The managed rule identifier whose remediation ran (remediators.registry)."""
    policy_before: str | None = None
    """The bucket policy as read before a policy remediation (for restore)."""
    policy_after: str | None = None
    """The policy left by it; None with ``policy_before`` set: the policy was deleted."""
    public_access_block_before: bool | None = None
    """Block Public Access as read before blockPublicAccess switched it on."""
    public_access_block_after: bool | None = None
    bucket_created: str | None = None
    """The bucket's CreationDate as read before the fix: restore puts nothing back on a
    bucket of the same name created since (another bucket)."""
    owner_account: str | None = None
    """Hub mode: the member account the bucket was remediated in (member_access)."""
    assumed_role: str | None = None
    """Hub mode: the member role's ARN the session was assumed from."""
    session_key_id: str | None = None
    """Hub mode: the session's AccessKeyId (never its secret), which the member's
    ActionTrail records beside every call, so the two trails can be matched."""

    def __post_init__(self) -> None:
        # Every path that makes a Report (function, backfill, sweep) gets a bounded rule.
        object.__setattr__(self, "rule", bounded_label(self.rule))

    @property
    def status(self) -> str:
        return self.outcome.status

    def replace(self, **changes: Any) -> Report:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "bucket": self.bucket,
            "region": self.region,
            "rule": self.rule,
            "acl_before": self.acl_before,
            "acl_after": self.acl_after,
            "request_ids": list(self.request_ids),
            "remedy": self.remedy,
            # Written only when there is something to say, so that the ACL fix's audit
            # line stays short; restore reads them back.
            **{key: value for key, value in self._extras().items() if value is not None},
        }

    def _extras(self) -> dict[str, Any]:
        return {
            "policy_before": self.policy_before,
            "policy_after": self.policy_after if self.policy_before is not None else None,
            "policy_deleted": (
                self.policy_after is None if self.policy_before is not None else None
            ),
            "public_access_block_before": self.public_access_block_before,
            "public_access_block_after": self.public_access_block_after,
            "bucket_created": self.bucket_created,
            "owner_account": self.owner_account,
            "assumed_role": self.assumed_role,
            "session_key_id": self.session_key_id,
        }

    def to_json(self) -> str:
        # ensure_ascii keeps hostile unicode from a message printable in any log viewer.
        return json.dumps(self.as_dict(), ensure_ascii=True, sort_keys=False)
