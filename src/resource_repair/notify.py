"""Tell people: every failure to the MNS topic ``failureTopic``, every remediation to
``remediationTopic`` (optional), published by the function itself.

A notification is a side effect: it never changes the outcome returned to FC, never raises,
and never runs past the deadline it is given. A transient refusal is tried again while the
notification's share of the time lasts; one that still cannot be sent is logged as a
warning (without secrets), and the caller writes ``"notification": "undelivered"`` into the
result and the audit line, on which a Log Service alert fires (README, "Failures you can
see"). It is not handed back to FC by raising: see :class:`Notified`.

The MNS SDK (``aliyun-mns-sdk``, module ``mns``) sends with ``http.client`` and is imported
only when a message is actually published, so that an ignored delivery never pays for it.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib
import ipaddress
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from urllib.parse import urlsplit

from resource_repair.audit import audit_record
from resource_repair.credentials import Credentials, resolve_credentials
from resource_repair.cutoff import CallTimedOutError, bounded_response_class, run_within
from resource_repair.errors import (
    ConfigurationError,
    InvalidEventError,
    ResourceRepairError,
    TransientError,
)
from resource_repair.invocation import context_text, function_region
from resource_repair.logtext import untrusted
from resource_repair.redaction import protect_logs, redacted
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline, RetryPolicy
from resource_repair.validation import check_region_id

logger = logging.getLogger(__name__)

FAILURE_TOPIC = "failureTopic"
REMEDIATION_TOPIC = "remediationTopic"
MAIL_SENDER = "notifyMailSender"
ENDPOINT_OVERRIDE = "mnsEndpointOverride"

# Set in a deployment (the template can be checked against these) ...
VARIABLES = (FAILURE_TOPIC, REMEDIATION_TOPIC, MAIL_SENDER)
# ... and read for local runs and tests only.
LOCAL_ONLY_VARIABLES = (ENDPOINT_OVERRIDE,)

# MNS: up to 256 characters (CreateTopic says 255), letters, digits and hyphens, starting
# with a letter or digit. The name goes into the request path, so nothing else may pass.
_TOPIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,254}")
# Alibaba Cloud account ids are 16 digits; the id becomes part of the host name.
_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")
# A DirectMail sender address: what MNS needs to push a message to an e-mail subscription.
_MAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_MAX_MAIL_CHARS = 254

# Time: a notification is worth a few seconds, never the function's timeout.
_TOTAL_BUDGET = 6.0
"""Seconds one notification may take, retries included."""
_ATTEMPT_TIMEOUT = 3.0
"""Seconds one PublishMessage may take, connection included."""
_MIN_ATTEMPT = 0.3
"""Below this much time left, an attempt is not started."""
_RESERVE = 0.2
"""Seconds left to the caller after the last attempt, to return before the deadline."""
# Tries spread over the budget: an SMQ refusal lasting a few seconds (a 5xx, throttling, a
# dropped connection) is outlasted rather than lost; a retry starts only with a second left.
_RETRY = RetryPolicy(
    max_attempts=5, base_delay=0.4, max_delay=1.5, throttled_delay=0.5, request_timeout=1.0
)

# Size: MNS takes 64 KB; these bounds keep a message near 4 KB whatever a report holds.
_MAX_REASON_CHARS = 1024
_MAX_FIELD_CHARS = 256
_MAX_REQUEST_IDS = 8
_MAX_LISTED_BUCKETS = 25
_MAX_LISTED_RULES = 10
_MAX_BODY_BYTES = 16384
_CUT_CHARS = 64
"""What a text keeps in a sweep summary that had to be shortened to fit."""
_MAX_TAG_CHARS = 16  # MNS's limit; subscriptions can filter on the tag
_MAX_SUBJECT_CHARS = 100

_TRANSIENT_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "Throttling", "TooManyRequests", "QpsLimitExceeded"}
)
_CODE = re.compile(r"[A-Za-z0-9.]{1,64}")


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


class NotificationError(ResourceRepairError):
    """A notification MNS refused for a reason another try will not change."""


class TransientNotificationError(NotificationError, TransientError):
    """A timeout, a broken connection, throttling or a 5xx: worth one more try."""


@dataclasses.dataclass(frozen=True)
class NotifySettings:
    failure_topic: str | None = None
    """MNS topic for every ``fail`` result and every sweep with failures; None: off."""
    remediation_topic: str | None = None
    """MNS topic for every ``remediated`` outcome; None: off."""
    mail_sender: str | None = None
    """DirectMail sender address; when set, messages carry the DirectMail attributes that
    MNS needs to push them to e-mail subscriptions."""
    endpoint_override: str | None = None
    """A fake MNS on loopback (``http://127.0.0.1:<port>``), for local runs and tests."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> NotifySettings:
        """Read the settings; raise ConfigurationError naming the variable that is wrong."""
        return cls(
            failure_topic=_topic(environ, FAILURE_TOPIC),
            remediation_topic=_topic(environ, REMEDIATION_TOPIC),
            mail_sender=_mail_sender(environ),
            endpoint_override=loopback_endpoint(environ.get(ENDPOINT_OVERRIDE, "")),
        )


def _topic(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    if not value:
        return None
    if not _TOPIC_NAME.fullmatch(value):
        raise ConfigurationError(
            f"{name}={value[:80]!r} is not an MNS topic name "
            "(letters, digits and hyphens, at most 255, starting with a letter or digit)"
        )
    return value


def _mail_sender(environ: Mapping[str, str]) -> str | None:
    value = environ.get(MAIL_SENDER, "").strip()
    if not value:
        return None
    if len(value) > _MAX_MAIL_CHARS or not _MAIL_ADDRESS.fullmatch(value):
        raise ConfigurationError(f"{MAIL_SENDER}={value[:80]!r} is not an e-mail address")
    return value


def loopback_endpoint(value: str) -> str | None:
    """``http://127.0.0.1:<port>``, ``http://[::1]:<port>`` or ``http://localhost:<port>``.

    Signed requests carry the security token, so the override may only ever point at this
    machine, in clear HTTP (the fake has no TLS).
    """
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    problem = None
    if parts.scheme != "http" or not host:
        problem = "is not an http:// URL"
    elif port is None or port == 0:
        problem = "needs a port from 1 to 65535"
    elif parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        problem = "must be http://host:port and nothing more"
    elif host != "localhost" and not _is_loopback(host):
        problem = "must name a loopback address (127.0.0.0/8, ::1) or localhost"
    if problem:
        raise ConfigurationError(f"{ENDPOINT_OVERRIDE}={value[:80]!r} {problem}")
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mns_endpoint(account_id: str, region: str) -> str:
    """The public HTTPS endpoint of MNS for an account and region.

    The ``-internal`` endpoint is plain HTTP only, and would carry the security token in
    clear text; the public one is TLS and reachable from FC's default network.
    ``account_id`` and ``region`` form the host name, so they are checked here, whoever
    calls (the notifier, or doctor with a template's region): ConfigurationError if not.
    """
    try:
        check_region_id(region)
    except InvalidEventError as exc:
        raise ConfigurationError(f"no SMQ endpoint: {exc}") from None
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ConfigurationError(f"no SMQ endpoint: {account_id[:40]!r} is not an account id")
    return f"https://{account_id}.mns.{region}.aliyuncs.com"


@dataclasses.dataclass(frozen=True)
class Notification:
    """One MNS message: where it goes and what it says."""

    topic: str
    kind: str
    """``failure``, ``remediation`` or ``sweep``: in the body, for whoever reads it."""
    tag: str
    """MNS message tag, at most 16 characters: a subscription's FilterTag can select on it."""
    subject: str
    """The e-mail subject, when a DirectMail sender is configured."""
    body: str


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
            failed = bool(failures) or _summary_failed(summary)
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

    # -- what the messages say -------------------------------------------------------------

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
        record = audit_record(report, fc_request_id, form=form)
        record.pop("audit", None)
        document = {
            "notification": kind,
            **self._origin(),
            **_bounded_record(record),
        }
        bucket = _short(report.bucket or "no bucket", 63)
        where = f" in {_short(report.region, 40)}" if report.region else ""
        subject = f"resource_repair {report.outcome.value}: {bucket}{where}"
        return Notification(
            topic, kind, report.outcome.value[:_MAX_TAG_CHARS], _subject(subject), _body(document)
        )

    def _sweep_notification(
        self,
        summary: Mapping[str, object],
        reports: list[Report],
        fc_request_id: str | None,
        kind: str,
    ) -> Notification:
        head: dict[str, object] = {
            "notification": kind,
            **self._origin(),
            "delivery_form": "sweep",
            "fc_request_id": _short(fc_request_id, _MAX_FIELD_CHARS),
            "status": _short(_text(summary.get("status")), 16),
            "complete": summary.get("complete") is True,
            "outcomes": _counts(summary.get("outcomes")),
            "reason": _short(_text(summary["reason"]), _MAX_REASON_CHARS)
            if "reason" in summary
            else None,
        }
        buckets = [
            {
                "bucket": _short(r.bucket, 63),
                "region": _short(r.region, 40),
                "outcome": r.outcome.value,
                "reason": _short(r.reason, _MAX_FIELD_CHARS),
            }
            for r in reports[:_MAX_LISTED_BUCKETS]
        ]
        body = _sweep_body(head, _rules(summary.get("rules")), buckets, len(reports))
        if kind == "sweep":
            topic = self.settings.failure_topic
            counts = _counts(summary.get("outcomes"))
            failing = _failing(counts)
            subject = f"resource_repair sweep: {max(failing, len(reports))} bucket(s) failed"
            tag = "sweep_failed"
        else:
            topic = self.settings.remediation_topic
            subject = f"resource_repair sweep: {len(reports)} bucket(s) made private"
            tag = "remediated"
        assert topic is not None
        return Notification(topic, kind, tag, _subject(subject), body)

    def _origin(self) -> dict[str, object]:
        now = datetime.datetime.now(datetime.timezone.utc)
        return {
            "source": "resource_repair",
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "account_id": self._account_id if self._valid_account() else None,
            "function_region": _short(self._region, 40),
        }

    # -- sending ---------------------------------------------------------------------------

    def _valid_account(self) -> bool:
        return bool(self._account_id and _ACCOUNT_ID.fullmatch(self._account_id))

    def _endpoint(self) -> str | None:
        """Where to publish, or None (logged) when the account or region is unusable."""
        if self.settings.endpoint_override:
            logger.warning(
                "%s is set: notifications go to %s, not to MNS",
                ENDPOINT_OVERRIDE,
                self.settings.endpoint_override,
            )
            return self.settings.endpoint_override
        if not self._valid_account():
            logger.warning("notification not sent: the function's account id is unknown")
            return None
        try:
            check_region_id(self._region or "")
        except ValueError:
            logger.warning("notification not sent: the function's region is unknown")
            return None
        assert self._account_id is not None
        assert self._region is not None
        return mns_endpoint(self._account_id, self._region)

    def _publish(self, notification: Notification, deadline: Deadline) -> bool:
        what = f"{notification.kind} notification to topic {notification.topic}"
        endpoint = self._endpoint()
        credentials = self._credentials
        if endpoint is None:
            return False
        if credentials is None:
            logger.warning("%s not sent: the function has no credentials", what)
            return False
        # Teach the redactor these credentials, on this logger and the retry loop's too.
        redactor = protect_logs(credentials.secrets)
        for name in (__name__, "resource_repair.retry"):
            if redactor not in logging.getLogger(name).filters:
                logging.getLogger(name).addFilter(redactor)
        budget = Deadline(min(_TOTAL_BUDGET, deadline.remaining() - _RESERVE))
        if budget.remaining() < _MIN_ATTEMPT:
            logger.warning("%s not sent: no time left", what)
            return False
        try:
            message_id = _RETRY.call(
                lambda: _publish_once(endpoint, credentials, notification, self.settings, budget),
                budget,
            )
        except NotificationError as exc:
            logger.warning("%s not sent: %s", what, untrusted(exc))
            return False
        logger.info("%s published, message id %s", what, message_id)
        return True


def _publish_once(
    endpoint: str,
    credentials: Credentials,
    notification: Notification,
    settings: NotifySettings,
    budget: Deadline,
) -> str:
    """One PublishMessage, bounded by the budget whatever the server does."""
    timeout = min(_ATTEMPT_TIMEOUT, budget.remaining())
    if timeout < _MIN_ATTEMPT:
        raise TransientNotificationError("no time left for an attempt")
    account_module, topic_module = _sdk()
    account = account_module.Account(
        endpoint,
        credentials.access_key_id,
        credentials.access_key_secret,
        credentials.security_token,
    )
    client = account.mns_client
    # One connection per message, closed after it; the socket timeout bounds each read,
    # and cutoff.run_within the whole call (a server can drip one byte at a time).
    client.set_keep_alive(False)
    client.set_connection_timeout(timeout)  # plain HTTP: rebuilds the connection with it
    client.http.conn.timeout = timeout  # HTTPS: HTTPSConnection.connect reads this one
    client.http.conn.response_class = bounded_response_class()  # never an endless body
    direct_mail = None
    if settings.mail_sender:
        direct_mail = topic_module.DirectMailInfo(
            account_name=settings.mail_sender,
            subject=notification.subject,
            address_type=0,
            is_html=0,
            reply_to_address=0,
        )
    message = topic_module.TopicMessage(notification.body, notification.tag, direct_mail)
    topic = account.get_topic(notification.topic)

    try:
        # The SDK's connection is known before the call: cut off, should the time run out.
        answer = run_within(
            timeout,
            lambda: topic.publish_message(message),
            "PublishMessage",
            holds=client.http.conn,
        )
    except CallTimedOutError:
        raise TransientNotificationError(f"no answer within {timeout:.1f}s") from None
    except Exception as exc:
        raise _translate(exc) from None
    return str(answer.message_id)


# FC's python3.10 runtime ships ``aliyun-mns`` 1.1.5 as a built-in, under the same module
# name ``mns``; the 1.1.5 on PyPI prints the access key secret and every signature to
# stdout, which FC writes to the function's log. Only the SDK the package carries will do.
MIN_SDK_VERSION = (1, 3, 0)


def _sdk() -> tuple[ModuleType, ModuleType]:
    """The MNS SDK's modules, imported on first use (tens of milliseconds at a cold start);
    NotificationError, before anything is signed, if the ``mns`` found is another one."""
    try:
        info = importlib.import_module("mns.pkg_info")
    except ImportError:
        raise NotificationError("the MNS SDK (aliyun-mns-sdk) is not installed") from None
    name, version = getattr(info, "name", ""), getattr(info, "version", "")
    if name != "aliyun-mns-sdk" or _version(version) < MIN_SDK_VERSION:
        raise NotificationError(
            f"the MNS SDK found is {_short(str(name), 40)} {_short(str(version), 20)}, "
            "not aliyun-mns-sdk>=1.3.0 (older ones print credentials); nothing was sent"
        )
    return importlib.import_module("mns.account"), importlib.import_module("mns.topic")


def _version(text: object) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text if isinstance(text, str) else "")
    return tuple(int(n) for n in numbers[:3])


def _translate(exc: BaseException) -> NotificationError:
    """The SDK's exceptions, as ours. The server's own message is left out: it may echo the
    key id, and this text is logged by the retry loop too."""
    kind = type(exc).__name__
    code = getattr(exc, "type", "")
    code = code if isinstance(code, str) and _CODE.fullmatch(code) else "unknown"
    request_id = getattr(exc, "req_id", None)
    rid = (
        f" (request id {request_id})"
        if isinstance(request_id, str) and _CODE.fullmatch(request_id)
        else ""
    )
    if kind == "MNSServerException":
        text = f"MNS refused PublishMessage: {code}{rid}"
        return (
            TransientNotificationError(text)
            if code in _TRANSIENT_CODES
            else NotificationError(text)
        )
    if kind == "MNSClientNetworkException" or isinstance(exc, OSError):
        return TransientNotificationError(f"network error: {code}{rid}")
    return NotificationError(f"{kind}: {code}")


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


# -- bounding what goes into a message ------------------------------------------------------


def _bounded_record(record: Mapping[str, object]) -> dict[str, object]:
    bounded: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, str):
            limit = _MAX_REASON_CHARS if key == "reason" else _MAX_FIELD_CHARS
            bounded[key] = _short(value, limit)
        elif isinstance(value, list):
            bounded[key] = [_short(_text(v), 64) for v in value[:_MAX_REQUEST_IDS]]
        else:
            bounded[key] = value
    return bounded


def _short(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    known = {o.value for o in Outcome}
    return {
        str(k): int(v)
        for k, v in value.items()
        if k in known and isinstance(v, int) and not isinstance(v, bool)
    }


def _rules(value: object) -> list[object]:
    """The sweep's per-rule entries (``{"reference", "rule_id", "buckets", "complete",
    "error"}``), scalars only and bounded; a plain name passes as a string."""
    if not isinstance(value, (list, tuple)):
        return []
    rules: list[object] = []
    for entry in value[:_MAX_LISTED_RULES]:
        if isinstance(entry, Mapping):
            rules.append(
                {
                    str(k)[:32]: _short(v, _MAX_FIELD_CHARS) if isinstance(v, str) else v
                    for k, v in list(entry.items())[:8]
                    if v is None or isinstance(v, (str, int, float, bool))
                }
            )
        else:
            rules.append(_short(_text(entry), _MAX_FIELD_CHARS))
    return rules


def _summary_failed(summary: Mapping[str, object]) -> bool:
    return summary.get("status") == "fail" or _failing(_counts(summary.get("outcomes"))) > 0


def _failing(counts: Mapping[str, int]) -> int:
    """Buckets whose outcome has status ``fail`` (failed, invalid_event, bucket_replaced)."""
    return sum(n for outcome, n in counts.items() if Outcome(outcome).status == "fail")


def _notified(published: bool) -> Notified:
    return Notified.DELIVERED if published else Notified.UNDELIVERED


def _subject(text: str) -> str:
    # Printable ASCII only: a bucket or rule name must not inject a header line.
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    return printable[:_MAX_SUBJECT_CHARS]


def _json(document: Mapping[str, object]) -> str:
    # Every message body is made here: masked as the log lines are (a reason may quote a
    # server's answer, and a server may echo the token it was sent).
    return json.dumps(redacted(document), ensure_ascii=True, separators=(",", ":"))


def _body(document: Mapping[str, object]) -> str:
    body = _json(document)
    if len(body) <= _MAX_BODY_BYTES:
        return body
    # Unreachable with the bounds above; kept so that no input can make a message too big,
    # and even then the message still names the bucket.
    kept = ("notification", "source", "time", "status", "outcome", "bucket", "region")
    fallback = {k: _short(_text(document.get(k)), 64) for k in kept}
    fallback["reason"] = "message too large to send; see the audit log"
    return _json(fallback)


def _sweep_body(
    head: Mapping[str, object],
    rules: list[object],
    buckets: list[dict[str, str | None]],
    total: int,
) -> str:
    """The sweep's summary, shortened until it fits SMQ's message: first the texts (reasons,
    rule names and errors cut), then the list of buckets halved; the counts always stay, and
    so does the first bucket's name, since a summary that names none sends people hunting."""
    for document in _shortened_sweeps(head, rules, buckets, total):
        body = _json(document)
        if len(body) <= _MAX_BODY_BYTES:
            break
    return body


def _shortened_sweeps(
    head: Mapping[str, object],
    rules: list[object],
    buckets: list[dict[str, str | None]],
    total: int,
) -> Iterator[dict[str, object]]:
    def document(
        head: Mapping[str, object], rules: list[object], shown: list[dict[str, str | None]]
    ) -> dict[str, object]:
        return {**head, "rules": rules, "buckets": shown, "buckets_not_listed": total - len(shown)}

    yield document(head, rules, buckets)
    head = {
        **head,
        "reason": _short(_text(head["reason"]), _CUT_CHARS) if head.get("reason") else None,
    }
    rules = [_cut_rule(entry) for entry in rules]
    buckets = [{**b, "reason": _short(b["reason"], _CUT_CHARS)} for b in buckets]
    shown = len(buckets)
    while True:
        yield document(head, rules, buckets[:shown])
        if shown <= 1:
            break
        shown //= 2
    # The last resort, a few hundred bytes whatever the rules say: counts and one bucket.
    yield {**document(head, [], buckets[:1]), "rules_not_listed": len(rules)}


def _cut_rule(entry: object) -> object:
    if isinstance(entry, Mapping):
        return {k: _short(v, _CUT_CHARS) if isinstance(v, str) else v for k, v in entry.items()}
    return _short(_text(entry), _CUT_CHARS)
