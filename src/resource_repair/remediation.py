"""One bucket from a non-compliance result to a Report: the path the function and the
backfill share, so that both validate, exempt and remediate in exactly the same way."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from resource_repair.credentials import resolve_credentials
from resource_repair.message import NonComplianceEvent
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
    """Check the event, then make its bucket private. Raises InvalidEventError before any
    request when the event fails a check, and TransientOssError when OSS stays unavailable."""
    check_event(event, account_id)
    target = Report(
        Outcome.EXEMPT, "", bucket=event.bucket, region=event.region_id, rule=event.rule_label
    )
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
    client = BucketClient(credentials, endpoint, event.bucket, settings.request_timeout)
    policy = RetryPolicy(
        max_attempts=settings.max_attempts, request_timeout=settings.request_timeout
    )
    remediator = AclRemediator(
        client, policy, deadline, dry_run=settings.dry_run, account_id=account_id
    )
    return remediator.remediate(event.bucket, event.region_id, event.rule_label)
