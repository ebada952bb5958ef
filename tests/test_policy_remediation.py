"""The policy rule's messages, end to end: the handler, the policy remediator and the fake
OSS's GetBucketPolicy / PutBucketPolicy / DeleteBucketPolicy."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from resource_repair.testing import OssBackend
from tests.conftest import BUCKET, REGION, Invoke, load_event

POLICY_RULE = "oss-bucket-policy-no-any-anonymous"
POLICY_RULE_NAME = "test-oss-bucket-policy-no-any-anonymous"
CREATED = "2020-01-01T00:00:00.000Z"  # before the recorded evaluation
ACCOUNT = "1698272328540001"
RESOURCE = [f"acs:oss:*:{ACCOUNT}:{BUCKET}/*"]

ANYONE_READS = {
    "Effect": "Allow",
    "Action": ["oss:GetObject"],
    "Principal": ["*"],
    "Resource": RESOURCE,
}
ANYONE_LISTS = {
    "Effect": "Allow",
    "Action": ["oss:ListObjects"],
    "Principal": "*",
    "Resource": RESOURCE,
}
PARTNER_WRITES = {
    "Effect": "Allow",
    "Action": ["oss:PutObject"],
    "Principal": ["1234567890123456"],
    "Resource": RESOURCE,
}
NOBODY_DELETES = {
    "Effect": "Deny",
    "Action": ["oss:DeleteObject"],
    "Principal": ["*"],
    "Resource": RESOURCE,
}
OFFICE_READS = dict(ANYONE_READS, Condition={"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}})


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


@pytest.fixture
def policy_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("prepareRuleName", POLICY_RULE_NAME)


def bucket_with(oss: OssBackend, text: str | None, acl: str = "private") -> None:
    oss.create_bucket(BUCKET, REGION, acl, creation_date=CREATED).policy = text


def test_anonymous_statements_are_removed_and_the_rest_kept(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    before = policy(ANYONE_READS, PARTNER_WRITES, NOBODY_DELETES, OFFICE_READS)
    bucket_with(fake_oss, before)
    result = invoke(load_event("noncompliance-policy-current-stream.txt"))
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert result["remedy"] == POLICY_RULE
    assert result["policy_before"] == before
    left = json.loads(fake_oss.policy_of(BUCKET) or "")
    assert left == {"Version": "1", "Statement": [PARTNER_WRITES, NOBODY_DELETES, OFFICE_READS]}
    assert json.loads(result["policy_after"]) == left
    # GetBucketInfo: the creation date recorded for restore, read once a write follows.
    assert fake_oss.operations() == [
        "GetBucketPolicy",
        "GetBucketInfo",
        "PutBucketPolicy",
        "GetBucketPolicy",
    ]
    assert result["bucket_created"] == fake_oss.buckets[BUCKET].creation_date
    assert fake_oss.acl_of(BUCKET) == "private"  # the ACL is not this rule's business


def test_a_policy_of_only_anonymous_statements_is_deleted(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    before = policy(ANYONE_READS, ANYONE_LISTS)
    bucket_with(fake_oss, before)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "remediated"
    assert "deleted the bucket policy" in result["reason"]
    assert fake_oss.policy_of(BUCKET) is None
    assert (result["policy_before"], result["policy_deleted"]) == (before, True)
    assert fake_oss.operations() == [
        "GetBucketPolicy",
        "GetBucketInfo",
        "DeleteBucketPolicy",
        "GetBucketPolicy",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "bucket has no policy"),
        (policy(PARTNER_WRITES, NOBODY_DELETES, OFFICE_READS), "allows no anonymous access"),
    ],
    ids=["no-policy", "nothing-anonymous"],
)
def test_a_bucket_without_anonymous_statements_is_read_only(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, text: str | None, reason: str
) -> None:
    bucket_with(fake_oss, text, acl="public-read")
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("success", "already_compliant")
    assert reason in result["reason"]
    assert fake_oss.operations() == ["GetBucketPolicy"]
    assert fake_oss.policy_of(BUCKET) == text
    assert fake_oss.acl_of(BUCKET) == "public-read"


def test_a_missing_bucket_is_reported_and_nothing_is_written(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "bucket_not_found"
    assert fake_oss.operations() == ["GetBucketPolicy"]
    assert BUCKET not in fake_oss.buckets


def test_dry_run_reads_reports_and_records_the_policy(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dryRun", "true")
    before = policy(ANYONE_READS, PARTNER_WRITES)
    bucket_with(fake_oss, before)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "dry_run"
    assert "would remove 1 statement that allowed anyone, keeping 1 statement" in result["reason"]
    assert result["policy_before"] == before
    assert fake_oss.operations() == ["GetBucketPolicy"]
    assert fake_oss.policy_of(BUCKET) == before


def test_the_audit_line_carries_the_policy_before(
    fake_oss: OssBackend,
    invoke: Invoke,
    policy_env: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = policy(ANYONE_READS)
    bucket_with(fake_oss, before)
    with caplog.at_level(logging.INFO, logger="resource_repair.audit"):
        invoke(load_event("noncompliance-policy-current-plain.json"))
    [line] = [r.getMessage() for r in caplog.records if r.name == "resource_repair.audit"]
    record = json.loads(line)
    assert (record["policy_before"], record["policy_deleted"]) == (before, True)


def test_an_unreadable_policy_fails_without_a_write(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    bucket_with(fake_oss, "{not json")
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "not JSON" in result["reason"]
    assert fake_oss.operations() == ["GetBucketPolicy"]


def test_a_refused_write_is_a_failure_and_the_policy_stays(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    before = policy(ANYONE_READS, PARTNER_WRITES)
    bucket_with(fake_oss, before)
    fake_oss.fail_next(operation="PutBucketPolicy", status=403, code="AccessDenied", message="no")
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "failed"
    assert "PutBucketPolicy refused: AccessDenied (HTTP 403)" in result["reason"]
    assert fake_oss.policy_of(BUCKET) == before


def test_throttling_is_retried(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, waits: list[float]
) -> None:
    bucket_with(fake_oss, policy(ANYONE_READS, PARTNER_WRITES))
    fake_oss.fail_next(2, operation="GetBucketPolicy", code="MetaOperationQpsLimitExceeded")
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "remediated"
    assert len(waits) == 2


def test_a_change_between_the_write_and_the_read_back_is_reported(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    bucket_with(fake_oss, policy(ANYONE_READS, PARTNER_WRITES))
    someone_elses = policy(PARTNER_WRITES, ANYONE_LISTS)

    def then_someone_writes(oss: OssBackend) -> None:
        oss.before_next(
            "GetBucketPolicy", lambda o: setattr(o.buckets[BUCKET], "policy", someone_elses)
        )

    fake_oss.before_next("PutBucketPolicy", then_someone_writes)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "reads back different" in result["reason"]
    assert result["policy_after"] == someone_elses


@pytest.mark.parametrize(
    ("rule_names", "first_call"),
    [
        (f"{POLICY_RULE_NAME}={POLICY_RULE}", "GetBucketPolicy"),
        ("cr-610ad6e0007300a80002=" + POLICY_RULE, "GetBucketPolicy"),
        # The sample's meaning of a plain name: the ACL fix.
        (POLICY_RULE_NAME, "GetBucketInfo"),
    ],
)
def test_a_message_without_its_managed_rule_gets_the_configured_entrys_remedy(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    rule_names: str,
    first_call: str,
) -> None:
    monkeypatch.setenv("prepareRuleName", rule_names)
    bucket_with(fake_oss, policy(ANYONE_READS), acl="public-read")
    result = invoke(load_event("noncompliance-policy-legacy-plain.json"))
    assert result["outcome"] == "remediated"
    assert fake_oss.operations()[0] == first_call


def test_a_managed_rule_without_a_remediation_is_ignored_with_a_reason(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    message = json.loads(load_event("noncompliance-policy-current-plain.json"))
    message["sourceIdentifier"] = "oss-bucket-anonymous-prohibited"
    bucket_with(fake_oss, policy(ANYONE_READS), acl="public-read")
    result = invoke(json.dumps(message).encode())
    assert (result["status"], result["outcome"]) == ("success", "ignored")
    assert "oss-bucket-anonymous-prohibited" in result["reason"]
    assert fake_oss.calls == []


def test_public_by_acl_and_by_policy_ends_private_under_both_rules(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "prepareRuleName", f"test-oss-bucket-public-read-prohibited,{POLICY_RULE_NAME}"
    )
    bucket_with(fake_oss, policy(ANYONE_READS, PARTNER_WRITES), acl="public-read-write")
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "remediated"
    assert invoke(load_event("noncompliance-policy-current-plain.json"))["outcome"] == "remediated"
    assert fake_oss.acl_of(BUCKET) == "private"
    assert json.loads(fake_oss.policy_of(BUCKET) or "")["Statement"] == [PARTNER_WRITES]


@pytest.mark.parametrize("operation", ["PutBucketPolicy", "GetBucketPolicy"])
def test_trouble_after_the_read_is_reported_with_the_policy_not_handed_back(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, waits: list[float], operation: str
) -> None:
    """A replay would find the policy fixed and forget the one read here: the failure is
    reported with ``policy_before``, so that restore has it."""
    before = policy(ANYONE_READS, PARTNER_WRITES)
    bucket_with(fake_oss, before)
    skip = 1 if operation == "GetBucketPolicy" else 0  # the read-back, not the first read

    def fail_from_now(oss: OssBackend) -> None:
        oss.fail_next(5, operation=operation, code="ServiceUnavailable")

    if skip:
        fake_oss.before_next("PutBucketPolicy", fail_from_now)
    else:
        fail_from_now(fake_oss)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert result["policy_before"] == before
    assert json.loads(result["policy_after"])["Statement"] == [PARTNER_WRITES]


# -- documents OSS may read in more than one way: judged towards "anyone" --------------


@pytest.mark.parametrize(
    "odd",
    [
        {"Effect": "Allow", "NotPrincipal": ["1234567890123456"], "Action": ["oss:GetObject"]},
        dict(ANYONE_READS, Condition={"IpAddress": {"acs:SourceIp": ["::ffff:0:0/96"]}}),
        dict(
            OFFICE_READS,
            Condition={
                "IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]},
                "StringEquals": {"acs:SourceVpc": []},
            },
        ),
    ],
    ids=["not-principal", "every-ipv4-as-ipv6", "empty-condition-value"],
)
def test_a_statement_that_may_let_anyone_in_is_removed(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, odd: dict[str, Any]
) -> None:
    bucket_with(fake_oss, policy(odd, PARTNER_WRITES))
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "remediated"
    assert json.loads(fake_oss.policy_of(BUCKET) or "")["Statement"] == [PARTNER_WRITES]


def test_every_spelling_of_statement_loses_its_anonymous_statements(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None
) -> None:
    before = json.dumps(
        {"Version": "1", "Statement": [NOBODY_DELETES, PARTNER_WRITES], "statement": [ANYONE_READS]}
    )
    bucket_with(fake_oss, before)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert json.loads(fake_oss.policy_of(BUCKET) or "") == {
        "Version": "1",
        "Statement": [NOBODY_DELETES, PARTNER_WRITES],
    }
    assert fake_oss.operations() == [
        "GetBucketPolicy",
        "GetBucketInfo",
        "PutBucketPolicy",
        "GetBucketPolicy",
    ]


# One statement, two readings: an Allow to anyone (the first Effect) and a Deny (the last).
ALLOW_OR_DENY_STATEMENT = (
    '{"Effect": "Allow", "Effect": "Deny", "Principal": ["*"], "Action": ["oss:DeleteObject"]}'
)
ALLOW_OR_DENY = (
    f'{{"Version": "1", "Statement": [{json.dumps(PARTNER_WRITES)}, {ALLOW_OR_DENY_STATEMENT}]}}'
)


@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_a_statement_both_allowing_anyone_and_denying_fails_and_nothing_is_written(
    fake_oss: OssBackend,
    invoke: Invoke,
    policy_env: None,
    monkeypatch: pytest.MonkeyPatch,
    dry_run: str,
) -> None:
    monkeypatch.setenv("dryRun", dry_run)
    bucket_with(fake_oss, ALLOW_OR_DENY)
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "statement 2 allows anyone in one reading and denies in another" in result["reason"]
    assert "not written" in result["reason"]
    assert fake_oss.operations() == ["GetBucketPolicy"]
    assert fake_oss.policy_of(BUCKET) == ALLOW_OR_DENY
    assert result["policy_before"] == ALLOW_OR_DENY


def test_an_exempt_bucket_with_such_a_statement_is_exempt_not_failed(
    fake_oss: OssBackend, invoke: Invoke, policy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptTag", "website")
    bucket_with(fake_oss, ALLOW_OR_DENY)
    fake_oss.buckets[BUCKET].tags = {"website": "yes"}
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert (result["status"], result["outcome"]) == ("success", "exempt")
    assert fake_oss.policy_of(BUCKET) == ALLOW_OR_DENY
