"""Hub mode end to end on the fakes: one function remediates buckets in its own and two
member accounts through narrow assumed sessions, refuses a third account without a single
request, and keeps every key of every account out of the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import index
from resource_repair import member_access
from resource_repair.credentials import Credentials
from resource_repair.errors import TransientOssError
from resource_repair.retry import Deadline
from resource_repair.selection import required_actions
from resource_repair.settings import Settings
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_context,
    fc_environment,
)
from resource_repair.testing.sts import StsBackend, mock_sts
from tests.conftest import REGION, RULE_NAME, load_event

HUB = DEFAULT_ACCOUNT_ID
MEMBER_A = "1111222233334444"
MEMBER_B = "5555666677778888"
OUTSIDER = "9999000011112222"
MEMBER_ROLE = "resource-repair-member"
HUB_ROLE = f"acs:ram::{HUB}:role/resource-repair-oss-acl"


@pytest.fixture
def hub(
    fake_oss: OssBackend, monkeypatch: pytest.MonkeyPatch, function_env: dict[str, str]
) -> Iterator[StsBackend]:
    """The fake STS beside the fake OSS: member roles in A, B and the outsider, each
    trusting the hub's function role; hub mode configured for A and B only."""
    member_access.SESSIONS.clear()
    monkeypatch.setenv("memberRoleName", MEMBER_ROLE)
    monkeypatch.setenv("memberAccounts", f"{MEMBER_A},{MEMBER_B}")
    with mock_sts() as sts:
        sts.register(
            DEFAULT_CREDENTIALS,
            f"acs:ram::{HUB}:assumed-role/resource-repair-oss-acl/oss_repair_acl_trigger",
        )
        for account in (MEMBER_A, MEMBER_B, OUTSIDER):
            sts.add_role(account, MEMBER_ROLE, HUB_ROLE)
        sts.serve_oss(fake_oss)
        yield sts
    member_access.SESSIONS.clear()


def message(bucket: str, owner: str) -> bytes:
    """Cloud Config's documented message, about ``bucket`` of account ``owner``."""
    document = json.loads(load_event("noncompliance-oss-plain.json"))
    document["accountId"] = int(owner)
    qualifier = document["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier.update(resourceId=bucket, resourceName=bucket, resourceOwnerId=int(owner))
    return json.dumps(document).encode()


def invoke(event: bytes, runtime: str = "python3.10", **context: Any) -> dict[str, Any]:
    result = index.handler(event, fc_context(runtime, **context))
    assert isinstance(result, str)
    return json.loads(result)


def test_one_hub_remediates_its_own_and_two_members_buckets_and_refuses_a_third(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    for name, owner in (("own", HUB), ("in-a", MEMBER_A), ("in-b", MEMBER_B), ("out", OUTSIDER)):
        fake_oss.create_bucket(f"bucket-{name}", REGION, "public-read", owner_id=owner)
    results = {
        name: invoke(message(f"bucket-{name}", owner))
        for name, owner in (("own", HUB), ("in-a", MEMBER_A), ("in-b", MEMBER_B), ("out", OUTSIDER))
    }
    assert [results[n]["outcome"] for n in ("own", "in-a", "in-b")] == ["remediated"] * 3
    assert results["out"]["outcome"] == "invalid_event"
    assert "not in memberAccounts" in results["out"]["reason"]
    assert [fake_oss.acl_of(f"bucket-{n}") for n in ("own", "in-a", "in-b", "out")] == [
        "private",
        "private",
        "private",
        "public-read",
    ]
    # The member buckets were written with that member's session, never the hub's key.
    by_bucket = {c.bucket: c.signed_with for c in fake_oss.calls if c.bucket}
    issued = {c.account_id: c.access_key_id for c in hub.issued()}
    assert by_bucket == {
        "bucket-own": DEFAULT_CREDENTIALS.access_key_id,
        "bucket-in-a": issued[MEMBER_A],
        "bucket-in-b": issued[MEMBER_B],
    }
    assert [c.role_arn for c in hub.assumed] == [
        f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}",
        f"acs:ram::{MEMBER_B}:role/{MEMBER_ROLE}",
    ]
    # The audit trail names the account, the role and the session's key id.
    assert results["in-a"]["owner_account"] == MEMBER_A
    assert results["in-a"]["assumed_role"] == f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}"
    assert results["in-a"]["session_key_id"] == issued[MEMBER_A]
    assert "owner_account" not in results["own"]


def test_the_logged_audit_line_names_the_session_key_id_the_member_trail_shows(
    fake_oss: OssBackend, hub: StsBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # For an asynchronous delivery the logged line is the only record: the redactor must
    # mask the session's secret and token, not the AccessKeyId it is matched by.
    caplog.set_level(logging.INFO, logger="resource_repair.audit")
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    invoke(message("bucket-in-a", MEMBER_A))
    [session] = hub.issued()
    [line] = [
        json.loads(r.getMessage()) for r in caplog.records if r.name == "resource_repair.audit"
    ]
    assert line["session_key_id"] == session.access_key_id
    assert line["owner_account"] == MEMBER_A


def test_an_account_outside_member_accounts_makes_no_request_at_all(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    fake_oss.create_bucket("bucket-out", REGION, "public-read", owner_id=OUTSIDER)
    result = invoke(message("bucket-out", OUTSIDER))
    assert result["outcome"] == "invalid_event"
    assert hub.calls == []
    assert hub.assumed == []
    assert fake_oss.calls == []


def test_a_star_reaches_any_account_whose_role_trusts_the_hub_and_nothing_else(
    fake_oss: OssBackend, hub: StsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("memberAccounts", "*")
    fake_oss.create_bucket("bucket-out", REGION, "public-read", owner_id=OUTSIDER)
    assert invoke(message("bucket-out", OUTSIDER))["outcome"] == "remediated"
    # Not an account id (Alibaba Cloud's are 16 digits): refused before any request.
    result = invoke(message("bucket-out", "12345"))
    assert result["outcome"] == "invalid_event"
    assert [c.role_arn for c in hub.assumed] == [f"acs:ram::{OUTSIDER}:role/{MEMBER_ROLE}"]


@pytest.mark.parametrize(
    ("environment", "problem"),
    [
        ({"memberRoleName": MEMBER_ROLE}, "memberAccounts is not"),
        ({"memberAccounts": MEMBER_A}, "memberRoleName is not"),
        ({"memberRoleName": f"acs:ram::{MEMBER_A}:role/x", "memberAccounts": "*"}, "role name"),
        ({"memberRoleName": MEMBER_ROLE, "memberAccounts": "1111-2222"}, "not an account id"),
        ({"memberRoleName": MEMBER_ROLE, "memberAccounts": f"*,{MEMBER_A}"}, "alone"),
        ({"configAggregatorId": "aggregator"}, "account group id"),
    ],
)
def test_a_mistyped_hub_setting_fails_before_any_request(
    fake_oss: OssBackend,
    hub: StsBackend,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    problem: str,
) -> None:
    monkeypatch.delenv("memberRoleName")
    monkeypatch.delenv("memberAccounts")
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    result = invoke(message("bucket-in-a", MEMBER_A))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert result["reason"].startswith("configuration:")
    assert problem in result["reason"]
    assert hub.calls == []
    assert fake_oss.calls == []


def test_hub_mode_is_off_by_default(
    fake_oss: OssBackend, hub: StsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("memberRoleName")
    monkeypatch.delenv("memberAccounts")
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    result = invoke(message("bucket-in-a", MEMBER_A))
    assert result["outcome"] == "invalid_event"
    assert hub.calls == []
    assert fake_oss.calls == []


def test_the_session_is_short_narrow_and_named_after_the_function(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    invoke(message("bucket-in-a", MEMBER_A))
    (call,) = hub.assumed
    assert call.caller == DEFAULT_CREDENTIALS.access_key_id
    assert call.duration == "900"
    assert call.session_name == "resource-repair.oss_repair_acl_trigger"
    assert call.policy is not None
    document = json.loads(call.policy)
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    settings = Settings.from_env({"prepareRuleName": RULE_NAME})
    assert set(statement["Action"]) == set(required_actions(settings))
    assert statement["Resource"] == [f"acs:oss:*:{MEMBER_A}:*"]


def test_the_session_policy_follows_the_settings(
    fake_oss: OssBackend, hub: StsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptTag", "public-on-purpose")
    monkeypatch.setenv("blockPublicAccess", "true")
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    # The fake OSS enforces the session policy: every call below was allowed by it.
    result = invoke(message("bucket-in-a", MEMBER_A))
    assert result["outcome"] == "remediated"
    assert fake_oss.buckets["bucket-in-a"].block_public_access is True
    assert "GetBucketTagging" in fake_oss.operations()
    (call,) = hub.assumed
    assert call.policy is not None
    actions = set(json.loads(call.policy)["Statement"][0]["Action"])
    assert actions == {
        "oss:GetBucketInfo",
        "oss:PutBucketAcl",
        "oss:GetBucketTagging",
        "oss:GetBucketPublicAccessBlock",
        "oss:PutBucketPublicAccessBlock",
    }


def test_a_second_bucket_of_the_same_account_reuses_the_session(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    for name in ("one", "two", "three"):
        fake_oss.create_bucket(f"bucket-{name}", REGION, "public-read", owner_id=MEMBER_A)
        assert invoke(message(f"bucket-{name}", MEMBER_A))["outcome"] == "remediated"
    assert len(hub.assumed) == 1


def test_a_session_near_its_end_is_renewed(
    fake_oss: OssBackend, hub: StsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(member_access, "_now", lambda: now[0])
    hub.clock = lambda: now[0]
    fake_oss.create_bucket("bucket-one", REGION, "public-read", owner_id=MEMBER_A)
    fake_oss.create_bucket("bucket-two", REGION, "public-read", owner_id=MEMBER_A)
    fake_oss.create_bucket("bucket-three", REGION, "public-read", owner_id=MEMBER_A)
    invoke(message("bucket-one", MEMBER_A))
    now[0] += member_access.SESSION_SECONDS - member_access.RENEW_MARGIN - 10
    invoke(message("bucket-two", MEMBER_A))
    assert len(hub.assumed) == 1  # still fresh
    now[0] += 20  # now within the renewal margin
    assert invoke(message("bucket-three", MEMBER_A))["outcome"] == "remediated"
    assert len(hub.assumed) == 2
    keys = [c.signed_with for c in fake_oss.calls if c.bucket == "bucket-three"]
    assert set(keys) == {hub.issued()[-1].access_key_id}


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (
            lambda sts: sts.roles.pop(f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}"),
            "EntityNotExist.Role",
        ),
        # The member's role trusts someone else: a trust policy that does not name the hub.
        (
            lambda sts: sts.add_role(MEMBER_A, MEMBER_ROLE, "acs:ram::3333444455556666:role/x"),
            "NoPermission",
        ),
        (lambda sts: sts.fail_next_assume("NoPermission", 403, "not authorized"), "NoPermission"),
    ],
    ids=["no-role", "trust-mismatch", "no-permission"],
)
def test_a_refused_session_fails_with_the_code_and_no_oss_request(
    fake_oss: OssBackend, hub: StsBackend, setup: Any, code: str
) -> None:
    setup(hub)
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    result = invoke(message("bucket-in-a", MEMBER_A))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert code in result["reason"]
    assert f"acs:ram::{MEMBER_A}:role/{MEMBER_ROLE}" in result["reason"]
    assert fake_oss.calls == []
    assert fake_oss.acl_of("bucket-in-a") == "public-read"


def test_sts_throttling_is_retried_then_succeeds(
    fake_oss: OssBackend, hub: StsBackend, waits: list[float]
) -> None:
    hub.fail_next_assume("Throttling.User", 400)
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    assert invoke(message("bucket-in-a", MEMBER_A))["outcome"] == "remediated"
    assert len(hub.assumed) == 2
    assert waits
    assert waits[0] >= 1.0


def test_sts_unavailable_hands_the_delivery_back_to_fc(
    fake_oss: OssBackend, hub: StsBackend, waits: list[float]
) -> None:
    hub.fail_next_assume("ServiceUnavailable", 503, "busy", times=10)
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    with pytest.raises(TransientOssError, match="AssumeRole"):
        index.handler(message("bucket-in-a", MEMBER_A), fc_context())
    assert fake_oss.calls == []
    assert len(hub.assumed) == 3  # ossMaxAttempts


def test_a_member_session_cannot_touch_another_members_bucket(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    """The fake OSS refuses one account's key on another account's bucket, as OSS does: a
    message that lies about the owner gets AccessDenied, not a write."""
    fake_oss.create_bucket("bucket-in-b", REGION, "public-read", owner_id=MEMBER_B)
    result = invoke(message("bucket-in-b", MEMBER_A))
    assert result["outcome"] == "failed"
    assert "AccessDenied" in result["reason"]
    assert fake_oss.acl_of("bucket-in-b") == "public-read"


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_no_key_of_either_account_reaches_a_debug_log(
    fake_oss: OssBackend,
    hub: StsBackend,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    runtime: str,
) -> None:
    if runtime == "python3.12":
        for key, value in fc_environment().items():
            monkeypatch.setenv(key, value)
    hub.fail_next_assume("ServiceUnavailable", 503, "busy")
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    with caplog.at_level(logging.DEBUG):
        result = invoke(message("bucket-in-a", MEMBER_A), runtime)
    assert result["outcome"] == "remediated"
    (issued,) = hub.issued()
    text = caplog.text
    for secret in (
        DEFAULT_CREDENTIALS.access_key_secret,
        DEFAULT_CREDENTIALS.security_token,
        issued.access_key_secret,
        issued.security_token,
    ):
        assert secret not in text
    assert "DoNotLog" not in text.replace(issued.access_key_id, "")


def test_a_member_sessions_keys_are_masked_from_the_moment_sts_issues_them(
    hub: StsBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # Before any OSS client is built for it: whatever an SDK logs of the session from then
    # on (oss2 at DEBUG, OSS's echo of what it signed, in hex) shows no key.
    session = member_access.SESSIONS.get(
        Credentials(
            DEFAULT_CREDENTIALS.access_key_id,
            DEFAULT_CREDENTIALS.access_key_secret,
            DEFAULT_CREDENTIALS.security_token,
        ),
        MEMBER_A,
        MEMBER_ROLE,
        required_actions(Settings.from_env({})),
        function_name="oss_repair_acl_trigger",
        deadline=Deadline(30),
        policy=member_access.sts_policy(1),
    )
    (issued,) = hub.issued()
    secrets = (issued.access_key_secret, issued.security_token)
    assert session.credentials.secrets == secrets
    caplog.set_level(logging.DEBUG)
    for secret in secrets:
        logging.getLogger("oss2.http").debug("sent %s", secret)
        logging.getLogger("oss2.api").info("echo %s", secret.encode().hex())
    for secret in secrets:
        assert secret not in caplog.text
        assert secret.encode().hex() not in caplog.text


def test_no_assume_role_starts_that_could_outlast_the_function(
    fake_oss: OssBackend, hub: StsBackend
) -> None:
    """An AssumeRole is bounded by the SDK's timeouts (15 s), not by the deadline: with
    less time left than that, none is sent and FC gets the delivery back."""
    fake_oss.create_bucket("bucket-in-a", REGION, "public-read", owner_id=MEMBER_A)
    with pytest.raises(TransientOssError, match="no time left"):
        index.handler(message("bucket-in-a", MEMBER_A), fc_context(timeout=12))
    assert hub.calls == []
    assert fake_oss.calls == []
