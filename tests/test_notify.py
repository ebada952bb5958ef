"""Notifications: every failure reaches the failure topic, remediations the remediation
topic when one is set, through the real MNS SDK against the loopback fake MNS; and a
notification never raises, never overruns its deadline and never logs a secret."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from resource_repair import notification, notify, smq
from resource_repair.credentials import Credentials
from resource_repair.errors import ConfigurationError
from resource_repair.notify import Notified, Notifier
from resource_repair.notify_settings import NotifySettings
from resource_repair.report import Outcome, Report
from resource_repair.retry import Deadline
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    fc_context,
    fc_environment,
)
from resource_repair.testing.mns import Fault, MnsBackend, SlowDripServer, fake_mns_server

FAILURES = "repair-failures"
REMEDIATIONS = "repair-remediations"
REGION = "cn-hangzhou"
CREDENTIALS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
SECRETS = (CREDENTIALS.access_key_id, CREDENTIALS.access_key_secret, CREDENTIALS.security_token)

ACCESS_DENIED = Report(
    Outcome.FAILED,
    "PutBucketAcl failed: HTTP 403 AccessDenied You have no right to access this bucket.",
    bucket="shop-assets",
    region="ap-southeast-1",
    rule="oss-bucket-public-read-prohibited",
    acl_before="public-read",
    request_ids=("5F1A0B2C3D4E5F6A7B8C9D0E",),
)
REMEDIATED = Report(
    Outcome.REMEDIATED,
    "ACL was public-read, now private",
    bucket="team-site",
    region="cn-hangzhou",
    rule="oss-bucket-public-read-prohibited",
    acl_before="public-read",
    acl_after="private",
)


@pytest.fixture
def fake_mns() -> Iterator[tuple[MnsBackend, str]]:
    """A fake MNS on loopback with both topics, and its URL."""
    backend = MnsBackend()
    backend.create_topic(FAILURES)
    backend.create_topic(REMEDIATIONS)
    with fake_mns_server(backend) as server:
        yield backend, server.url
        backend.release()


def notifier(
    url: str,
    *,
    credentials: Credentials | None = CREDENTIALS,
    account_id: str | None = DEFAULT_ACCOUNT_ID,
    region: str | None = REGION,
    **env: str,
) -> Notifier:
    environ = {"failureTopic": FAILURES, "mnsEndpointOverride": url, **env}
    return Notifier.from_env(environ, credentials, region, account_id)


def body(message: Any) -> dict[str, Any]:
    document = json.loads(message.body)
    assert isinstance(document, dict)
    return document


def free_port() -> int:
    """A loopback port nobody listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- what is published, and where ---------------------------------------------------------


def test_a_fail_result_publishes_one_message_with_the_audit_fields(
    fake_mns: tuple[MnsBackend, str],
) -> None:
    backend, url = fake_mns

    sent = notifier(url).report_outcome(ACCESS_DENIED, "fc-req-1", Deadline(10), form="stream")

    assert sent is Notified.DELIVERED
    [message] = backend.messages(FAILURES)
    assert backend.messages(REMEDIATIONS) == []
    document = body(message)
    assert document["notification"] == "failure"
    assert document["status"] == "fail"
    assert document["outcome"] == "failed"
    assert document["reason"] == ACCESS_DENIED.reason
    assert document["bucket"] == "shop-assets"
    assert document["region"] == "ap-southeast-1"
    assert document["rule"] == "oss-bucket-public-read-prohibited"
    assert document["request_ids"] == ["5F1A0B2C3D4E5F6A7B8C9D0E"]
    assert document["fc_request_id"] == "fc-req-1"
    assert document["delivery_form"] == "stream"
    assert document["account_id"] == DEFAULT_ACCOUNT_ID
    assert document["function_region"] == REGION
    # Subscriptions can filter on the tag; the fake checked the signature and the token.
    assert message.tag == "failed"
    assert message.key_id == CREDENTIALS.access_key_id
    assert message.security_token == CREDENTIALS.security_token
    assert message.attributes == {}


@pytest.mark.parametrize(
    "report",
    [
        Report(Outcome.INVALID_EVENT, "'Config-Snapshot' is not a valid OSS bucket name"),
        Report(
            Outcome.FAILED,
            "configuration: exemptBuckets entry 'Config-Snapshot' is not a bucket name",
        ),
        Report(
            Outcome.FAILED,
            "PutBucketAcl was accepted but the bucket is still public-read",
            bucket="shop-assets",
            region="ap-southeast-1",
        ),
    ],
    ids=["invalid-event", "configuration", "write-did-not-stick"],
)
def test_every_kind_of_failure_is_published(
    fake_mns: tuple[MnsBackend, str], report: Report
) -> None:
    backend, url = fake_mns

    assert notifier(url).report_outcome(report, "fc-req-2", Deadline(10)) is Notified.DELIVERED

    [message] = backend.messages(FAILURES)
    assert body(message)["outcome"] == report.outcome.value
    assert body(message)["reason"] == report.reason


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome.ALREADY_PRIVATE,
        Outcome.BUCKET_NOT_FOUND,
        Outcome.DRY_RUN,
        Outcome.EXEMPT,
        Outcome.IGNORED,
        Outcome.REMEDIATED,
    ],
)
def test_successes_publish_nothing_without_a_remediation_topic(
    fake_mns: tuple[MnsBackend, str], outcome: Outcome
) -> None:
    backend, url = fake_mns

    sent = notifier(url).report_outcome(Report(outcome, "fine", bucket="b-1"), None, Deadline(10))

    assert sent is Notified.NONE
    assert backend.requests == 0


def test_remediated_goes_to_the_remediation_topic_when_it_is_set(
    fake_mns: tuple[MnsBackend, str],
) -> None:
    backend, url = fake_mns
    both = notifier(url, remediationTopic=REMEDIATIONS)

    assert both.report_outcome(REMEDIATED, "fc-req-3", Deadline(10)) is Notified.DELIVERED
    assert (
        both.report_outcome(Report(Outcome.ALREADY_PRIVATE, "ok"), None, Deadline(10))
        is Notified.NONE
    )

    [message] = backend.messages(REMEDIATIONS)
    assert backend.messages(FAILURES) == []
    document = body(message)
    assert document["notification"] == "remediation"
    assert document["bucket"] == "team-site"
    assert (document["acl_before"], document["acl_after"]) == ("public-read", "private")
    assert message.tag == "remediated"


def test_empty_topic_names_switch_notifications_off(fake_mns: tuple[MnsBackend, str]) -> None:
    backend, url = fake_mns
    off = notifier(url, failureTopic="", remediationTopic=" ")

    assert off.enabled is False
    assert off.report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED
    assert off.report_outcome(REMEDIATED, None, Deadline(10)) is Notified.NONE
    assert backend.requests == 0


def test_a_mail_sender_adds_the_direct_mail_attributes_with_a_safe_subject(
    fake_mns: tuple[MnsBackend, str],
) -> None:
    backend, url = fake_mns
    hostile = ACCESS_DENIED.replace(region="ap-southeast-1\r\nBcc: victim@example.com")

    notifier(url, notifyMailSender="alerts@mail.example.com").report_outcome(
        hostile, None, Deadline(10)
    )

    [message] = backend.messages(FAILURES)
    mail = json.loads(message.attributes["DirectMail"])
    assert mail["AccountName"] == "alerts@mail.example.com"
    assert mail["Subject"].startswith("resource_repair failed: shop-assets in ap-southeast-1")
    assert "\r" not in mail["Subject"]
    assert "\n" not in mail["Subject"]
    assert len(mail["Subject"]) <= 100


def test_a_message_stays_small_and_ascii_whatever_the_report_holds(
    fake_mns: tuple[MnsBackend, str],
) -> None:
    backend, url = fake_mns
    huge = Report(
        Outcome.FAILED,
        "x" * 80_000 + "\u202e\u00e9",
        bucket="b" * 5000,
        rule="r" * 80_000,
        request_ids=tuple(f"id{i}" for i in range(1000)),
    )

    assert notifier(url).report_outcome(huge, "fc" * 5000, Deadline(10)) is Notified.DELIVERED

    [message] = backend.messages(FAILURES)
    assert len(message.body.encode()) <= 4096
    assert message.body.isascii()
    document = body(message)
    assert document["reason"].startswith("xxx")
    assert document["reason"].endswith("...")
    assert len(document["request_ids"]) == 8


# -- the sweep ----------------------------------------------------------------------------


def test_a_sweep_with_failures_sends_one_bounded_summary(fake_mns: tuple[MnsBackend, str]) -> None:
    backend, url = fake_mns
    failed = [
        Report(Outcome.FAILED, "AccessDenied", bucket=f"bucket-{i:02d}", region=REGION)
        for i in range(30)
    ]
    fixed = [REMEDIATED.replace(bucket=f"site-{i}") for i in range(3)]
    summary = {
        "status": "fail",
        "outcomes": {"failed": 30, "remediated": 3, "already_private": 7},
        "complete": False,
        "rules": [
            {
                "reference": "oss-bucket-public-read-prohibited",
                "rule_id": "cr-610ad6e0007300a80001",
                "buckets": 40,
                "complete": False,
                "error": None,
            }
        ],
    }
    both = notifier(url, remediationTopic=REMEDIATIONS)

    assert (
        both.report_sweep(summary, [*failed, *fixed], Deadline(10), "fc-sweep-1")
        is Notified.DELIVERED
    )

    [failure] = backend.messages(FAILURES)
    document = body(failure)
    assert document["notification"] == "sweep"
    assert document["outcomes"] == {"failed": 30, "remediated": 3, "already_private": 7}
    assert document["complete"] is False
    assert document["rules"] == summary["rules"]
    assert [b["bucket"] for b in document["buckets"]] == [f"bucket-{i:02d}" for i in range(25)]
    assert document["buckets_not_listed"] == 5
    assert failure.tag == "sweep_failed"
    [remediation] = backend.messages(REMEDIATIONS)
    assert [b["bucket"] for b in body(remediation)["buckets"]] == ["site-0", "site-1", "site-2"]


def test_a_large_sweep_summary_is_shortened_and_still_names_the_first_buckets(
    fake_mns: tuple[MnsBackend, str],
) -> None:
    # Rule names are free text, often Chinese (six bytes a character once escaped): with
    # long reasons they took the summary past 16 KB, and it was replaced by a message that
    # named no bucket at all.
    backend, url = fake_mns
    failed = [
        Report(Outcome.FAILED, f"PutBucketAcl failed: {'AccessDenied ' * 40}", bucket=f"b-{i:03d}")
        for i in range(400)
    ]
    rules = [
        {
            "reference": f"{i}-" + "\u7981\u6b62\u516c\u5171\u8bfb" * 60,
            "rule_id": f"cr-{i:020d}",
            "buckets": 40,
            "complete": False,
            "error": "ListConfigRuleEvaluationResults failed: " + "e" * 400,
        }
        for i in range(12)
    ]
    summary = {"status": "fail", "outcomes": {"failed": 400}, "complete": False, "rules": rules}

    assert notifier(url).report_sweep(summary, failed, Deadline(10)) is Notified.DELIVERED

    [message] = backend.messages(FAILURES)
    assert len(message.body.encode()) <= 16384
    document = body(message)
    listed = [b["bucket"] for b in document["buckets"]]
    assert len(listed) >= 1
    assert listed == [f"b-{i:03d}" for i in range(len(listed))]
    assert document["buckets_not_listed"] == 400 - len(listed)
    assert document["outcomes"] == {"failed": 400}
    assert [rule["rule_id"] for rule in document["rules"]] == [f"cr-{i:020d}" for i in range(10)]
    assert all(len(rule["reference"]) <= 64 for rule in document["rules"])


def test_a_sweep_summary_that_cannot_fit_keeps_the_counts_and_one_bucket(
    fake_mns: tuple[MnsBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, url = fake_mns
    monkeypatch.setattr(
        notification, "_MAX_BODY_BYTES", 1024
    )  # the smallest limit a topic can have
    failed = [Report(Outcome.FAILED, "x" * 300, bucket=f"b-{i:03d}") for i in range(30)]
    rules = [{"reference": "r" * 200, "error": "e" * 200} for _ in range(10)]
    summary = {"status": "fail", "outcomes": {"failed": 30}, "reason": "z" * 900, "rules": rules}

    assert notifier(url).report_sweep(summary, failed, Deadline(10)) is Notified.DELIVERED

    [message] = backend.messages(FAILURES)
    assert len(message.body.encode()) <= 1024
    document = body(message)
    assert [b["bucket"] for b in document["buckets"]] == ["b-000"]
    assert (document["buckets_not_listed"], document["rules_not_listed"]) == (29, 10)
    assert document["outcomes"] == {"failed": 30}


def test_a_clean_sweep_sends_nothing(fake_mns: tuple[MnsBackend, str]) -> None:
    backend, url = fake_mns
    summary = {"status": "success", "outcomes": {"already_private": 4}, "complete": True}

    assert notifier(url).report_sweep(summary, [], Deadline(10)) is Notified.NONE
    assert backend.requests == 0


# -- settings and endpoints ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("failureTopic", "repair_failures"),
        ("failureTopic", "-leading-hyphen"),
        ("failureTopic", "a" * 256),
        ("failureTopic", "topics/../queues/x"),
        ("remediationTopic", "x.evil.example"),
        ("notifyMailSender", "not-an-address"),
        ("mnsEndpointOverride", "http://10.0.0.8:9000"),
        ("mnsEndpointOverride", "http://100.100.100.200:80"),
        ("mnsEndpointOverride", "http://169.254.0.1:80"),
        ("mnsEndpointOverride", "https://127.0.0.1:9000"),
        ("mnsEndpointOverride", "http://127.0.0.1"),
        ("mnsEndpointOverride", "http://127.0.0.1:x"),
        ("mnsEndpointOverride", "http://127.0.0.1:99999"),
        ("mnsEndpointOverride", "http://evil.example:80"),
        ("mnsEndpointOverride", "http://127.0.0.1:9000/path"),
    ],
)
def test_a_bad_setting_is_a_configuration_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        NotifySettings.from_env({"failureTopic": FAILURES, name: value})


def test_the_override_accepts_loopback_only() -> None:
    for value in ("http://127.0.0.1:9000", "http://127.8.9.10:1", "http://localhost:80"):
        assert NotifySettings.from_env({"mnsEndpointOverride": value}).endpoint_override == value
    ipv6 = NotifySettings.from_env({"mnsEndpointOverride": "http://[::1]:9000"})
    assert ipv6.endpoint_override == "http://[::1]:9000"


def test_without_override_it_publishes_over_https_to_the_accounts_mns_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real SDK, stopped at name resolution: no packet leaves the machine."""
    looked_up: list[tuple[object, object]] = []

    def no_network(host: object, port: object, *args: Any, **kwargs: Any) -> Any:
        looked_up.append((host, port))
        raise socket.gaierror("tests never reach the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    production = Notifier(NotifySettings(failure_topic=FAILURES), CREDENTIALS, REGION, "1234567890")

    assert production.report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED
    assert looked_up
    assert set(looked_up) == {("1234567890.mns.cn-hangzhou.aliyuncs.com", 443)}


@pytest.mark.parametrize(
    ("account_id", "region"),
    [
        (None, REGION),
        ("evil.example/#", REGION),
        ("1234567890", None),
        ("1234567890", "x.evil.example/#"),
    ],
)
def test_a_host_is_never_built_from_an_unvalidated_account_or_region(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    account_id: str | None,
    region: str | None,
) -> None:
    looked_up: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host))
    production = Notifier(NotifySettings(failure_topic=FAILURES), CREDENTIALS, region, account_id)

    with caplog.at_level(logging.WARNING):
        assert production.report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED

    assert looked_up == []
    assert "notification not sent" in caplog.text


# -- trouble: never raises, never overruns, says why ---------------------------------------


def test_a_refused_connection_is_tried_again_then_logged_and_returns(
    caplog: pytest.LogCaptureFixture, waits: list[float]
) -> None:
    dead = notifier(f"http://127.0.0.1:{free_port()}")
    start = time.monotonic()

    with caplog.at_level(logging.WARNING):
        assert dead.report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED

    assert len(waits) == 4  # five attempts, the waits between them recorded, not slept
    assert time.monotonic() - start < 2
    assert 'failure notification to topic repair-failures not sent: "network error' in caplog.text


def test_a_silent_server_is_cut_off_before_the_deadline(fake_mns: tuple[MnsBackend, str]) -> None:
    backend, url = fake_mns
    backend.inject(Fault.delay(30), times=5)
    start = time.monotonic()

    assert notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(1.5)) is Notified.UNDELIVERED

    assert time.monotonic() - start < 1.5


def test_a_server_dripping_bytes_is_cut_off_by_the_total_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each byte arrives well within the socket timeout: only the watchdog ends the call."""
    monkeypatch.setattr(smq, "_TOTAL_BUDGET", 1.2)
    monkeypatch.setattr(smq, "_ATTEMPT_TIMEOUT", 1.0)
    with SlowDripServer(interval=0.1) as drip:
        start = time.monotonic()
        assert (
            notifier(drip.url).report_outcome(ACCESS_DENIED, None, Deadline(60))
            is Notified.UNDELIVERED
        )
        elapsed = time.monotonic() - start
    assert drip.connections >= 1
    assert elapsed < 1.5


def test_no_attempt_starts_when_no_time_is_left(fake_mns: tuple[MnsBackend, str]) -> None:
    backend, url = fake_mns

    assert notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(0.2)) is Notified.UNDELIVERED
    assert backend.requests == 0


def test_a_transient_error_is_tried_once_more(
    fake_mns: tuple[MnsBackend, str], waits: list[float]
) -> None:
    backend, url = fake_mns
    backend.inject(Fault.error(503, "ServiceUnavailable"))

    assert notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.DELIVERED

    assert backend.requests == 2
    assert len(backend.messages(FAILURES)) == 1
    assert len(waits) == 1


def test_retries_after_refusals_keep_to_the_time_left(fake_mns: tuple[MnsBackend, str]) -> None:
    # Real waits here: the attempts are spread over the time the caller has, never past it.
    backend, url = fake_mns
    backend.inject(Fault.error(503, "ServiceUnavailable"), times=100)
    start = time.monotonic()

    assert notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(2.5)) is Notified.UNDELIVERED

    assert time.monotonic() - start < 2.5
    assert backend.requests >= 2
    assert backend.messages(FAILURES) == []


@pytest.mark.parametrize("code", ["AccessDenied", "TopicNotExist"])
def test_a_refusal_is_logged_with_its_code_and_not_retried(
    fake_mns: tuple[MnsBackend, str], caplog: pytest.LogCaptureFixture, code: str
) -> None:
    backend, url = fake_mns
    topic = "never-created" if code == "TopicNotExist" else FAILURES
    if code == "AccessDenied":
        backend.inject(Fault.error(403, code))

    with caplog.at_level(logging.WARNING):
        assert (
            notifier(url, failureTopic=topic).report_outcome(ACCESS_DENIED, None, Deadline(10))
            is Notified.UNDELIVERED
        )

    assert backend.requests == 1
    assert f"MNS refused PublishMessage: {code}" in caplog.text


def test_no_credentials_means_a_warning_not_an_error(
    fake_mns: tuple[MnsBackend, str], caplog: pytest.LogCaptureFixture
) -> None:
    backend, url = fake_mns
    with caplog.at_level(logging.WARNING):
        assert (
            notifier(url, credentials=None).report_outcome(ACCESS_DENIED, None, Deadline(10))
            is Notified.UNDELIVERED
        )
    assert backend.requests == 0
    assert "no credentials" in caplog.text


def test_an_internal_error_while_notifying_is_swallowed(
    fake_mns: tuple[MnsBackend, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fake_mns

    def broken(document: object) -> str:
        raise RuntimeError("a defect of ours")

    monkeypatch.setattr(notification, "_json", broken)

    assert notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED
    assert (
        notifier(url).report_sweep({"status": "fail"}, [ACCESS_DENIED], Deadline(10))
        is Notified.UNDELIVERED
    )


def test_an_mns_sdk_that_prints_credentials_is_refused(
    fake_mns: tuple[MnsBackend, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """FC's python3.10 ships aliyun-mns 1.1.5 as module ``mns``; it must never be used."""
    import mns.pkg_info  # type: ignore[import-untyped]  # the SDK ships no types

    backend, url = fake_mns
    monkeypatch.setattr(mns.pkg_info, "name", "aliyun-mns")
    monkeypatch.setattr(mns.pkg_info, "version", "1.1.5")

    with caplog.at_level(logging.WARNING):
        assert (
            notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(10)) is Notified.UNDELIVERED
        )

    assert backend.requests == 0
    assert "not aliyun-mns-sdk>=1.3.0" in caplog.text


# -- secrets and cold starts --------------------------------------------------------------


def test_no_secret_reaches_a_log_line_or_stdout_at_debug(
    fake_mns: tuple[MnsBackend, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    backend, url = fake_mns
    stranger = Credentials("STS.NUnknownKeyIdDoNotLog7", "UnknownSecretDoNotLog123", "TokDoNotLog9")
    wrong_secret = Credentials(
        CREDENTIALS.access_key_id, "WrongSecretDoNotLog456", CREDENTIALS.security_token
    )
    caplog.set_level(logging.DEBUG)

    notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(10))
    notifier(url, credentials=stranger).report_outcome(ACCESS_DENIED, None, Deadline(10))
    notifier(url, credentials=wrong_secret).report_outcome(ACCESS_DENIED, None, Deadline(10))
    backend.inject(Fault.delay(30), times=3)
    notifier(url).report_outcome(ACCESS_DENIED, None, Deadline(1))

    printed = capfd.readouterr()
    logged = caplog.text + printed.out + printed.err
    assert "InvalidAccessKeyId" in logged
    assert "SignatureDoesNotMatch" in logged
    for secret in (*SECRETS, *stranger.secrets, *wrong_secret.secrets):
        assert secret not in logged
    assert len(backend.messages(FAILURES)) == 1


def test_the_publishers_keys_are_masked_from_its_first_message_on(
    fake_mns: tuple[MnsBackend, str], caplog: pytest.LogCaptureFixture
) -> None:
    # Keys no other part of the function uses (a role of the notifier's own): whatever an
    # SDK or the retry loop logs of them from then on shows none, in clear or in hex.
    _, url = fake_mns
    own = Credentials("STS.PublisherKeyId", f"Pub{uuid.uuid4().hex}", f"Tok{uuid.uuid4().hex}")
    notifier(url, credentials=own).report_outcome(ACCESS_DENIED, None, Deadline(10))
    caplog.set_level(logging.DEBUG)
    for secret in own.secrets:
        logging.getLogger("resource_repair.notify").warning("refused %s", secret)
        logging.getLogger("resource_repair.retry").warning("retry %s", secret.encode().hex())
    for secret in own.secrets:
        assert secret not in caplog.text
        assert secret.encode().hex() not in caplog.text


def test_the_sdk_is_imported_only_when_a_message_is_sent() -> None:
    code = (
        "import sys\n"
        "from resource_repair.notify import Notifier, NotifySettings\n"
        "from resource_repair.report import Outcome, Report\n"
        "from resource_repair.retry import Deadline\n"
        "n = Notifier(NotifySettings(failure_topic='t'), None, 'cn-hangzhou', '1')\n"
        "n.report_outcome(Report(Outcome.IGNORED, 'not ours'), None, Deadline(5))\n"
        "print('mns' in sys.modules)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


# -- the handler's entry point, with FC's contexts ------------------------------------------


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_notify_outcome_reads_credentials_region_and_account_from_fcs_context(
    fake_mns: tuple[MnsBackend, str], runtime: str
) -> None:
    backend, url = fake_mns
    environ = {"failureTopic": FAILURES, "mnsEndpointOverride": url}
    if runtime == "python3.12":  # no credentials on this context: FC sets the variables
        environ.update(fc_environment())
    context = fc_context(runtime, region=REGION)

    sent = notify.notify_outcome(ACCESS_DENIED, context, environ, "fc-req-9", Deadline(10))

    assert sent is Notified.DELIVERED
    [message] = backend.messages(FAILURES)
    assert message.key_id == CREDENTIALS.access_key_id
    assert message.security_token == CREDENTIALS.security_token
    assert body(message)["account_id"] == DEFAULT_ACCOUNT_ID
    assert body(message)["function_region"] == REGION


def test_notify_outcome_skips_quiet_outcomes_and_bad_settings_without_raising(
    fake_mns: tuple[MnsBackend, str], caplog: pytest.LogCaptureFixture
) -> None:
    backend, url = fake_mns
    context = fc_context("python3.10", region=REGION)
    good = {"failureTopic": FAILURES, "mnsEndpointOverride": url}
    bad = {"failureTopic": "not_a_topic", "mnsEndpointOverride": url}

    with caplog.at_level(logging.WARNING):
        quiet = Report(Outcome.ALREADY_PRIVATE, "ok")
        assert notify.notify_outcome(quiet, context, good, None, Deadline(10)) is Notified.NONE
        assert (
            notify.notify_outcome(ACCESS_DENIED, context, bad, None, Deadline(10))
            is Notified.UNDELIVERED
        )

    assert backend.requests == 0
    assert "failureTopic='not_a_topic' is not an MNS topic name" in caplog.text


@pytest.mark.parametrize(
    ("account", "region"),
    [("1698272328540001", "x.evil.example/#"), ("1698272328540001.evil.example", REGION)],
)
def test_the_smq_host_is_never_built_from_an_unchecked_account_or_region(
    account: str, region: str
) -> None:
    # doctor builds it from a template's region: a copied template must not aim signed
    # requests at another host.
    from resource_repair.errors import ConfigurationError
    from resource_repair.smq import mns_endpoint

    with pytest.raises(ConfigurationError):
        mns_endpoint(account, region)
