"""Deliveries as FC 3.0's MNS topic trigger hands them over, on FC 3.0's python contexts.

FC 3.0 configures the trigger with the topic subscription's own settings
(``notifyContentFormat`` STREAM or JSON, ``notifyStrategy``, ``filterTag``: the 2023-03-30
API's MNSTopicTriggerConfig), and documents the event as the message in that format, as on
FC 2.0. The ``fc3-*`` events are those formats around a current-generation Cloud Config
message; each must end exactly as its FC 2.0 counterpart does, on python3.10 and on
python3.12 (whose context exists on FC 3.0 only).
"""

from __future__ import annotations

import json

import pytest

from resource_repair.delivery import decode_delivery
from resource_repair.errors import TransientOssError
from resource_repair.testing import OssBackend, fc_context
from tests.conftest import BUCKET, EVENTS, REGION, RULE_NAME, Invoke, load_event

# Before Config's evaluation of the recorded message (2020-07-22): the bucket it reported.
CREATED = "2020-07-01T00:00:00.000Z"
CURRENT = json.loads((EVENTS / "noncompliance-oss-current-plain.json").read_text())

# Each FC 3.0 delivery, how it decodes, and the FC 2.0 recording of the same delivery.
FC3_NON_COMPLIANCE = [
    ("fc3-noncompliance-oss-current-stream.txt", "stream", "noncompliance-oss-current-stream.txt"),
    ("fc3-noncompliance-oss-current-attrs.json", "attrs", "noncompliance-oss-current-attrs.json"),
    (
        "fc3-noncompliance-oss-current-json-envelope.json",
        "json",
        "noncompliance-oss-current-json-envelope.json",
    ),
    (
        "fc3-noncompliance-oss-current-json-envelope-attrs.json",
        "json",
        "noncompliance-oss-current-json-envelope.json",
    ),
]


@pytest.mark.parametrize(("name", "form", "_fc2"), FC3_NON_COMPLIANCE)
def test_every_fc3_format_yields_the_cloud_config_message(name: str, form: str, _fc2: str) -> None:
    delivery = decode_delivery(load_event(name))
    assert delivery.form == form
    assert delivery.message == CURRENT


def test_message_attributes_in_the_json_format_are_kept_beside_the_envelope() -> None:
    delivery = decode_delivery(load_event("fc3-noncompliance-oss-current-json-envelope-attrs.json"))
    assert delivery.attributes["key"] == "value"
    assert delivery.attributes["TopicName"] == "SMQTestConfig"


def _outcome(result: dict[str, object]) -> dict[str, object]:
    """A result without what differs between any two invocations."""
    return {k: v for k, v in result.items() if k != "request_ids"}


@pytest.mark.parametrize(("name", "_form", "fc2"), FC3_NON_COMPLIANCE)
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_an_fc3_delivery_makes_the_bucket_private_exactly_as_on_fc2(
    fake_oss: OssBackend, invoke: Invoke, name: str, _form: str, fc2: str, runtime: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    result = invoke(load_event(name), runtime)
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert result["reason"] == "changed public-read to private"
    assert (result["bucket"], result["region"], result["rule"]) == (BUCKET, REGION, RULE_NAME)
    assert fake_oss.acl_of(BUCKET) == "private"
    assert fake_oss.operations() == ["GetBucketInfo", "PutBucketAcl", "GetBucketInfo"]

    # The same scene again, for the FC 2.0 recording.
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    assert _outcome(invoke(load_event(fc2), runtime)) == _outcome(result)


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_an_fc3_change_notification_is_ignored_without_a_request(
    fake_oss: OssBackend, invoke: Invoke, runtime: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event("fc3-change-notification-oss-stream.txt"), runtime)
    assert (result["status"], result["outcome"]) == ("success", "ignored")
    assert fake_oss.calls == []


def test_a_cloudevents_envelope_fails_loudly_instead_of_being_ignored(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    """No documentation shows FC 3.0's topic trigger wrapping a message in CloudEvents (its
    queue trigger does). Should one arrive, it must not pass for "not about a bucket": a
    `fail` result reaches the failure topic, and nothing is written."""
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    result = invoke(load_event("fc3-undocumented-cloudevents-envelope.json"))
    assert (result["status"], result["outcome"]) == ("fail", "invalid_event")
    assert "CloudEvents envelope" in result["reason"]
    assert fake_oss.calls == []


def test_the_python312_context_carries_what_fc3_documents() -> None:
    """FC 3.0's python3.12 FCContext: no credentials, no service; log settings and a
    logger at the top level; the function's version and qualifier."""
    context = fc_context("python3.12", timeout=45)
    assert not hasattr(context, "credentials")
    assert not hasattr(context, "service")
    assert (context.log_project, context.log_store, context.logger) == ("", "", None)  # type: ignore[union-attr]
    assert (context.function.timeout, context.function.qualifier) == (45, "LATEST")  # type: ignore[union-attr]
    assert context.region == REGION
    assert context.account_id.isdigit()


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_the_handler_keeps_to_the_fc3_contexts_timeout(
    fake_oss: OssBackend, invoke: Invoke, waits: list[float], runtime: str
) -> None:
    """The timeout comes from context.function.timeout on both FC 3.0 runtimes: with too
    little time left for another OSS attempt the delivery is handed back to FC at once."""
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(100, status=503)
    with pytest.raises(TransientOssError):
        invoke(load_event("fc3-noncompliance-oss-current-stream.txt"), runtime, timeout=3)
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert waits == []
