"""What one delivery led to: the result the handler returns and the audit record it logs."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


class Outcome(str, enum.Enum):
    """Every way a delivery can end. ``status`` keeps the sample's words."""

    REMEDIATED = "remediated"
    ALREADY_PRIVATE = "already_private"
    BUCKET_NOT_FOUND = "bucket_not_found"
    DRY_RUN = "dry_run"
    EXEMPT = "exempt"
    IGNORED = "ignored"
    INVALID_EVENT = "invalid_event"
    FAILED = "failed"

    @property
    def status(self) -> str:
        return "fail" if self in (Outcome.INVALID_EVENT, Outcome.FAILED) else "success"


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
        }

    def to_json(self) -> str:
        # ensure_ascii keeps hostile unicode from a message printable in any log viewer.
        return json.dumps(self.as_dict(), ensure_ascii=True, sort_keys=False)
