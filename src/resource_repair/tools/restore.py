"""``resource-repair restore``: put back what the function changed on buckets, from its
audit records (a ``backfill --report`` file, or the function's logs: audit_lines says which
forms are read; every other line is passed over and counted).

For each bucket the latest change of each kind is undone: the ACL, the bucket policy,
Block Public Access (the latest by the record's UTC ``time``; earlier ones are named). A
bucket is refused, and left alone, when its current state is no longer what the
remediation left (someone changed it since, and restoring the older state would overwrite
their change), when its creation date is not the recorded one (another bucket of the same
name), and when the record has no creation date or time (written before they were
recorded). Restore acts in the caller's own account (STS GetCallerIdentity says which),
and in a member account only when ``--member-accounts`` lists it: a record never chooses
where to write. Whichever it is, the bucket's owner (GetBucketInfo) must be that account: a
bucket policy may let the caller write to another account's bucket, and a record without
``owner_account`` never makes restore write there. Dry run by default; ``--apply`` writes,
then reads back.

Block Public Access is switched off first: while it is on, OSS refuses a public ACL or a
policy that allows anyone, which is exactly what may have to be put back.
"""

from __future__ import annotations

import argparse
import collections
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, TextIO

from resource_repair.credentials import Credentials
from resource_repair.errors import (
    BucketNotFoundError,
    ConfigurationError,
    InvalidEventError,
    OssCallError,
)
from resource_repair.remediators.contract import BucketState
from resource_repair.remediators.policy_analysis import same_meaning
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.settings import Settings
from resource_repair.tools.interruption import EXIT_INTERRUPTED, FinishInHand
from resource_repair.tools.restore_records import Changes, RestoreError, read_report

# Named here too: restore reads what restore_records finds (tests call it as restore's).
from resource_repair.tools.restore_records import read_changes as read_changes
from resource_repair.tools.terminal import shown_line
from resource_repair.validation import check_bucket_name

_PER_BUCKET_SECONDS = 60.0
_REQUEST_TIMEOUT = 10.0
_ACCOUNT_ID = re.compile(r"[0-9]{16}")


class Outcome:
    RESTORED = "restored"
    WOULD_RESTORE = "would_restore"
    NOTHING_TO_RESTORE = "nothing_to_restore"
    REFUSED = "refused"
    BUCKET_NOT_FOUND = "bucket_not_found"
    FAILED = "failed"
    ORDER = (RESTORED, WOULD_RESTORE, NOTHING_TO_RESTORE, REFUSED, BUCKET_NOT_FOUND, FAILED)
    FAILING = frozenset({REFUSED, BUCKET_NOT_FOUND, FAILED})


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
    parser.add_argument(
        "--member-accounts",
        metavar="IDS",
        help="the member account ids (comma-separated) restore may write in; any other"
        " account's bucket is refused",
    )
    parser.add_argument("--profile", help="an `aliyun` CLI profile (default: ALIBABA_CLOUD_*)")
    parser.add_argument(
        "-t",
        "--template",
        metavar="PATH",
        help="the functions whose Log Service entries are read: the template's event and"
        " sweep functions (default: template.yml)",
    )
    parser.add_argument(
        "--function-name",
        action="append",
        default=[],
        metavar="NAME",
        help="read Log Service entries of this function (repeat for more) instead of the"
        " template's",
    )
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)  # a local fake OSS
    parser.add_argument("--sts-endpoint", help=argparse.SUPPRESS)  # a local fake STS


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """0 when every selected bucket is restored (or would be), 1 when any was refused or
    failed, 2 when the restore cannot start."""
    from resource_repair.endpoints import (
        EndpointOptionError,
        loopback_host_port,
        loopback_url,
    )
    from resource_repair.tools.caller import CloudServiceError, caller_identity
    from resource_repair.tools.cloud_credentials import NoCredentialsError, tool_credentials

    try:
        endpoint = loopback_url(args.endpoint, "--endpoint")
        sts_endpoint = loopback_host_port(args.sts_endpoint, "--sts-endpoint")
        member_role = _member_role(args.member_role)
        member_accounts = _member_accounts(args.member_accounts, member_role)
        functions = _function_names(args.template, args.function_name)
        selected = _selected_buckets(args.bucket)
        buckets, passed_over = read_report(args.report, selected, functions)
        _all_found(selected, buckets, args.report)
        credentials = tool_credentials(args.profile, sts_endpoint=sts_endpoint)
        # The caller's own account: from its credentials, never from a record.
        caller_account = caller_identity(credentials, endpoint=sts_endpoint).account_id
    except (RestoreError, NoCredentialsError, EndpointOptionError, CloudServiceError) as exc:
        print(f"resource-repair restore: {shown_line(exc)}", file=err)
        return 2
    # Ctrl-C lets the bucket in hand finish its writes and read-back (tools/interruption).
    read_state = f"resource-repair restore --report {args.report} --bucket NAME (a dry run)"
    with FinishInHand(err, read_state=read_state) as stop:
        code = restore(
            stop.taking(
                buckets,
                lambda changes: f"{changes.bucket} ({changes.region})",
                lambda changes: ", then ".join(_plan(changes)),
            ),
            credentials,
            caller_account=caller_account,
            apply=args.apply,
            out=out,
            endpoint=endpoint,
            member_role=member_role,
            member_accounts=member_accounts,
            passed_over=passed_over,
        )
    if stop.requested:
        print(stop.summary(), file=err)
        return EXIT_INTERRUPTED
    return code


def _selected_buckets(names: list[str]) -> set[str]:
    """``--bucket`` names, each one a name OSS allows: another could never be in a report."""
    for name in names:
        try:
            check_bucket_name(name)
        except InvalidEventError as exc:
            raise RestoreError(f"--bucket: {exc}") from None
    return set(names)


def _all_found(selected: set[str], buckets: list[Changes], report: Path) -> None:
    """Every ``--bucket`` is in the report: a name that is not would make a run that
    restores nothing and says ``total 0``, as if all were well."""
    missing = sorted(selected - {changes.bucket for changes in buckets})
    if missing:
        raise RestoreError(
            f"--bucket {', '.join(missing)}: {report} holds no audit record of"
            f" {'it' if len(missing) == 1 else 'them'}"
        )


def _member_accounts(value: str | None, member_role: str | None) -> frozenset[str]:
    """The ids of ``--member-accounts``. Ids only: unlike the function's memberAccounts,
    ``*`` is refused, since restore may open buckets and must be told exactly where."""
    if value is None:
        return frozenset()
    if member_role is None:
        raise RestoreError("--member-accounts needs --member-role (the role to reach them by)")
    accounts = [item.strip() for item in value.split(",")]
    for account in accounts:
        if account == "*":
            raise RestoreError("--member-accounts: '*' is refused here; list the account ids")
        if not _ACCOUNT_ID.fullmatch(account):
            raise RestoreError(
                f"--member-accounts entry {account[:40]!r} is not an account id (16 digits)"
            )
    return frozenset(accounts)


def _function_names(template: str | None, given: list[str]) -> frozenset[str]:
    """The functions whose Log Service entries restore reads: ``--function-name``, else the
    template's event and sweep functions. Without a template (none given, none here) no
    Log Service entry is read; the other forms carry no function name and are read."""
    if given:
        return frozenset(given)
    from resource_repair.tools.template import TemplateError, function_names

    try:
        return frozenset(function_names(template or "template.yml"))
    except TemplateError as exc:
        if template is not None:
            raise RestoreError(str(exc)) from None
        return frozenset()


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
    caller_account: str,
    apply: bool,
    out: TextIO,
    endpoint: str | None = None,
    member_role: str | None = None,
    member_accounts: frozenset[str] = frozenset(),
    passed_over: int = 0,
) -> int:
    """``member_role``: a bucket whose audit line names a member account listed in
    ``member_accounts`` is reached through that account's role, as the hub function
    reached it; any other member account's bucket is refused. ``caller_account``: the
    account ``credentials`` belong to, where a record without a member account acts."""
    from resource_repair.oss_client import BucketClient, oss_endpoint

    if passed_over:
        print(
            f"passed over {passed_over} line(s) that are not an audit record in a form restore"
            " reads (docs/operating.md, Restore)",
            file=out,
        )
    counts: collections.Counter[str] = collections.Counter()
    for changes in buckets:
        deadline = Deadline(_PER_BUCKET_SECONDS)
        reached = (
            (Outcome.REFUSED, changes.refusal)
            if changes.refusal is not None
            else _credentials_for(changes, credentials, member_role, member_accounts, deadline)
        )
        if isinstance(reached, tuple):
            outcome, reason = reached
        else:
            client = BucketClient(
                reached,
                endpoint or oss_endpoint(changes.region, internal=False),
                changes.bucket,
                _REQUEST_TIMEOUT,
                deadline=deadline,
            )
            outcome, reason = restore_bucket(
                client,
                changes,
                apply=apply,
                deadline=deadline,
                account=changes.account or caller_account,
            )
        counts[outcome] += 1
        # A reason may quote OSS's answer or a recorded value: shown as terminal.py shows
        # text from outside.
        # Flushed per bucket: a second Ctrl-C ends the process at once (os._exit), and what
        # was put back must have been said.
        line = shown_line(f"{changes.bucket} ({changes.region}): {outcome}: {reason}")
        earlier = "".join(f"\n  {shown_line(text)}" for text in changes.earlier)
        print(line + earlier, file=out, flush=True)
    print(f"{'outcome':<20}{'buckets':>8}", file=out)
    for outcome in Outcome.ORDER:
        if counts[outcome]:
            print(f"{outcome:<20}{counts[outcome]:>8}", file=out)
    print(f"{'total':<20}{sum(counts.values()):>8}", file=out)
    return 1 if any(counts[o] for o in Outcome.FAILING) else 0


def _credentials_for(
    changes: Changes,
    credentials: Credentials,
    member_role: str | None,
    member_accounts: frozenset[str],
    deadline: Deadline,
) -> Credentials | tuple[str, str]:
    """The caller's credentials, or a member session for a member's bucket; a tuple: the
    outcome and why the bucket cannot be reached (no request made to it)."""
    if changes.account is None:
        return credentials
    if changes.account not in member_accounts:
        # The record names the account; only the operator's list lets restore write there.
        return (
            Outcome.REFUSED,
            f"the record says the bucket is in account {_shown(changes.account)}, which"
            " --member-accounts does not list; nothing written",
        )
    if member_role is None:
        return (
            Outcome.FAILED,
            f"the bucket belongs to member account {changes.account}: pass --member-role"
            " to reach it through that account's role; nothing written",
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
        return Outcome.FAILED, f"{exc}; nothing written"
    return session.credentials


def restore_bucket(
    client: RestoreApi, changes: Changes, *, apply: bool, deadline: Deadline, account: str
) -> tuple[str, str]:
    """(outcome, reason) for one bucket: check everything, then write, then read back.
    ``account``: the account restore acts in, which must own the bucket."""
    if changes.empty():
        return Outcome.NOTHING_TO_RESTORE, "the audit lines record no change to it"
    retry = RetryPolicy(max_attempts=3, request_timeout=_REQUEST_TIMEOUT)
    try:
        # GetBucketInfo first, always: PutBucketAcl would create a missing bucket.
        state = retry.call(client.get_state, deadline)
        if state.owner_id != account:
            return Outcome.REFUSED, _not_owner(state.owner_id, account)
        if state.creation_date != changes.created:
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


def _not_owner(owner: str, account: str) -> str:
    # A bucket policy can let the caller (or a member's role) write to another account's
    # bucket; restore writes only to buckets of the account it acts in.
    return (
        f"the bucket is owned by account {_shown(owner) if owner else '(none named)'}, not"
        f" {account}, the account restore acts in: not touched"
    )


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


def _shown(account: str) -> str:
    return account if _ACCOUNT_ID.fullmatch(account) else repr(account[:40])
