"""What the function's audit records say it changed, bucket by bucket (:class:`Changes`):
what ``resource-repair restore`` puts back. audit_lines says which forms of line are read.

For each bucket the latest change of each kind counts (the ACL, the bucket policy, Block
Public Access; the latest by the record's UTC ``time``; earlier ones are named). A record
without the bucket's creation date or its time is never put back, and a bucket whose
latest fixes name different buckets of one name or different accounts is refused.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

from resource_repair.errors import InvalidEventError
from resource_repair.remediators.policy_analysis import same_meaning
from resource_repair.tools.audit_lines import AuditLines, read_audit_lines
from resource_repair.tools.file_bounds import MIB, FileTooLargeError, lines_at_most
from resource_repair.validation import check_bucket_name, check_region_id

# An audit record is a few KiB (a policy before the fix: OSS allows 16 KiB), escaped twice in a
# Log Service export; a month of a busy account's audit lines is tens of MiB.
MAX_LINE = 1 * MIB
MAX_REPORT = 256 * MIB
_ACLS = frozenset({"private", "public-read", "public-read-write"})


class RestoreError(Exception):
    """The restore cannot start as asked (exit code 2)."""


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
    """The bucket's CreationDate when it was remediated (``bucket_created``)."""
    earlier: list[str] = dataclasses.field(default_factory=list)
    """The earlier fixes of a kind put back from a later one: named, not put back."""
    refusal: str | None = None
    """Why the records cannot be put back at all (no request is made)."""

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


def read_changes(path: Path, only: set[str] | None = None) -> list[Changes]:
    """Every bucket the audit records of ``path`` record a change to, in first-seen order."""
    return read_report(path, only)[0]


def read_report(
    path: Path, only: set[str] | None = None, functions: frozenset[str] = frozenset()
) -> tuple[list[Changes], int]:
    """(the buckets, as read_changes, how many lines were passed over). ``functions``: the
    functions whose Log Service entries are read (audit_lines)."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RestoreError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        lines = lines_at_most(
            handle, line_limit=MAX_LINE, total_limit=MAX_REPORT, what=f"report {path}"
        )
        try:
            found = read_audit_lines(lines, functions)
        except FileTooLargeError as exc:
            raise RestoreError(f"{exc}: export only the time range to restore") from None
    if not found.records:
        raise RestoreError(
            f"{path} holds no resource_repair audit record in a form restore reads"
            f" ({found.passed_over} line(s) passed over{_other_functions(found, functions)})"
        )
    fixes: dict[tuple[str, str], list[_Fix]] = {}
    for index, record in enumerate(found.records):
        where = _where(record)
        if where is None or (only and where[0] not in only):
            continue
        bucket_fixes = fixes.setdefault(where, [])
        fix = _fix(record, index)
        if fix is not None:
            bucket_fixes.append(fix)
    buckets = [_changes(bucket, region, of) for (bucket, region), of in fixes.items()]
    return buckets, found.passed_over


def _other_functions(found: AuditLines, functions: frozenset[str]) -> str:
    if not found.other_functions:
        return ""
    names = ", ".join(sorted(functions)) or "none: no template here"
    return (
        f", {found.other_functions} of them Log Service entries of another function than"
        f" those read ({names}; -t or --function-name)"
    )


# A fix that failed half-way still records what it changed (the ACL set, then Block
# Public Access refused; a policy written, not read back): those are put back too. Any
# other outcome changed nothing, or not this bucket (bucket_replaced).
_CHANGING = frozenset({"remediated", "failed"})
_NO_DATE = (
    "was recorded without the bucket's creation date or the record's time (written before"
    " restore required them), so it is never put back: restore it by hand"
)


@dataclasses.dataclass(frozen=True)
class _Fix:
    """One audit record that changed the bucket."""

    index: int
    time: datetime.datetime | None
    when: str
    created: str | None
    account: str | None
    acl: tuple[str, str] | None
    policy: tuple[str, str | None] | None
    public_access_block: bool

    @property
    def dated(self) -> bool:
        return self.time is not None and self.created is not None


def _where(record: dict[str, Any]) -> tuple[str, str] | None:
    bucket, region = record["bucket"], record["region"]
    if bucket is None or region is None:
        return None
    try:
        check_bucket_name(bucket)
        check_region_id(region)
    except InvalidEventError:
        return None  # never a request to a host a crafted line names
    return bucket, region


def _fix(record: dict[str, Any], index: int) -> _Fix | None:
    if record["outcome"] not in _CHANGING:
        return None
    acl: tuple[str, str] | None = None
    acl_before, acl_after = record["acl_before"], record["acl_after"]
    if acl_before in _ACLS and acl_after in _ACLS and acl_before != acl_after:
        acl = (acl_before, acl_after)
    policy: tuple[str, str | None] | None = None
    policy_before = record.get("policy_before")
    if policy_before is not None:
        if record.get("policy_deleted") is True:
            policy = (policy_before, None)
        else:
            after = record.get("policy_after")
            if after is not None and not same_meaning(after, policy_before):
                policy = (policy_before, after)
    public_access_block = (
        record.get("public_access_block_before") is False
        and record.get("public_access_block_after") is True
    )
    if acl is None and policy is None and not public_access_block:
        return None
    time = _parse_time(record.get("time") or "")
    return _Fix(
        index=index,
        time=time,
        when=record["time"] if time is not None else "an unknown time",
        created=record.get("bucket_created") or None,
        account=_member_account(record),
        acl=acl,
        policy=policy,
        public_access_block=public_access_block,
    )


def _parse_time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None


def _changes(bucket: str, region: str, fixes: list[_Fix]) -> Changes:
    """What to put back on one bucket: for each kind of setting, the state before the
    latest fix that changed it."""
    changes = Changes(bucket, region)
    chosen: list[_Fix] = []
    kinds = (
        ("ACL", lambda fix: fix.acl is not None),
        ("bucket policy", lambda fix: fix.policy is not None),
        ("Block Public Access", lambda fix: fix.public_access_block),
    )
    for kind, changed in kinds:
        touching = [fix for fix in fixes if changed(fix)]
        if not touching:
            continue
        dated = [fix for fix in touching if fix.dated]
        if not dated:
            changes.refusal = f"the change to its {kind} at {touching[-1].when} {_NO_DATE}"
            return changes
        latest = max(dated, key=lambda fix: (fix.time, fix.index))
        chosen.append(latest)
        changes.earlier += [
            f"earlier {kind} fix at {fix.when}: not put back (the fix at {latest.when} is)"
            for fix in touching
            if fix is not latest
        ]
        if kind == "ACL":
            changes.acl = latest.acl
        elif kind == "bucket policy":
            changes.policy = latest.policy
        else:
            changes.public_access_block = True
    created = {fix.created for fix in chosen}
    accounts = {fix.account for fix in chosen}
    if len(created) > 1:
        changes.refusal = (
            "its latest fixes were made to different buckets of this name (created"
            f" {', '.join(sorted(str(c) for c in created))}): not touched"
        )
    elif len(accounts) > 1:
        changes.refusal = "its latest fixes name different accounts: not touched"
    elif chosen:
        changes.created = created.pop()
        changes.account = accounts.pop()
    return changes


def _member_account(record: dict[str, Any]) -> str | None:
    """The member account an audit line says the bucket belongs to (hub mode), or None.
    Kept as written, even when it is no account id: then no --member-accounts entry can
    match it and the bucket is refused, rather than taken for one of the caller's own."""
    owner = record.get("owner_account")
    return owner if isinstance(owner, str) else None
