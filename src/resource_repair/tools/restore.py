"""``resource-repair restore``: put back what the function changed on buckets, from its
audit lines (a ``backfill --report`` file, or lines exported from the function's logs).

For each bucket the latest change of each kind is undone: the ACL, the bucket policy,
Block Public Access. A bucket is refused, and left alone, when its current state is no
longer what the remediation left: someone changed it since, and restoring the older state
would overwrite their change. Dry run by default; ``--apply`` writes, then reads back.

Block Public Access is switched off first: while it is on, OSS refuses a public ACL or a
policy that allows anyone, which is exactly what may have to be put back.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TextIO

from resource_repair.credentials import Credentials
from resource_repair.errors import (
    BucketNotFoundError,
    ConfigurationError,
    InvalidEventError,
    OssCallError,
)
from resource_repair.remediator import BucketState
from resource_repair.remediators.policy_analysis import same_meaning
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.settings import Settings
from resource_repair.validation import check_bucket_name, check_region_id

_PER_BUCKET_SECONDS = 60.0
_REQUEST_TIMEOUT = 10.0
_ACLS = frozenset({"private", "public-read", "public-read-write"})
_AUDIT = "resource_repair"


class RestoreError(Exception):
    """The restore cannot start as asked (exit code 2)."""


class Outcome:
    RESTORED = "restored"
    WOULD_RESTORE = "would_restore"
    NOTHING_TO_RESTORE = "nothing_to_restore"
    REFUSED = "refused"
    BUCKET_NOT_FOUND = "bucket_not_found"
    FAILED = "failed"
    ORDER = (RESTORED, WOULD_RESTORE, NOTHING_TO_RESTORE, REFUSED, BUCKET_NOT_FOUND, FAILED)
    FAILING = frozenset({REFUSED, BUCKET_NOT_FOUND, FAILED})


@dataclasses.dataclass
class Changes:
    """The latest change of each kind the audit lines record for one bucket."""

    bucket: str
    region: str
    acl: tuple[str, str] | None = None
    """(before, after)."""
    policy: tuple[str, str | None] | None = None
    """(before, after); after None: the remediation deleted the policy."""
    public_access_block: bool = False
    """True when the remediation switched Block Public Access on."""
    account: str | None = None
    """The member account the bucket belongs to, when a hub remediated it through an
    assumed role (the audit line says so); None: the caller's own account."""
    created: str | None = None
    """The bucket's CreationDate when it was remediated (``bucket_created``), if recorded."""

    def actions(self) -> tuple[str, ...]:
        """The OSS actions restoring these changes calls: the member session asks for
        these and no more."""
        actions = ["oss:GetBucketInfo"]
        if self.acl is not None:
            actions.append("oss:PutBucketAcl")
        if self.policy is not None:
            actions += ["oss:GetBucketPolicy", "oss:PutBucketPolicy"]
        if self.public_access_block:
            actions += ["oss:GetBucketPublicAccessBlock", "oss:PutBucketPublicAccessBlock"]
        return tuple(actions)

    def empty(self) -> bool:
        return self.acl is None and self.policy is None and not self.public_access_block


class RestoreApi(Protocol):
    """oss_client.BucketClient in production."""

    def get_state(self) -> BucketState: ...

    def put_acl(self, acl: str) -> str: ...

    def get_policy(self) -> tuple[str | None, str]: ...

    def put_policy(self, policy: str) -> str: ...

    def delete_policy(self) -> str: ...

    def get_public_access_block(self) -> tuple[bool, str]: ...

    def put_public_access_block(self, enabled: bool) -> str: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        required=True,
        type=Path,
        help="audit lines: a `backfill --report` file or lines exported from the function's logs",
    )
    parser.add_argument(
        "--apply", action="store_true", help="write (default: dry run, read and report only)"
    )
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME",
        help="restore only this bucket (repeat for more)",
    )
    parser.add_argument(
        "--member-role",
        metavar="NAME",
        help="reach member accounts' buckets (audit lines of a hub) by assuming this role",
    )
    parser.add_argument("--profile", help="an `aliyun` CLI profile (default: ALIBABA_CLOUD_*)")
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)  # a local fake OSS


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """0 when every selected bucket is restored (or would be), 1 when any was refused or
    failed, 2 when the restore cannot start."""
    from resource_repair.tools.cloud_credentials import NoCredentialsError, tool_credentials
    from resource_repair.tools.endpoints import EndpointOptionError, loopback_url

    try:
        endpoint = loopback_url(args.endpoint, "--endpoint")
        buckets = read_changes(args.report, set(args.bucket))
        member_role = _member_role(args.member_role)
        credentials = tool_credentials(args.profile)
    except (RestoreError, NoCredentialsError, EndpointOptionError) as exc:
        print(f"resource-repair restore: {exc}", file=err)
        return 2
    return restore(
        buckets,
        credentials,
        apply=args.apply,
        out=out,
        endpoint=endpoint,
        member_role=member_role,
    )


def _member_role(value: str | None) -> str | None:
    if value is None:
        return None
    from resource_repair.settings import MEMBER_ACCOUNTS, MEMBER_ROLE_NAME

    try:
        Settings.from_env({MEMBER_ROLE_NAME: value, MEMBER_ACCOUNTS: "*"})
    except ConfigurationError:
        raise RestoreError(f"--member-role {value[:80]!r} is not a RAM role name") from None
    return value


def restore(
    buckets: Iterable[Changes],
    credentials: Credentials,
    *,
    apply: bool,
    out: TextIO,
    endpoint: str | None = None,
    member_role: str | None = None,
) -> int:
    """``member_role``: a bucket whose audit line names a member account is reached
    through that account's role, as the hub function reached it."""
    from resource_repair.oss_client import BucketClient, oss_endpoint

    counts: collections.Counter[str] = collections.Counter()
    for changes in buckets:
        deadline = Deadline(_PER_BUCKET_SECONDS)
        reached = _credentials_for(changes, credentials, member_role, deadline)
        if isinstance(reached, str):
            outcome, reason = Outcome.FAILED, reached
        else:
            client = BucketClient(
                reached,
                endpoint or oss_endpoint(changes.region, internal=False),
                changes.bucket,
                _REQUEST_TIMEOUT,
                deadline=deadline,
            )
            outcome, reason = restore_bucket(client, changes, apply=apply, deadline=deadline)
        counts[outcome] += 1
        print(f"{changes.bucket} ({changes.region}): {outcome}: {reason}", file=out)
    print(f"{'outcome':<20}{'buckets':>8}", file=out)
    for outcome in Outcome.ORDER:
        if counts[outcome]:
            print(f"{outcome:<20}{counts[outcome]:>8}", file=out)
    print(f"{'total':<20}{sum(counts.values()):>8}", file=out)
    return 1 if any(counts[o] for o in Outcome.FAILING) else 0


def _credentials_for(
    changes: Changes, credentials: Credentials, member_role: str | None, deadline: Deadline
) -> Credentials | str:
    """The caller's credentials, or a member session for a member's bucket; a str: why
    the bucket cannot be reached (no request made to it)."""
    if changes.account is None:
        return credentials
    if member_role is None:
        return (
            f"the bucket belongs to member account {changes.account}: pass --member-role"
            " to reach it through that account's role; nothing written"
        )
    from resource_repair.errors import TransientError
    from resource_repair.member_access import SESSIONS, MemberAccessError, sts_policy

    try:
        session = SESSIONS.get(
            credentials,
            changes.account,
            member_role,
            changes.actions(),
            function_name=None,
            deadline=deadline,
            policy=sts_policy(3),
        )
    except (MemberAccessError, TransientError) as exc:
        return f"{exc}; nothing written"
    return session.credentials


def restore_bucket(
    client: RestoreApi, changes: Changes, *, apply: bool, deadline: Deadline
) -> tuple[str, str]:
    """(outcome, reason) for one bucket: check everything, then write, then read back."""
    if changes.empty():
        return Outcome.NOTHING_TO_RESTORE, "the audit lines record no change to it"
    retry = RetryPolicy(max_attempts=3, request_timeout=_REQUEST_TIMEOUT)
    try:
        # GetBucketInfo first, always: PutBucketAcl would create a missing bucket.
        state = retry.call(client.get_state, deadline)
        if changes.created and state.creation_date and state.creation_date != changes.created:
            return (
                Outcome.REFUSED,
                f"a bucket of this name was created since the remediation ({changes.created},"
                f" now {state.creation_date}): it is another bucket, not touched",
            )
        drift = _drift(client, changes, state, retry, deadline)
        if drift:
            return (
                Outcome.REFUSED,
                f"changed since the remediation ({'; '.join(drift)}): not touched",
            )
        plan = _plan(changes)
        if not apply:
            return Outcome.WOULD_RESTORE, f"would {', then '.join(plan)}"
        if changes.public_access_block:
            retry.call(lambda: client.put_public_access_block(False), deadline)
        if changes.policy is not None:
            before = changes.policy[0]
            retry.call(lambda: client.put_policy(before), deadline)
        if changes.acl is not None:
            acl = changes.acl[0]
            retry.call(lambda: client.put_acl(acl), deadline)
        wrong = _check_restored(client, changes, retry, deadline)
    except BucketNotFoundError:
        return Outcome.BUCKET_NOT_FOUND, "the bucket does not exist; nothing written"
    except OssCallError as exc:
        http = f" (HTTP {exc.status})" if exc.status else ""
        return Outcome.FAILED, f"{exc.operation} failed: {exc.code}{http} {exc.message}"
    if wrong:
        return Outcome.FAILED, f"written, but reads back different: {'; '.join(wrong)}"
    return Outcome.RESTORED, ", then ".join(_past(step) for step in plan)


def _drift(
    client: RestoreApi, changes: Changes, state: BucketState, retry: RetryPolicy, deadline: Deadline
) -> list[str]:
    drift: list[str] = []
    if changes.acl is not None and state.acl != changes.acl[1]:
        drift.append(f"ACL is {state.acl}, the remediation left {changes.acl[1]}")
    if changes.policy is not None:
        current, _ = retry.call(client.get_policy, deadline)
        if not same_meaning(current, changes.policy[1]):
            left = "no policy" if changes.policy[1] is None else "another policy"
            drift.append(f"the bucket policy is not the one the remediation left ({left})")
    if changes.public_access_block:
        enabled, _ = retry.call(client.get_public_access_block, deadline)
        if not enabled:
            drift.append("Block Public Access is off already")
    return drift


def _plan(changes: Changes) -> list[str]:
    steps: list[str] = []
    if changes.public_access_block:
        steps.append("switch Block Public Access off")
    if changes.policy is not None:
        steps.append("put the bucket policy back")
    if changes.acl is not None:
        steps.append(f"set the ACL back from {changes.acl[1]} to {changes.acl[0]}")
    return steps


def _past(step: str) -> str:
    verb, _, rest = step.partition(" ")
    return {"switch": "switched", "put": "put", "set": "set"}[verb] + " " + rest


def _check_restored(
    client: RestoreApi, changes: Changes, retry: RetryPolicy, deadline: Deadline
) -> list[str]:
    wrong: list[str] = []
    if changes.acl is not None:
        acl = retry.call(client.get_state, deadline).acl
        if acl != changes.acl[0]:
            wrong.append(f"ACL is {acl}, not {changes.acl[0]}")
    if changes.policy is not None:
        current, _ = retry.call(client.get_policy, deadline)
        if not same_meaning(current, changes.policy[0]):
            wrong.append("the bucket policy is not the one put back")
    if changes.public_access_block:
        enabled, _ = retry.call(client.get_public_access_block, deadline)
        if enabled:
            wrong.append("Block Public Access is still on")
    return wrong


def read_changes(path: Path, only: set[str] | None = None) -> list[Changes]:
    """Every bucket the audit lines of ``path`` record a change to, in first-seen order."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RestoreError(f"cannot read {path}: {exc.strerror}") from None
    buckets: dict[tuple[str, str], Changes] = {}
    seen = 0
    with handle:
        for record in _records(handle):
            seen += 1
            _take(record, buckets, only)
    if not seen:
        raise RestoreError(f"{path} holds no resource_repair audit line")
    return list(buckets.values())


_REMEDIATED = "remediated"


def _records(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The audit records among ``lines``: JSON objects alone on a line, or after a log
    line's prefix (time, request id, level)."""
    decoder = json.JSONDecoder()
    for line in lines:
        start = line.find("{")
        while start != -1:
            try:
                record, _ = decoder.raw_decode(line, start)
            except ValueError:
                start = line.find("{", start + 1)
                continue
            if isinstance(record, dict) and record.get("audit") == _AUDIT:
                yield record
            break


def _take(
    record: dict[str, Any], buckets: dict[tuple[str, str], Changes], only: set[str] | None
) -> None:
    bucket, region = record.get("bucket"), record.get("region")
    if not isinstance(bucket, str) or not isinstance(region, str):
        return
    try:
        check_bucket_name(bucket)
        check_region_id(region)
    except InvalidEventError:
        return  # never a request to a host a crafted line names
    if only and bucket not in only:
        return
    changes = buckets.setdefault((bucket, region), Changes(bucket, region))
    if record.get("outcome") != _REMEDIATED:
        # Only a change this function made and confirmed is put back: a `bucket_replaced`
        # line describes a bucket that is not the one that was changed.
        return
    created = record.get("bucket_created")
    if isinstance(created, str) and created:
        changes.created = created
    account = _member_account(record)
    if account is not None:
        changes.account = account
    acl_before, acl_after = record.get("acl_before"), record.get("acl_after")
    if acl_before in _ACLS and acl_after in _ACLS and acl_before != acl_after:
        changes.acl = (acl_before, acl_after)
    policy_before = record.get("policy_before")
    if isinstance(policy_before, str):
        if record.get("policy_deleted") is True:
            changes.policy = (policy_before, None)
        else:
            after = record.get("policy_after")
            if isinstance(after, str) and not same_meaning(after, policy_before):
                changes.policy = (policy_before, after)
    if record.get("public_access_block_before") is False and (
        record.get("public_access_block_after") is True
    ):
        changes.public_access_block = True


def _member_account(record: dict[str, Any]) -> str | None:
    """The member account an audit line says the bucket belongs to (hub mode), or None."""
    owner = record.get("owner_account")
    return owner if isinstance(owner, str) and re.fullmatch(r"[0-9]{16}", owner) else None
