"""Make one bucket private, and say truthfully what happened.

The order of calls is the point. OSS's PutBucketAcl *creates* a bucket that does not exist,
so the bucket is always read first (GetBucketInfo: ACL, owner and creation date in one
call), written only when it is public and ours, and read back, so that ``remediated`` is
only claimed when OSS confirms it on the same bucket that was read.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from resource_repair.errors import BucketNotFoundError, PermanentOssError
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)

PRIVATE = "private"


@dataclasses.dataclass(frozen=True)
class BucketState:
    """What one GetBucketInfo says about a bucket."""

    acl: str
    owner_id: str
    creation_date: str
    request_id: str


class BucketApi(Protocol):
    """What the remediator needs from OSS; oss_client.BucketClient in production."""

    def get_state(self) -> BucketState: ...

    def put_acl(self, acl: str) -> str: ...


class AclRemediator:
    """Set a bucket's ACL to private: read, write only if needed, read back."""

    # The OSS actions this remediator calls; the template's policy grants exactly these.
    PERMISSIONS = ("oss:GetBucketInfo", "oss:PutBucketAcl")

    def __init__(
        self,
        client: BucketApi,
        policy: RetryPolicy,
        deadline: Deadline,
        *,
        dry_run: bool,
        account_id: str | None = None,
    ) -> None:
        self._client = client
        self._policy = policy
        self._deadline = deadline
        self._dry_run = dry_run
        self._account_id = account_id

    def remediate(self, bucket: str, region: str, rule: str | None) -> Report:
        """The report for ``bucket``. TransientOssError escapes once retries are spent."""
        report = Report(Outcome.FAILED, "", bucket=bucket, region=region, rule=rule)
        request_ids: list[str] = []
        try:
            before = self._read(request_ids)
            report = report.replace(acl_before=before.acl, acl_after=before.acl)
            refusal = self._refusal(before)
            if refusal is not None:
                return refusal.as_report(report, request_ids)
            request_ids.append(
                self._policy.call(lambda: self._client.put_acl(PRIVATE), self._deadline)
            )
            after = self._read(request_ids)
        except BucketNotFoundError as exc:
            return report.replace(
                outcome=Outcome.BUCKET_NOT_FOUND,
                reason="bucket does not exist; not written, since writing would create it",
                request_ids=(*request_ids, exc.request_id),
            )
        except PermanentOssError as exc:
            http = f" (HTTP {exc.status})" if exc.status else ""
            return report.replace(
                reason=f"{exc.operation} refused: {exc.code}{http} {exc.message}",
                request_ids=(*request_ids, exc.request_id),
            )
        return self._verdict(
            report.replace(acl_after=after.acl, request_ids=tuple(request_ids)), before, after
        )

    def _read(self, request_ids: list[str]) -> BucketState:
        state = self._policy.call(self._client.get_state, self._deadline)
        request_ids.append(state.request_id)
        return state

    def _refusal(self, before: BucketState) -> _Stop | None:
        """Why not to write, when the first read already settles the delivery."""
        if before.acl == PRIVATE:
            return _Stop(Outcome.ALREADY_PRIVATE, "bucket is already private")
        if self._account_id and before.owner_id and before.owner_id != self._account_id:
            return _Stop(
                Outcome.FAILED,
                f"bucket is owned by account {before.owner_id}, not the function's"
                f" {self._account_id}; not written",
            )
        if self._dry_run:
            return _Stop(Outcome.DRY_RUN, f"dry run: would change {before.acl} to {PRIVATE}")
        return None

    @staticmethod
    def _verdict(report: Report, before: BucketState, after: BucketState) -> Report:
        if after.creation_date != before.creation_date:
            # Deleted between our read and our write: PutBucketAcl made a new, empty bucket.
            return report.replace(
                reason="bucket was deleted during remediation and PutBucketAcl re-created it"
                f" (created {after.creation_date}, now {after.acl}); delete it if unwanted"
            )
        if after.acl != PRIVATE:
            return report.replace(
                reason=f"PutBucketAcl was accepted but the ACL reads back as {after.acl}"
            )
        return report.replace(
            outcome=Outcome.REMEDIATED, reason=f"changed {before.acl} to {PRIVATE}"
        )


@dataclasses.dataclass(frozen=True)
class _Stop:
    outcome: Outcome
    reason: str

    def as_report(self, report: Report, request_ids: list[str]) -> Report:
        return report.replace(
            outcome=self.outcome, reason=self.reason, request_ids=tuple(request_ids)
        )
