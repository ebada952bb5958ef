"""Properties that hold for every delivery a topic could carry, hostile ones included.

Run with HYPOTHESIS_PROFILE=deep (``make test-deep``) for many more examples.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as event_outcome
from hypothesis import strategies as st

import index
from resource_repair.remediators.policy_analysis import PolicyError, analyse
from resource_repair.report import Outcome
from resource_repair.testing import fc_context, mock_oss
from tests.conftest import BUCKET, REGION, RESULT_KEYS, load_event
from tests.strategies import MEMBER, OUTSIDER, deliveries, hub_messages, policies, tags

ORDER = {"private": 0, "public-read": 1, "public-read-write": 2}
READS = {"GetBucketInfo", "GetBucketPolicy", "GetBucketTagging", "GetBucketPublicAccessBlock"}
# Each write, and the read of the same thing that must come before it.
WRITES = {
    "PutBucketAcl": "GetBucketInfo",
    "PutBucketPolicy": "GetBucketPolicy",
    "DeleteBucketPolicy": "GetBucketPolicy",
    "PutBucketPublicAccessBlock": "GetBucketPublicAccessBlock",
}
# The state each remediation may change; Block Public Access follows any fix.
CHANGES = {
    "oss-bucket-public-read-prohibited": {"acl", "block_public_access"},
    "oss-bucket-public-write-prohibited": {"acl", "block_public_access"},
    "oss-bucket-policy-no-any-anonymous": {"policy", "block_public_access"},
}


@pytest.mark.usefixtures("function_env", "waits")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(delivery=deliveries(hub_messages), runtime=st.sampled_from(["python3.10", "python3.12"]))
def test_hub_mode_never_assumes_a_role_outside_member_accounts(
    delivery: tuple[bytes, dict[str, Any] | None],
    runtime: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The owner account is the mutated field: whatever a message says, the only role ever
    assumed is the one in memberAccounts, the session is narrow, and the member's bucket is
    only ever touched with the member's session."""
    from resource_repair import member_access
    from resource_repair.testing import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, fc_environment
    from resource_repair.testing.sts import mock_sts

    event, _ = delivery
    if runtime == "python3.12":
        for key, value in fc_environment().items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", MEMBER)
    member_access.SESSIONS.clear()
    hub_role = f"acs:ram::{DEFAULT_ACCOUNT_ID}:role/resource-repair-oss-acl"
    with mock_oss() as oss, mock_sts() as sts:
        sts.register(DEFAULT_CREDENTIALS, hub_role.replace(":role/", ":assumed-role/") + "/f")
        for account in (MEMBER, OUTSIDER, "1111111111111111"):
            sts.add_role(account, "resource-repair-member", hub_role)
        sts.serve_oss(oss)
        oss.create_bucket(BUCKET, REGION, "public-read")
        oss.create_bucket("member-bucket", REGION, "public-read", owner_id=MEMBER)
        oss.create_bucket("other-bucket", REGION, "public-read", owner_id=OUTSIDER)

        result = json.loads(index.handler(event, fc_context(runtime)))

        event_outcome(result["outcome"])
        assert {c.role_arn for c in sts.assumed} <= {
            f"acs:ram::{MEMBER}:role/resource-repair-member"
        }
        for call in sts.assumed:
            assert call.duration == "900"
            assert call.policy is not None
            [statement] = json.loads(call.policy)["Statement"]
            assert statement["Resource"] == [f"acs:oss:*:{MEMBER}:*"]
        # A message may lie about the owner: the member's session then reaches another
        # account's bucket, and OSS refuses it (AccessDenied), as the fake does.
        member_keys = {c.access_key_id for c in sts.issued()}
        for call in oss.calls:
            bucket = oss.buckets.get(call.bucket or "")
            if call.signed_with in member_keys and bucket is not None:
                assert bucket.owner_id == MEMBER or call.code == "AccessDenied"
        assert oss.acl_of("other-bucket") == "public-read"  # the outsider's, never written
    member_access.SESSIONS.clear()


def _other_bucket_delivery() -> tuple[bytes, dict[str, Any]]:
    """A plain delivery about the other bucket, for the examples below."""
    message = {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": {
                "resourceId": "other-bucket",
                "regionId": "cn-hangzhou",
                "configRuleName": "test-oss-bucket-public-read-prohibited",
            }
        }
    }
    return base64.b64encode(json.dumps(message).encode()), message


@pytest.mark.usefixtures("function_env", "waits")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    delivery=deliveries(),
    acl=st.sampled_from(["private", "public-read", "public-read-write"]),
    runtime=st.sampled_from(["python3.10", "python3.12"]),
    policy=policies,
    bucket_tags=tags,
    exempt_tag=st.sampled_from(["", "website", "website=yes"]),
    block_public_access=st.booleans(),
)
# Found by CI: another bucket is fixed while the message's bucket carries the exempt tag.
@example(
    delivery=_other_bucket_delivery(),
    acl="private",
    runtime="python3.10",
    policy=None,
    bucket_tags={"website": ""},
    exempt_tag="website",
    block_public_access=False,
)
def test_any_delivery_is_handled_safely(
    delivery: tuple[bytes, dict[str, Any] | None],
    acl: str,
    runtime: str,
    policy: str | None,
    bucket_tags: dict[str, str],
    exempt_tag: str,
    block_public_access: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event, message = delivery
    if runtime == "python3.12":
        from resource_repair.testing import fc_environment

        for key, value in fc_environment().items():
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("exemptTag", exempt_tag)
    monkeypatch.setenv("blockPublicAccess", str(block_public_access).lower())
    with mock_oss() as oss:
        bucket = oss.create_bucket(BUCKET, REGION, acl)
        bucket.policy, bucket.tags = policy, bucket_tags
        oss.create_bucket("other-bucket", "cn-hangzhou", "public-read").policy = policy
        before = oss.snapshot()

        raw = index.handler(event, fc_context(runtime))  # never raises: healthy OSS, any input

        result = json.loads(raw)
        assert set(result) >= RESULT_KEYS
        assert result["status"] == Outcome(result["outcome"]).status
        event_outcome(result["outcome"])
        calls = oss.calls
        hosts = {urlsplit(url).hostname for url in [c.url for c in calls] + oss.refused}
        if hosts:
            # Only the message's bucket, at its region's own OSS endpoint, over HTTPS.
            assert message is not None
            qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
            own = f"{qualifier['resourceId']}.oss-{qualifier['regionId']}"
            assert hosts <= {f"{own}.aliyuncs.com", f"{own}-internal.aliyuncs.com"}
            assert all(url.startswith("https://") for url in [c.url for c in calls] + oss.refused)
        for position, call in enumerate(calls):
            assert call.operation in READS | set(WRITES)
            if call.operation in WRITES:
                # Every write comes after a read of what it changes.
                assert any(c.operation == WRITES[call.operation] for c in calls[:position])
            if call.operation == "PutBucketAcl":
                assert call.acl_header in ("private", "public-read")
        _only_the_remediation_changed(
            before, oss.snapshot(), result, exempt_tag, block_public_access
        )


@pytest.mark.usefixtures("function_env", "waits")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    policy=policies,
    acl=st.sampled_from(["private", "public-read", "public-read-write"]),
    bucket_tags=tags,
    exempt_tag=st.sampled_from(["", "website"]),
    block_public_access=st.booleans(),
)
def test_the_policy_rule_only_ever_takes_away_anonymous_access(
    policy: str | None,
    acl: str,
    bucket_tags: dict[str, str],
    exempt_tag: str,
    block_public_access: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("prepareRuleName", "test-oss-bucket-policy-no-any-anonymous")
    monkeypatch.setenv("exemptTag", exempt_tag)
    monkeypatch.setenv("blockPublicAccess", str(block_public_access).lower())
    with mock_oss() as oss:
        bucket = oss.create_bucket(BUCKET, REGION, acl, creation_date="2020-01-01T00:00:00.000Z")
        bucket.policy, bucket.tags = policy, bucket_tags
        before = oss.snapshot()
        event = load_event("noncompliance-policy-current-stream.txt")
        result = json.loads(index.handler(event, fc_context("python3.10")))
        event_outcome(result["outcome"])
        assert result["remedy"] == "oss-bucket-policy-no-any-anonymous"
        _only_the_remediation_changed(
            before, oss.snapshot(), result, exempt_tag, block_public_access
        )
        assert "PutBucketAcl" not in oss.operations()
        if result["outcome"] == "remediated":
            left = oss.policy_of(BUCKET)
            assert left is None or analyse(left).anonymous == 0


def _only_the_remediation_changed(
    before: dict[str, Any],
    after: dict[str, Any],
    result: dict[str, Any],
    exempt_tag: str,
    block_public_access: bool,
) -> None:
    """No bucket created; only the message's bucket changed, and only by its remediation."""
    assert set(after) == set(before)
    for name, state in after.items():
        changed = {k for k in state if state[k] != before[name][k]}
        if not changed:
            continue
        assert name == result["bucket"]
        assert changed <= CHANGES[result["remedy"]]
        # The bucket's own tags: only the message's bucket has the generated ones.
        assert not _carries(before[name]["tags"] or {}, exempt_tag)
        if "acl" in changed:  # never more public than before
            assert ORDER[state["acl"]] < ORDER[before[name]["acl"]]
        if "policy" in changed:
            _only_anonymous_statements_went(before[name]["policy"], state["policy"])
        if "block_public_access" in changed:
            assert block_public_access
            assert state["block_public_access"] is True
            assert changed != {"block_public_access"}  # only ever after a fix


def _carries(bucket_tags: dict[str, str], setting: str) -> bool:
    key, sep, value = setting.partition("=")
    return bool(key) and key in bucket_tags and (not sep or bucket_tags[key] == value)


def _allows_star(statement: object) -> bool:
    """An Allow whose principal includes ``*``: the only statements that may be removed
    (whether a condition narrows one is the code's judgement; this is the outer bound)."""
    if not isinstance(statement, dict):
        return False
    fields = {k.lower(): v for k, v in statement.items() if isinstance(k, str)}
    effect, principal = fields.get("effect"), fields.get("principal")
    if not (isinstance(effect, str) and effect.lower() == "allow"):
        return False
    values = principal.values() if isinstance(principal, dict) else [principal]
    return any(v == "*" or (isinstance(v, list) and "*" in v) for v in values)


def _only_anonymous_statements_went(before: str, after: str | None) -> None:
    old = json.loads(before)["Statement"]
    new = [] if after is None else json.loads(after)["Statement"]
    # ``new`` is ``old`` with some statements taken out, in order and otherwise unchanged.
    remaining = iter(old)
    dropped = []
    for statement in new:
        for candidate in remaining:
            if candidate == statement:
                break
            dropped.append(candidate)
        else:
            raise AssertionError(f"statement {statement!r} was not in the policy before")
    dropped.extend(remaining)
    assert dropped
    assert all(_allows_star(s) for s in dropped)
    if after is not None:
        assert {k: v for k, v in json.loads(after).items() if k != "Statement"} == {
            k: v for k, v in json.loads(before).items() if k != "Statement"
        }


@given(text=policies.filter(lambda p: p is not None))
def test_the_policy_analysis_only_ever_drops_statements_that_allow_everyone(text: str) -> None:
    try:
        verdict = analyse(text)
    except PolicyError:
        return
    if verdict.anonymous:
        _only_anonymous_statements_went(text, verdict.remaining)
    else:
        assert verdict.remaining == text
