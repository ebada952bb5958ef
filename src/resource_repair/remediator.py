"""Make one bucket private, and say truthfully what happened.

The order of calls is the point: OSS's PutBucketAcl *creates* a bucket that does not
exist, so the ACL is always read first, written only when it is not private, and read back
so that ``remediated`` is only claimed when OSS confirms it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from resource_repair.errors import BucketNotFoundError, PermanentOssError
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)

PRIVATE = "private"


class BucketAcl(Protocol):
    """What the remediator needs from OSS; oss_client.BucketAclClient in production."""

    def get_acl(self) -> tuple[str, str]: ...

    def put_acl(self, acl: str) -> str: ...


class AclRemediator:
    """Set a bucket's ACL to private: read, write only if needed, read back."""

    # The OSS actions this remediator calls; the template's policy grants exactly these.
    PERMISSIONS = ("oss:GetBucketAcl", "oss:PutBucketAcl")

    def __init__(
        self, client: BucketAcl, policy: RetryPolicy, deadline: Deadline, *, dry_run: bool
    ) -> None:
        self._client = client
        self._policy = policy
        self._deadline = deadline
        self._dry_run = dry_run

    def remediate(self, bucket: str, region: str, rule: str | None) -> Report:
        """The report for ``bucket``. TransientOssError escapes once retries are spent."""
        start = Report(Outcome.FAILED, "", bucket=bucket, region=region, rule=rule)
        request_ids: list[str] = []
        try:
            acl_before, request_id = self._policy.call(self._client.get_acl, self._deadline)
            request_ids.append(request_id)
            start = start.replace(acl_before=acl_before, acl_after=acl_before)
            if acl_before == PRIVATE:
                return start.replace(
                    outcome=Outcome.ALREADY_PRIVATE,
                    reason="bucket is already private",
                    request_ids=tuple(request_ids),
                )
            if self._dry_run:
                return start.replace(
                    outcome=Outcome.DRY_RUN,
                    reason=f"dry run: would change {acl_before} to {PRIVATE}",
                    request_ids=tuple(request_ids),
                )
            request_ids.append(
                self._policy.call(lambda: self._client.put_acl(PRIVATE), self._deadline)
            )
            acl_after, request_id = self._policy.call(self._client.get_acl, self._deadline)
            request_ids.append(request_id)
        except BucketNotFoundError as exc:
            return start.replace(
                outcome=Outcome.BUCKET_NOT_FOUND,
                reason="bucket does not exist; not written, since writing would create it",
                request_ids=(*request_ids, exc.request_id),
            )
        except PermanentOssError as exc:
            return start.replace(
                reason=f"{exc.operation} refused: {exc.code} (HTTP {exc.status}) {exc.message}",
                request_ids=(*request_ids, exc.request_id),
            )
        finished = start.replace(acl_after=acl_after, request_ids=tuple(request_ids))
        if acl_after != PRIVATE:
            return finished.replace(
                reason=f"PutBucketAcl was accepted but the ACL reads back as {acl_after}"
            )
        return finished.replace(
            outcome=Outcome.REMEDIATED, reason=f"changed {acl_before} to {PRIVATE}"
        )
