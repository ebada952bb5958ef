"""What remediation.py and every remediator agree on: what a remediator is given
(:class:`RemediationJob`), what it reads of a bucket (:class:`BucketState`), and what it
offers (:class:`Remediator`)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Protocol

from resource_repair.report import Report
from resource_repair.retry import Deadline, RetryPolicy


@dataclasses.dataclass(frozen=True)
class BucketState:
    """What one GetBucketInfo says about a bucket."""

    acl: str
    owner_id: str
    creation_date: str
    request_id: str


@dataclasses.dataclass(frozen=True)
class RemediationJob:
    """Everything a remediator may need for one bucket, as plain values: the settings are
    read above this layer (selection.py, remediation.py), never by a remediator."""

    client: Any
    """oss_client.BucketClient, bound to the bucket. Each remediator names the part of it
    that it calls as a Protocol beside its code, so Any here."""
    policy: RetryPolicy
    deadline: Deadline
    dry_run: bool
    exempt_tag: tuple[str, str | None] | None = None
    account_id: str | None = None
    """The account the bucket must belong to (the function's, or the member's in hub mode)."""
    straight_to_private: bool = False
    """The read rule is configured too: the write rule's fix goes straight to private."""


class Remediator(Protocol):
    def remediate(
        self,
        bucket: str,
        region: str,
        rule: str | None,
        *,
        evaluated_at: datetime.datetime | None = None,
    ) -> Report:
        """The report for ``bucket``. TransientOssError escapes once retries are spent."""
        ...
