"""The ACL fix (managed rules ``oss-bucket-public-read-prohibited`` and
``oss-bucket-public-write-prohibited``): make one bucket private (or, for the write rule, not
publicly writable), and say truthfully what happened.

The order of calls is the point. OSS's PutBucketAcl *creates* a bucket that does not exist,
so the bucket is always read first (GetBucketInfo: ACL, owner and creation date in one
call), written only when it is public and ours, and read back, so that ``remediated`` is
only claimed when OSS confirms it on the same bucket that was read.

Creation dates tell buckets of one name apart. A bucket whose creation date changed between
the read and the read-back, or that was created after Config's evaluation, is not the bucket
that was read or evaluated: the report says so and claims nothing it cannot know (in
particular not who created it, since OSS's PutBucketAcl may have).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from typing import Protocol

from resource_repair.errors import BucketNotFoundError, PermanentOssError
from resource_repair.remediators.contract import BucketState, RemediationJob
from resource_repair.remediators.exemption import exempt_by_tag
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)

# The managed rules this module fixes (remediators/registry.py keys them to it).
READ_RULE = "oss-bucket-public-read-prohibited"
WRITE_RULE = "oss-bucket-public-write-prohibited"

PRIVATE = "private"
PUBLIC_READ = "public-read"
PUBLIC_READ_WRITE = "public-read-write"


class BucketApi(Protocol):
    """What the remediator needs from OSS; oss_client.BucketClient in production."""

    def get_state(self) -> BucketState: ...

    def put_acl(self, acl: str) -> str: ...

    def get_tags(self) -> tuple[dict[str, str], str]: ...


class AclRemediator:
    """Set a bucket's ACL to private: read, write only if needed, read back.

    With ``only_write`` (the write rule) only the write is taken away: public-read-write
    becomes public-read, and a public-read bucket is left as it is, so that a bucket that
    serves reads on purpose keeps serving them. ``straight_to_private`` (the read rule is
    configured too) makes it private at once instead.
    """

    # The OSS actions this remediator calls: the registry hands them to the role's policy.
    PERMISSIONS = ("oss:GetBucketInfo", "oss:PutBucketAcl")

    def __init__(
        self,
        client: BucketApi,
        policy: RetryPolicy,
        deadline: Deadline,
        *,
        dry_run: bool,
        account_id: str | None = None,
        only_write: bool = False,
        straight_to_private: bool = False,
        exempt_tag: tuple[str, str | None] | None = None,
    ) -> None:
        self._client = client
        self._policy = policy
        self._deadline = deadline
        self._dry_run = dry_run
        self._account_id = account_id
        self._only_write = only_write
        self._straight_to_private = straight_to_private
        self._exempt_tag = exempt_tag

    def target_for(self, acl: str) -> str | None:
        """The ACL to write over ``acl``; None when ``acl`` is already compliant."""
        if not self._only_write:
            return None if acl == PRIVATE else PRIVATE
        if acl != PUBLIC_READ_WRITE:
            return None
        return PRIVATE if self._straight_to_private else PUBLIC_READ

    def remediate(
        self,
        bucket: str,
        region: str,
        rule: str | None,
        *,
        evaluated_at: datetime.datetime | None = None,
    ) -> Report:
        """The report for ``bucket``. TransientOssError escapes once retries are spent.

        ``evaluated_at`` is when Config evaluated the bucket (None when unknown): a bucket
        created after it is not the one Config reported, and the report says so.
        """
        report = Report(Outcome.FAILED, "", bucket=bucket, region=region, rule=rule)
        request_ids: list[str] = []
        try:
            before = self._read(request_ids)
        except BucketNotFoundError as exc:
            return report.replace(
                outcome=Outcome.BUCKET_NOT_FOUND,
                reason="bucket does not exist; not written, since writing would create it",
                request_ids=(*request_ids, *_known(exc.request_id)),
            )
        except PermanentOssError as exc:
            return _refused(report, exc, request_ids)
        report = report.replace(
            acl_before=before.acl, acl_after=before.acl, bucket_created=before.creation_date or None
        )
        newer = _newer_than_evaluation(before, evaluated_at)
        target = self.target_for(before.acl)
        refusal = self._refusal(before, newer, target)
        if refusal is not None:
            return refusal.as_report(report, request_ids)
        assert target is not None  # a compliant ACL is a refusal above
        try:
            exempt = exempt_by_tag(
                self._client, self._exempt_tag, self._policy, self._deadline, request_ids
            )
        except BucketNotFoundError as exc:
            return report.replace(
                outcome=Outcome.BUCKET_NOT_FOUND,
                reason="bucket was gone when its tags were read; not written",
                request_ids=(*request_ids, *_known(exc.request_id)),
            )
        except PermanentOssError as exc:
            return _refused(report, exc, request_ids, note="the exemption tag is unknown, so")
        if exempt:
            return report.replace(
                outcome=Outcome.EXEMPT, reason=exempt, request_ids=tuple(request_ids)
            )
        if self._dry_run:
            return report.replace(
                outcome=Outcome.DRY_RUN,
                reason=f"dry run: would change {before.acl} to {target}{_newer_note(newer)}",
                request_ids=tuple(request_ids),
            )
        try:
            request_ids.append(
                self._policy.call(lambda: self._client.put_acl(target), self._deadline)
            )
        except PermanentOssError as exc:
            return _refused(report, exc, request_ids)
        # From here on the write was made: every report says so.
        try:
            after = self._read(request_ids)
        except BucketNotFoundError as exc:
            return report.replace(
                outcome=Outcome.BUCKET_NOT_FOUND,
                acl_after=None,
                reason="PutBucketAcl was accepted, but the bucket was gone when read back:"
                " it was deleted during remediation, and no bucket of this name is left",
                request_ids=(*request_ids, *_known(exc.request_id)),
            )
        except PermanentOssError as exc:
            # Accepted, so recorded as made: restore can undo it if it took.
            return _refused(report.replace(acl_after=target), exc, request_ids, after_write=True)
        return self._verdict(
            report.replace(acl_after=after.acl, request_ids=tuple(request_ids)),
            before,
            after,
            newer,
            target,
        )

    def _read(self, request_ids: list[str]) -> BucketState:
        state = self._policy.call(self._client.get_state, self._deadline)
        request_ids.append(state.request_id)
        return state

    def _refusal(self, before: BucketState, newer: str | None, target: str | None) -> _Stop | None:
        """Why not to write, when the first read already settles the delivery (the tags
        and the dry run come after: they only matter once a write would follow)."""
        if target is None:
            if newer:
                return _Stop(Outcome.BUCKET_REPLACED, _replaced_reason(newer))
            if before.acl == PRIVATE:
                return _Stop(Outcome.ALREADY_PRIVATE, "bucket is already private")
            return _Stop(
                Outcome.ALREADY_COMPLIANT,
                f"bucket is {before.acl}: not publicly writable, and its reads are left as"
                " they are",
            )
        if self._account_id and before.owner_id and before.owner_id != self._account_id:
            return _Stop(
                Outcome.FAILED,
                f"bucket is owned by account {before.owner_id}, not the function's"
                f" {self._account_id}; not written",
            )
        return None

    @staticmethod
    def _verdict(
        report: Report, before: BucketState, after: BucketState, newer: str | None, target: str
    ) -> Report:
        if after.creation_date != before.creation_date:
            # Deleted after our first read. PutBucketAcl creates a missing bucket, so ours may
            # have made this one; or its owner made it in between. OSS cannot tell us which.
            return report.replace(
                outcome=Outcome.BUCKET_REPLACED,
                reason="bucket was deleted and re-created during remediation: the one read was"
                f" created {before.creation_date}, the one there now {after.creation_date}, and"
                f" it is {after.acl}. PutBucketAcl creates a missing bucket, so either our write"
                " created it or someone else did meanwhile: find out which before removing it",
            )
        if after.acl != target:
            return report.replace(
                reason=f"PutBucketAcl was accepted but the ACL reads back as {after.acl}"
            )
        return report.replace(
            outcome=Outcome.REMEDIATED,
            reason=f"changed {before.acl} to {target}{_newer_note(newer)}",
        )


def private(job: RemediationJob) -> AclRemediator:
    """The read rule's fix: the ACL becomes private."""
    return _acl_remediator(job, only_write=False)


def no_write(job: RemediationJob) -> AclRemediator:
    """The write rule's fix: only the write is taken away (unless ``straight_to_private``)."""
    return _acl_remediator(job, only_write=True)


def _acl_remediator(job: RemediationJob, *, only_write: bool) -> AclRemediator:
    return AclRemediator(
        job.client,
        job.policy,
        job.deadline,
        dry_run=job.dry_run,
        account_id=job.account_id,
        only_write=only_write,
        straight_to_private=job.straight_to_private,
        exempt_tag=job.exempt_tag,
    )


# OSS's CreationDate has whole seconds, and OSS and Config keep separate clocks.
_CLOCK_TOLERANCE = datetime.timedelta(seconds=1)


def _newer_than_evaluation(
    state: BucketState, evaluated_at: datetime.datetime | None
) -> str | None:
    """Why this bucket cannot be the one Config evaluated, or None when it may be (or when
    either time is unknown: then nothing is claimed)."""
    created = _parse_creation_date(state.creation_date)
    if created is None or evaluated_at is None or created <= evaluated_at + _CLOCK_TOLERANCE:
        return None
    return (
        f"created {state.creation_date}, after Config's evaluation at"
        f" {evaluated_at:%Y-%m-%dT%H:%M:%S}.{evaluated_at.microsecond // 1000:03d}Z"
    )


def _parse_creation_date(text: str) -> datetime.datetime | None:
    """OSS's ``2020-07-22T08:00:00.000Z``; None for anything else."""
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc)


def _replaced_reason(newer: str) -> str:
    """For a private bucket younger than the evaluation: who made it is unknown."""
    return (
        f"not the bucket Config evaluated: the bucket now of this name was {newer}, so the"
        " evaluated one was deleted. It is private and was not written. It may be its owner's"
        " new bucket, or one that an earlier PutBucketAcl of this function created (OSS"
        " creates a missing bucket, for example when the bucket was deleted during an earlier"
        " attempt): find out which before removing it"
    )


def _newer_note(newer: str | None) -> str:
    if not newer:
        return ""
    return f"; note: this bucket was {newer}, so it is a newer bucket than the one Config reported"


def _refused(
    report: Report,
    exc: PermanentOssError,
    request_ids: list[str],
    *,
    after_write: bool = False,
    note: str = "",
) -> Report:
    http = f" (HTTP {exc.status})" if exc.status else ""
    done = "PutBucketAcl was accepted, but " if after_write else ""
    tail = f"; {note} not written" if note else ""
    # No status: OSS never answered (a name that does not resolve), so nothing refused it.
    verb = "refused" if exc.status else "failed"
    return report.replace(
        reason=f"{done}{exc.operation} {verb}: {exc.code}{http} {exc.message}{tail}",
        request_ids=(*request_ids, *_known(exc.request_id)),
    )


@dataclasses.dataclass(frozen=True)
class _Stop:
    outcome: Outcome
    reason: str

    def as_report(self, report: Report, request_ids: list[str]) -> Report:
        return report.replace(
            outcome=self.outcome, reason=self.reason, request_ids=tuple(request_ids)
        )


def _known(request_id: str) -> tuple[str, ...]:
    """A request id OSS gave, or nothing: a redirect or a broken connection has none."""
    return (request_id,) if request_id else ()
