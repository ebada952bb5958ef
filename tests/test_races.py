"""Races with whoever else deletes and creates buckets, reported truthfully.

The recorded non-compliance results say Config evaluated the bucket by
2020-07-22T12:03:16.740Z (their latest evaluation timestamp, ``resultRecordedTimestamp``).
Every bucket here gets an explicit creation date on that scale, since the fake OSS's own
clock is today's; a bucket that OSS's PutBucketAcl quirk creates is dated today, which is
after the evaluation, as it would be in real life.
"""

from __future__ import annotations

import datetime
import json

import pytest

from resource_repair.errors import TransientOssError
from resource_repair.message import NonComplianceEvent, classify_message
from resource_repair.remediation import remediate_event
from resource_repair.retry import Deadline
from resource_repair.settings import Settings
from resource_repair.testing import DEFAULT_ACCOUNT_ID, OssBackend, fc_context
from tests.conftest import BUCKET, REGION, RULE_NAME, Invoke, load_event

EVENT = load_event("noncompliance-oss-stream.txt")
EVALUATED = "2020-07-22T12:03:16.740Z"
BEFORE_EVALUATION = "2020-07-22T08:00:00.000Z"
AFTER_EVALUATION = "2020-07-22T13:00:00.000Z"
READ_WRITE_READ = ["GetBucketInfo", "PutBucketAcl", "GetBucketInfo"]
RUNTIMES = ["python3.10", "python3.12"]


def delete_it(oss: OssBackend) -> None:
    oss.delete_bucket(BUCKET)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_deleted_between_the_write_and_the_read_back_says_the_write_was_made(
    fake_oss: OssBackend, invoke: Invoke, runtime: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=BEFORE_EVALUATION)
    fake_oss.before_next("PutBucketAcl", lambda oss: oss.before_next("GetBucketInfo", delete_it))
    result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("success", "bucket_not_found")
    assert "PutBucketAcl was accepted" in result["reason"]
    assert "deleted during remediation" in result["reason"]
    assert "not written" not in result["reason"]
    assert (result["acl_before"], result["acl_after"]) == ("public-read", None)
    assert fake_oss.operations() == READ_WRITE_READ
    assert result["request_ids"] == [call.request_id for call in fake_oss.calls]
    assert fake_oss.buckets == {}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_bucket_our_write_recreated_is_not_already_private_on_redelivery(
    fake_oss: OssBackend, invoke: Invoke, runtime: str
) -> None:
    """Deleted between our read and our write, so PutBucketAcl re-created it; the read-back
    was throttled for good, so FC delivers the message again."""
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=BEFORE_EVALUATION)

    def race(oss: OssBackend) -> None:
        oss.delete_bucket(BUCKET)
        oss.fail_next(99, operation="GetBucketInfo", code="MetaOperationQpsLimitExceeded")

    fake_oss.before_next("PutBucketAcl", race)
    with pytest.raises(TransientOssError):
        invoke(EVENT, runtime)
    assert fake_oss.buckets[BUCKET].created_by_put_acl  # OSS's quirk happened

    fake_oss.faults.clear()  # the throttling passed; FC's retry arrives
    first_attempt = len(fake_oss.calls)
    result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("fail", "bucket_replaced")
    assert result["acl_before"] == result["acl_after"] == "private"
    assert f"after Config's evaluation at {EVALUATED}" in result["reason"]
    assert "earlier PutBucketAcl of this function" in result["reason"]
    assert "owner's new bucket" in result["reason"]
    assert "delete it" not in result["reason"]
    assert fake_oss.operations()[first_attempt:] == ["GetBucketInfo"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_reason_for_a_recreated_bucket_does_not_tell_the_operator_to_delete_it(
    fake_oss: OssBackend, invoke: Invoke, runtime: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=BEFORE_EVALUATION)
    fake_oss.before_next("PutBucketAcl", delete_it)
    result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("fail", "bucket_replaced")
    reason = result["reason"]
    assert "re-created during remediation" in reason
    assert f"the one read was created {BEFORE_EVALUATION}" in reason
    # Who created it is unknown: both possibilities are named, neither is asserted.
    assert "either our write created it or someone else did" in reason
    assert "delete it" not in reason
    assert fake_oss.buckets[BUCKET].created_by_put_acl


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_private_bucket_created_after_the_evaluation_is_not_simply_already_private(
    fake_oss: OssBackend, invoke: Invoke, runtime: str
) -> None:
    """The owner deleted the public bucket and made a new, private one of the same name."""
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=AFTER_EVALUATION)
    result = invoke(EVENT, runtime)
    assert (result["status"], result["outcome"]) == ("fail", "bucket_replaced")
    assert (
        f"created {AFTER_EVALUATION}, after Config's evaluation at {EVALUATED}"
        in (result["reason"])
    )
    assert "not the bucket Config evaluated" in result["reason"]
    assert "was not written" in result["reason"]
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_a_public_bucket_created_after_the_evaluation_is_made_private_and_says_so(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    """Still a public bucket in the account: made private, without claiming it was the one
    Config reported."""
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=AFTER_EVALUATION)
    result = invoke(EVENT)
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert "newer bucket than the one Config reported" in result["reason"]
    assert fake_oss.acl_of(BUCKET) == "private"
    assert fake_oss.operations() == READ_WRITE_READ


def test_dry_run_on_a_bucket_created_after_the_evaluation_says_so(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dryRun", "true")
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=AFTER_EVALUATION)
    result = invoke(EVENT)
    assert result["outcome"] == "dry_run"
    assert "newer bucket than the one Config reported" in result["reason"]


@pytest.mark.parametrize(
    "created",
    [BEFORE_EVALUATION, "2020-07-22T12:03:17.000Z"],  # the second: inside the clock tolerance
)
def test_the_bucket_config_evaluated_is_already_private(
    fake_oss: OssBackend, invoke: Invoke, created: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=created)
    result = invoke(EVENT)
    assert (result["outcome"], result["reason"]) == ("already_private", "bucket is already private")


def test_without_an_evaluation_time_nothing_is_claimed(
    fake_oss: OssBackend, invoke: Invoke
) -> None:
    message = json.loads(load_event("noncompliance-oss-plain.json"))
    for key in ("resultRecordedTimestamp", "configRuleInvokedTimestamp"):
        del message[key]
    del message["evaluationResultIdentifier"]["orderingTimestamp"]
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=AFTER_EVALUATION)
    assert invoke(json.dumps(message))["outcome"] == "already_private"


def test_the_current_generation_is_dated_the_same_way(fake_oss: OssBackend, invoke: Invoke) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=AFTER_EVALUATION)
    result = invoke(load_event("noncompliance-oss-current-stream.txt"))
    assert result["outcome"] == "bucket_replaced"
    assert EVALUATED in result["reason"]


@pytest.mark.parametrize(
    ("evaluated_at", "outcome"),
    [
        (None, "already_private"),
        (
            datetime.datetime(2020, 7, 22, 12, 3, 16, tzinfo=datetime.timezone.utc),
            "bucket_replaced",
        ),
        (datetime.datetime(2020, 7, 22, 14, 0, 0, tzinfo=datetime.timezone.utc), "already_private"),
    ],
)
def test_the_shared_path_dates_an_event_built_from_the_config_api(
    fake_oss: OssBackend, evaluated_at: datetime.datetime | None, outcome: str
) -> None:
    """The sweep and the backfill build the event from an API result, and may know when
    Config evaluated it (OrderingTimestamp, ...), or not."""
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=AFTER_EVALUATION)
    event = NonComplianceEvent(
        resource_id=BUCKET,
        region_id=REGION,
        resource_type="ACS::OSS::Bucket",
        rule_name=RULE_NAME,
        rule_id=None,
        source_identifier=None,
        owner_account_id=DEFAULT_ACCOUNT_ID,
        annotation=None,
        evaluated_at=evaluated_at,
    )
    report = remediate_event(
        event,
        Settings.from_env({"prepareRuleName": RULE_NAME}),
        context=fc_context(),
        environ={},
        account_id=DEFAULT_ACCOUNT_ID,
        function_region=REGION,
        deadline=Deadline(30),
    )
    assert report.outcome.value == outcome


def test_the_message_is_dated_by_its_latest_evaluation_timestamp() -> None:
    event = classify_message(json.loads(load_event("noncompliance-oss-plain.json")))
    assert isinstance(event, NonComplianceEvent)
    assert event.evaluated_at == datetime.datetime(
        2020, 7, 22, 12, 3, 16, 740000, tzinfo=datetime.timezone.utc
    )


# -- the policy rule: its calls never create a bucket -----------------------------------

POLICY_EVENT = load_event("noncompliance-policy-current-stream.txt")
ANONYMOUS = json.dumps({"Statement": [{"Effect": "Allow", "Principal": ["*"]}]})
MIXED = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": ["*"]},
            {"Effect": "Deny", "Principal": ["*"], "Action": ["oss:DeleteObject"]},
        ]
    }
)


@pytest.mark.parametrize(
    ("policy", "write"), [(ANONYMOUS, "DeleteBucketPolicy"), (MIXED, "PutBucketPolicy")]
)
def test_a_bucket_deleted_before_the_policy_write_is_not_recreated(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    write: str,
) -> None:
    monkeypatch.setenv("prepareRuleName", "test-oss-bucket-policy-no-any-anonymous")
    fake_oss.create_bucket(
        BUCKET, REGION, "private", creation_date=BEFORE_EVALUATION
    ).policy = policy
    fake_oss.before_next(write, delete_it)
    result = invoke(POLICY_EVENT)
    assert (result["status"], result["outcome"]) == ("success", "bucket_not_found")
    assert "deleted before the policy was written" in result["reason"]
    assert BUCKET not in fake_oss.buckets
