"""One bucket from a non-compliance result to a Report: the path the function, the sweep
and the backfill share, so that all validate, exempt and remediate in exactly the same way.

The remediation is the one the registry (remediators.registry) keys to the result's managed
rule; Block Public Access follows a fix when it is switched on."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from resource_repair.credentials import resolve_credentials
from resource_repair.message import NonComplianceEvent
from resource_repair.remediators.registry import Remedy, dispatch, read_rule_selected
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.settings import ENDPOINT_OVERRIDE, EXEMPT_BUCKETS, Settings
from resource_repair.validation import check_event

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
    check_event(event, account_id)
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

    # Imported here, not at the top: oss2 costs a few hundred milliseconds to import, and
    # most messages on a shared topic are ignored before they need it.
    from resource_repair.oss_client import BucketClient, oss_endpoint, use_internal_endpoint
    from resource_repair.remediator import AclRemediator
    from resource_repair.remediators.policy import PolicyRemediator
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
    policy = RetryPolicy(
        max_attempts=settings.max_attempts, request_timeout=settings.request_timeout
    )
    remediator: AclRemediator | PolicyRemediator
    if chosen.remedy is Remedy.POLICY:
        remediator = PolicyRemediator(
            client, policy, deadline, dry_run=settings.dry_run, exempt_tag=settings.exempt_tag
        )
    else:
        remediator = AclRemediator(
            client,
            policy,
            deadline,
            dry_run=settings.dry_run,
            account_id=account_id,
            only_write=chosen.remedy is Remedy.ACL_NO_WRITE,
            straight_to_private=read_rule_selected(settings, event.rule_references),
            exempt_tag=settings.exempt_tag,
        )
    report = remediator.remediate(
        event.bucket, event.region_id, event.rule_label, evaluated_at=event.evaluated_at
    ).replace(remedy=chosen.identifier)
    if not settings.block_public_access:
        return report
    if report.outcome is Outcome.DRY_RUN:
        return report.replace(reason=f"{report.reason}; would then switch on Block Public Access")
    if report.outcome is Outcome.REMEDIATED:
        return block_public_access(client, policy, deadline, report)
    return report
