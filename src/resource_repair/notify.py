"""Tell people: every failure to the MNS topic ``failureTopic``, every remediation to
``remediationTopic`` (optional), published by the function itself.

A notification is a side effect: it never changes the outcome returned to FC, never raises,
and never runs past the deadline it is given. A transient refusal is tried again while the
notification's share of the time lasts; one that still cannot be sent is logged as a
warning (without secrets), and the caller writes ``"notification": "undelivered"`` into the
result and the audit line, on which a Log Service alert fires (docs/operating.md, "Failures you can
see"). It is not handed back to FC by raising: see :class:`Notified`.

This module decides which message is due and to which topic. What a message says is
notification.py's, how it reaches SMQ smq.py's, and the settings notify_settings.py's.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping

from resource_repair.credentials import Credentials, resolve_credentials
from resource_repair.errors import ConfigurationError
from resource_repair.invocation import context_text, function_region
from resource_repair.logtext import untrusted
from resource_repair.notification import (
    Notification,
    origin,
    outcome_notification,
    summary_failed,
    sweep_notification,
)

# The settings are read in notify_settings.py; named here too, as the templates' comments
# say (the settings are read by resource_repair.settings and resource_repair.notify).
from resource_repair.notify_settings import (
    ENDPOINT_OVERRIDE,
    FAILURE_TOPIC,
    LOCAL_ONLY_VARIABLES,
    MAIL_SENDER,
    REMEDIATION_TOPIC,
    VARIABLES,
    NotifySettings,
)
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.smq import publish

logger = logging.getLogger(__name__)

__all__ = [
    "ENDPOINT_OVERRIDE",
    "FAILURE_TOPIC",
    "LOCAL_ONLY_VARIABLES",
    "MAIL_SENDER",
    "REMEDIATION_TOPIC",
    "VARIABLES",
    "Notified",
    "Notifier",
    "NotifySettings",
    "notify_outcome",
]


class Notified(str, enum.Enum):
    """Whether the message an outcome called for reached SMQ: the result and the audit line
    carry it as ``"notification"``.

    ``undelivered`` is final. The handler does not raise to have FC replay the delivery: a
    replay of a partly applied fix finds nothing to fix and returns ``success``, losing the
    first failure; and FC's failure destination publishes to the same topic, with the same
    role, moments later (FC's retries are seconds apart), so what outlasted these retries
    (a missing topic or permission, an SMQ outage) most likely defeats it too. The audit
    line reaches Log Service whatever SMQ does: the alert on it is the fallback.
    """

    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    """Due, and not published: SMQ refused or did not answer, no time was left, or no
    topic is set for it (a ``fail`` with no ``failureTopic`` reaches nobody)."""
    NONE = "none"
    """Nothing was due: a success, or a remediation with no ``remediationTopic``."""


class Notifier:
    """Publishes outcomes to the configured topics; every method returns whether a message
    was published, and none of them raises."""

    def __init__(
        self,
        settings: NotifySettings,
        credentials: Credentials | None,
        region: str | None,
        account_id: str | None,
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._region = region
        self._account_id = account_id

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        credentials: Credentials | None,
        region: str | None,
        account_id: str | None,
    ) -> Notifier:
        """Raises ConfigurationError for a topic name or override that has no meaning."""
        return cls(NotifySettings.from_env(environ), credentials, region, account_id)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.failure_topic or self.settings.remediation_topic)

    def report_outcome(
        self,
        report: Report,
        fc_request_id: str | None,
        deadline: Deadline,
        *,
        form: str | None = None,
    ) -> Notified:
        """A ``fail`` result to the failure topic, ``remediated`` to the remediation topic;
        anything else sends nothing."""
        due = report.status == "fail" or (
            report.outcome is Outcome.REMEDIATED and self.settings.remediation_topic is not None
        )
        if not due:
            return Notified.NONE
        try:
            notification = self._outcome_notification(report, fc_request_id, form)
            if notification is None:  # a failure with no failureTopic: nobody is told
                return Notified.UNDELIVERED
            return _notified(self._publish(notification, deadline))
        except Exception as exc:  # a notification must never turn into the handler's error
            logger.warning("notification not sent: internal error: %s", type(exc).__name__)
            return Notified.UNDELIVERED

    def report_sweep(
        self,
        summary: Mapping[str, object],
        reports: Iterable[Report],
        deadline: Deadline,
        fc_request_id: str | None = None,
    ) -> Notified:
        """One message listing the sweep's failures (to the failure topic) and one listing
        the buckets it remediated (to the remediation topic), each only when there are any.
        Every run lists the buckets failing in it, so one still failing is published again
        by the next run. ``delivered`` only when every message due was published."""
        try:
            failures: list[Report] = []
            remediated: list[Report] = []
            for report in reports:
                if report.status == "fail":
                    failures.append(report)
                elif report.outcome is Outcome.REMEDIATED:
                    remediated.append(report)
            failed = bool(failures) or summary_failed(summary)
            unheard = failed and not self.settings.failure_topic  # nobody is told
            # The failures first: they get the larger share of the time reserved.
            due = []
            if failed and not unheard:
                due.append(self._sweep_notification(summary, failures, fc_request_id, "sweep"))
            if self.settings.remediation_topic and remediated:
                due.append(
                    self._sweep_notification(summary, remediated, fc_request_id, "remediation")
                )
            if not due and not unheard:
                return Notified.NONE
            sent = [self._publish(n, deadline) for n in due]
            return _notified(all(sent) and not unheard)
        except Exception as exc:  # a notification must never turn into the sweep's error
            logger.warning("sweep notification not sent: internal error: %s", type(exc).__name__)
            return Notified.UNDELIVERED

    # -- what the messages say (notification.py), and sending them (smq.py) --------------

    def _outcome_notification(
        self, report: Report, fc_request_id: str | None, form: str | None
    ) -> Notification | None:
        if report.status == "fail":
            topic, kind = self.settings.failure_topic, "failure"
        elif report.outcome is Outcome.REMEDIATED:
            topic, kind = self.settings.remediation_topic, "remediation"
        else:
            return None
        if not topic:
            return None
        head = origin(self._account_id, self._region)
        return outcome_notification(report, topic, kind, head, fc_request_id, form)

    def _sweep_notification(
        self,
        summary: Mapping[str, object],
        reports: list[Report],
        fc_request_id: str | None,
        kind: str,
    ) -> Notification:
        settings = self.settings
        topic = settings.failure_topic if kind == "sweep" else settings.remediation_topic
        assert topic is not None
        head = origin(self._account_id, self._region)
        return sweep_notification(summary, reports, topic, kind, head, fc_request_id)

    def _publish(self, notification: Notification, deadline: Deadline) -> bool:
        return publish(
            notification,
            self.settings,
            self._credentials,
            self._account_id,
            self._region,
            deadline,
        )


# -- the handler's entry point --------------------------------------------------------------


def notify_outcome(
    report: Report,
    context: object,
    environ: Mapping[str, str],
    fc_request_id: str | None,
    deadline: Deadline,
    *,
    form: str | None = None,
) -> Notified:
    """What the event handler calls before writing the audit line: reads the settings, the
    role's credentials, the function's region and account from FC's context (either
    runtime's shape), and publishes. Costs nothing for an outcome nobody is told about;
    never raises. A bad setting is logged here (Settings reports it as the failure)."""
    if report.status != "fail" and report.outcome is not Outcome.REMEDIATED:
        return Notified.NONE
    try:
        settings = NotifySettings.from_env(environ)
    except ConfigurationError as exc:
        logger.warning("notification not sent: %s", untrusted(exc))
        return Notified.UNDELIVERED if report.status == "fail" else Notified.NONE
    notifier = Notifier(
        settings,
        resolve_credentials(context, environ),
        function_region(context, environ),
        context_text(context, "account_id"),
    )
    return notifier.report_outcome(report, fc_request_id, deadline, form=form)


def _notified(published: bool) -> Notified:
    return Notified.DELIVERED if published else Notified.UNDELIVERED
