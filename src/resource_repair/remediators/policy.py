"""Remove the statements of a bucket policy that let anyone in (managed rule
``oss-bucket-policy-no-any-anonymous``).

A private ACL does not make a bucket private: a policy statement that allows principal
``*`` serves its objects to anyone all the same. This remediator reads the policy, removes
exactly the statements :func:`policy_analysis.allows_anyone` picks, keeps every other one
as it was (DeleteBucketPolicy when none is left), and reads the policy back. The policy it
read goes into the report (``policy_before``), so that ``resource-repair restore`` can put
it back.

Unlike PutBucketAcl, the policy calls never create a missing bucket, so no GetBucketInfo
is needed first: a missing bucket answers NoSuchBucket to the first read.
"""

from __future__ import annotations

import datetime
from typing import Protocol

from resource_repair.errors import BucketNotFoundError, PermanentOssError, TransientOssError
from resource_repair.remediators.contract import BucketState, RemediationJob
from resource_repair.remediators.exemption import exempt_by_tag
from resource_repair.remediators.policy_analysis import PolicyError, analyse, same_meaning
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy

# The managed rule this module fixes (remediators/registry.py keys it to it).
RULE = "oss-bucket-policy-no-any-anonymous"


class PolicyApi(Protocol):
    """What the policy remediator needs from OSS; oss_client.BucketClient in production."""

    def get_state(self) -> BucketState: ...

    def get_policy(self) -> tuple[str | None, str]: ...

    def put_policy(self, policy: str) -> str: ...

    def delete_policy(self) -> str: ...

    def get_tags(self) -> tuple[dict[str, str], str]: ...


class PolicyRemediator:
    # The OSS actions this remediator calls: the registry hands them to the role's policy.
    PERMISSIONS = (
        "oss:GetBucketInfo",
        "oss:GetBucketPolicy",
        "oss:PutBucketPolicy",
        "oss:DeleteBucketPolicy",
    )

    def __init__(
        self,
        client: PolicyApi,
        policy: RetryPolicy,
        deadline: Deadline,
        *,
        dry_run: bool,
        exempt_tag: tuple[str, str | None] | None = None,
    ) -> None:
        self._client = client
        self._retry = policy
        self._deadline = deadline
        self._dry_run = dry_run
        self._exempt_tag = exempt_tag

    def remediate(
        self,
        bucket: str,
        region: str,
        rule: str | None,
        *,
        evaluated_at: datetime.datetime | None = None,
    ) -> Report:
        """The report for ``bucket``. TransientOssError escapes once retries are spent.
        (``evaluated_at`` is accepted for symmetry: the policy calls cannot tell buckets of
        one name apart, and cannot create one.)"""
        report = Report(Outcome.FAILED, "", bucket=bucket, region=region, rule=rule, remedy=RULE)
        ids: list[str] = []
        try:
            before = self._read(ids)
        except BucketNotFoundError as exc:
            return _not_found(report, ids, exc, "bucket does not exist; nothing to change")
        except PermanentOssError as exc:
            return _refused(report, exc, ids)
        if before is None:
            return _stop(report, ids, Outcome.ALREADY_COMPLIANT, "bucket has no policy")
        report = report.replace(policy_before=before, policy_after=before)
        try:
            verdict = analyse(before)
        except PolicyError as exc:
            return _stop(report, ids, Outcome.FAILED, f"{exc}; not written")
        if not verdict.anonymous:
            return _stop(
                report, ids, Outcome.ALREADY_COMPLIANT, "bucket policy allows no anonymous access"
            )
        change = _describe(verdict.anonymous, verdict.kept)
        try:
            exempt = exempt_by_tag(self._client, self._exempt_tag, self._retry, self._deadline, ids)
        except BucketNotFoundError as exc:
            return _not_found(report, ids, exc, "bucket was gone when its tags were read")
        except PermanentOssError as exc:
            return _refused(report, exc, ids, note="the exemption tag is unknown, so not written")
        if exempt:
            return _stop(report, ids, Outcome.EXEMPT, exempt)
        if verdict.unfixable:
            # Anonymous in one reading, a Deny in another: writing any policy would either
            # leave it public or drop a Deny, so nothing is written and someone is told.
            return _stop(report, ids, Outcome.FAILED, verdict.unfixable)
        if self._dry_run:
            return _stop(report, ids, Outcome.DRY_RUN, f"dry run: would {change}")
        try:
            report = self._record_creation_date(report, ids)
        except BucketNotFoundError as exc:
            return _not_found(report, ids, exc, "bucket was gone when its creation date was read")
        except PermanentOssError as exc:
            return _refused(report, exc, ids, note="its creation date is unknown, so not written")
        remaining = verdict.remaining
        try:
            if remaining is None:
                ids.append(self._retry.call(self._client.delete_policy, self._deadline))
            else:
                text = remaining
                ids.append(self._retry.call(lambda: self._client.put_policy(text), self._deadline))
        except BucketNotFoundError as exc:
            return _not_found(report, ids, exc, "bucket was deleted before the policy was written")
        except PermanentOssError as exc:
            return _refused(report, exc, ids)
        except TransientOssError as exc:
            # Reported, not raised: the write may have been applied, and a replay would then
            # find nothing anonymous and lose the policy read here, which restore needs.
            return _stop(
                report.replace(policy_after=remaining),
                ids,
                Outcome.FAILED,
                f"{exc}; the policy may or may not have been changed: look at it",
            )
        # Written: every report from here says so.
        report = report.replace(policy_after=remaining)
        try:
            after = self._read(ids)
        except BucketNotFoundError as exc:
            return _not_found(report, ids, exc, "the policy was written, but the bucket was gone")
        except PermanentOssError as exc:
            return _refused(
                report, exc, ids, note="the policy was written, but could not be read back"
            )
        except TransientOssError as exc:
            reason = f"the policy was written, but reading it back failed: {exc}"
            return _stop(report, ids, Outcome.FAILED, reason)
        if not same_meaning(after, remaining):
            return _stop(
                report.replace(policy_after=after),
                ids,
                Outcome.FAILED,
                "the policy was written, but reads back different from what was written:"
                " someone changed it meanwhile; look at it",
            )
        return _stop(report, ids, Outcome.REMEDIATED, _past(change))

    def _record_creation_date(self, report: Report, ids: list[str]) -> Report:
        """``report`` with the bucket's creation date (GetBucketInfo), read only once a
        write follows: restore puts no policy back on a bucket of this name created since
        (another bucket, perhaps someone's private one)."""
        state = self._retry.call(self._client.get_state, self._deadline)
        if state.request_id:
            ids.append(state.request_id)
        return report.replace(bucket_created=state.creation_date or None)

    def _read(self, ids: list[str]) -> str | None:
        text, request_id = self._retry.call(self._client.get_policy, self._deadline)
        if request_id:
            ids.append(request_id)
        return text


def build(job: RemediationJob) -> PolicyRemediator:
    """This rule's fix for one bucket."""
    return PolicyRemediator(
        job.client, job.policy, job.deadline, dry_run=job.dry_run, exempt_tag=job.exempt_tag
    )


def _describe(anonymous: int, kept: int) -> str:
    if not kept:
        return f"delete the bucket policy: its {_statements(anonymous)} all allowed anyone"
    return f"remove {_statements(anonymous)} that allowed anyone, keeping {_statements(kept)}"


def _past(change: str) -> str:
    verb, _, rest = change.partition(" ")
    return {"delete": "deleted", "remove": "removed"}[verb] + " " + rest


def _statements(count: int) -> str:
    return f"{count} statement{'' if count == 1 else 's'}"


def _stop(report: Report, ids: list[str], outcome: Outcome, reason: str) -> Report:
    return report.replace(outcome=outcome, reason=reason, request_ids=tuple(ids))


def _not_found(report: Report, ids: list[str], exc: PermanentOssError, reason: str) -> Report:
    return report.replace(
        outcome=Outcome.BUCKET_NOT_FOUND,
        reason=reason,
        request_ids=(*ids, *((exc.request_id,) if exc.request_id else ())),
    )


def _refused(report: Report, exc: PermanentOssError, ids: list[str], *, note: str = "") -> Report:
    http = f" (HTTP {exc.status})" if exc.status else ""
    tail = f"; {note}" if note else ""
    # No status: OSS never answered (a name that does not resolve), so nothing refused it.
    verb = "refused" if exc.status else "failed"
    return report.replace(
        outcome=Outcome.FAILED,
        reason=f"{exc.operation} {verb}: {exc.code}{http} {exc.message}{tail}",
        request_ids=(*ids, *((exc.request_id,) if exc.request_id else ())),
    )
