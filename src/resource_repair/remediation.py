"""One bucket from a non-compliance result to a Report: the path the function, the sweep
and the backfill share, so that all validate, exempt and remediate in exactly the same way.

The remediation is the one the registry (remediators.registry) keys to the result's managed
rule: this module asks it, and never chooses between remediators itself. Block Public Access
follows a fix when it is switched on."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from resource_repair.credentials import Credentials, resolve_credentials
from resource_repair.member_access import SESSIONS, MemberAccessError, MemberSession, sts_policy
from resource_repair.message import NonComplianceEvent
from resource_repair.remediators.contract import RemediationJob
from resource_repair.remediators.registry import REMEDIATIONS
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.selection import dispatch, read_rule_selected, required_actions
from resource_repair.settings import ENDPOINT_OVERRIDE, EXEMPT_BUCKETS, Settings
from resource_repair.validation import check_event, member_owner

logger = logging.getLogger(__name__)


def remediate_event(
    event: NonComplianceEvent,
    settings: Settings,
    *,
    context: object,
    environ: Mapping[str, str],
    account_id: str | None,
    function_region: str | None,
    deadline: Deadline,
) -> Report:
    """Check the event, then run its rule's remediation on the bucket. Raises
    InvalidEventError before any request when the event fails a check, and
    TransientOssError when OSS stays unavailable."""
    # An owner outside memberAccounts is refused here, before any request (STS included).
    check_event(event, account_id, settings.may_act_in if settings.member_role_name else None)
    chosen = dispatch(event.source_identifier, event.rule_references, settings)
    target = Report(
        Outcome.EXEMPT,
        "",
        bucket=event.bucket,
        region=event.region_id,
        rule=event.rule_label,
        remedy=chosen.identifier,
    )
    if chosen.remedy is None:
        return target.replace(outcome=Outcome.IGNORED, reason=chosen.reason)
    if event.bucket in settings.exempt_buckets:
        return target.replace(reason=f"bucket is listed in {EXEMPT_BUCKETS}")
    credentials = resolve_credentials(context, environ)
    if credentials is None:
        return target.replace(
            outcome=Outcome.FAILED, reason="no credentials: the function has no role"
        )
    session: MemberSession | None = None
    owner = member_owner(event, account_id)
    if owner is not None:
        # Hub mode (check_event let the owner through): a narrow session in that account.
        try:
            session = _member_session(credentials, owner, settings, context, deadline)
        except MemberAccessError as exc:
            return target.replace(outcome=Outcome.FAILED, reason=f"{exc}; no OSS request made")
        credentials = session.credentials
        account_id = owner

    # Imported here, not at the top: oss2 costs a few hundred milliseconds to import, and
    # most messages on a shared topic are ignored before they need it.
    from resource_repair.oss_client import BucketClient, oss_endpoint, use_internal_endpoint
    from resource_repair.remediators.public_access_block import block_public_access

    if settings.endpoint_override:
        logger.warning(
            "%s is set: requests go to %s, not to OSS",
            ENDPOINT_OVERRIDE,
            settings.endpoint_override,
        )
        endpoint = settings.endpoint_override
    else:
        internal = use_internal_endpoint(settings.endpoint_mode, event.region_id, function_region)
        endpoint = oss_endpoint(event.region_id, internal)
    client = BucketClient(
        credentials, endpoint, event.bucket, settings.request_timeout, deadline=deadline
    )
    policy = settings.oss_retry
    job = RemediationJob(
        client,
        policy,
        deadline,
        dry_run=settings.dry_run,
        exempt_tag=settings.exempt_tag,
        account_id=account_id,
        straight_to_private=read_rule_selected(settings, event.rule_references),
    )
    assert chosen.identifier is not None  # a remedy was found for it above
    remediator = REMEDIATIONS[chosen.identifier].build(job)
    report = remediator.remediate(
        event.bucket, event.region_id, event.rule_label, evaluated_at=event.evaluated_at
    ).replace(remedy=chosen.identifier)
    if settings.block_public_access:
        if report.outcome is Outcome.DRY_RUN:
            report = report.replace(
                reason=f"{report.reason}; would then switch on Block Public Access"
            )
        elif report.outcome is Outcome.REMEDIATED:
            report = block_public_access(client, policy, deadline, report)
    return _in_member(report, session)


def _member_session(
    hub: Credentials, owner: str, settings: Settings, context: object, deadline: Deadline
) -> MemberSession:
    assert settings.member_role_name is not None  # may_act_in is False without it
    function = getattr(context, "function", None)
    name = getattr(function, "name", None)
    return SESSIONS.get(
        hub,
        owner,
        settings.member_role_name,
        required_actions(settings),
        function_name=name if isinstance(name, str) else None,
        deadline=deadline,
        policy=sts_policy(settings.max_attempts),
    )


def _in_member(report: Report, session: MemberSession | None) -> Report:
    """The report, naming the member account, the role and the session's AccessKeyId (never
    its secret), so that the member's ActionTrail can be matched to this audit line."""
    if session is None:
        return report
    return report.replace(
        owner_account=session.account_id,
        assumed_role=session.role_arn,
        session_key_id=session.credentials.access_key_id,
    )
