"""Block Public Access after a fix (``blockPublicAccess=true``).

With it on, OSS refuses every public ACL and every policy that allows anyone on the bucket,
and ignores those already there: the next careless PutBucketAcl cannot open the bucket
again. It also ends public access that is meant to be there, which is why it is off by
default and applied only right after this function fixed the bucket.

The calls first appear in oss2 2.19.0 (see oss_client._sdk_call).
"""

from __future__ import annotations

from typing import Protocol

from resource_repair.errors import OssCallError
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy

PERMISSIONS = ("oss:GetBucketPublicAccessBlock", "oss:PutBucketPublicAccessBlock")


class PublicAccessBlockApi(Protocol):
    def get_public_access_block(self) -> tuple[bool, str]: ...

    def put_public_access_block(self, enabled: bool) -> str: ...


def block_public_access(
    client: PublicAccessBlockApi, policy: RetryPolicy, deadline: Deadline, fixed: Report
) -> Report:
    """``fixed`` (a remediated report) with Block Public Access switched on and recorded.

    A failure here, even a transient one, is reported, not raised: the fix is done and
    FC's replay would find the bucket compliant and never get back to this step, so the
    failure result (and its notification) is what tells someone to finish the job.
    """
    ids = list(fixed.request_ids)

    def read() -> bool:
        enabled, request_id = policy.call(client.get_public_access_block, deadline)
        if request_id:
            ids.append(request_id)
        return enabled

    before: bool | None = None
    written = False
    try:
        before = read()
        if before:
            return fixed.replace(
                reason=f"{fixed.reason}; Block Public Access was already on",
                public_access_block_before=True,
                public_access_block_after=True,
                request_ids=tuple(ids),
            )
        ids.append(policy.call(lambda: client.put_public_access_block(True), deadline))
        written = True
        after = read()
    except OssCallError as exc:
        http = f" (HTTP {exc.status})" if exc.status else ""
        return fixed.replace(
            outcome=Outcome.FAILED,
            reason=f"{fixed.reason}, but Block Public Access was not switched on:"
            f" {exc.operation} failed: {exc.code}{http} {exc.message}",
            public_access_block_before=before,
            # Accepted but not read back: recorded as switched on, so that restore can
            # switch it off again (it checks that it is on first).
            public_access_block_after=True if written else None,
            request_ids=(*ids, *((exc.request_id,) if exc.request_id else ())),
        )
    if not after:
        return fixed.replace(
            outcome=Outcome.FAILED,
            reason=f"{fixed.reason}, but Block Public Access reads back off after"
            " PutBucketPublicAccessBlock was accepted",
            public_access_block_before=False,
            public_access_block_after=False,
            request_ids=tuple(ids),
        )
    return fixed.replace(
        reason=f"{fixed.reason}; Block Public Access switched on",
        public_access_block_before=False,
        public_access_block_after=True,
        request_ids=tuple(ids),
    )
