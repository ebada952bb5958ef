"""``exemptTag``: a bucket tagged as public on purpose is never written, and the tags are
read only when a write would otherwise follow."""

from __future__ import annotations

import json

import pytest

from resource_repair.testing import OssBackend
from tests.conftest import BUCKET, REGION, Invoke, load_event

CREATED = "2020-01-01T00:00:00.000Z"
READ_EVENT = "noncompliance-oss-current-plain.json"
POLICY_EVENT = "noncompliance-policy-current-plain.json"
ANONYMOUS_POLICY = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Principal": ["*"], "Action": ["oss:*"]}]}
)


def public_bucket(oss: OssBackend, tags: dict[str, str], acl: str = "public-read") -> None:
    oss.create_bucket(BUCKET, REGION, acl, creation_date=CREATED).tags = tags


@pytest.mark.parametrize(
    ("setting", "tags"),
    [
        ("website", {"website": "yes"}),
        ("website", {"website": ""}),
        ("website=yes", {"website": "yes", "team": "web"}),
    ],
)
def test_a_tagged_bucket_is_exempt_and_untouched(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    tags: dict[str, str],
) -> None:
    monkeypatch.setenv("exemptTag", setting)
    public_bucket(fake_oss, tags)
    result = invoke(load_event(READ_EVENT))
    assert (result["status"], result["outcome"]) == ("success", "exempt")
    assert "exemptTag" in result["reason"]
    assert fake_oss.operations() == ["GetBucketInfo", "GetBucketTagging"]
    assert fake_oss.acl_of(BUCKET) == "public-read"


@pytest.mark.parametrize(
    ("setting", "tags"),
    [("website", {}), ("website", {"web": "yes"}), ("website=yes", {"website": "no"})],
    ids=["no-tags", "other-key", "other-value"],
)
def test_a_bucket_without_the_tag_is_remediated(
    fake_oss: OssBackend,
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    tags: dict[str, str],
) -> None:
    monkeypatch.setenv("exemptTag", setting)
    public_bucket(fake_oss, tags)
    result = invoke(load_event(READ_EVENT))
    assert result["outcome"] == "remediated"
    assert fake_oss.operations() == [
        "GetBucketInfo",
        "GetBucketTagging",
        "PutBucketAcl",
        "GetBucketInfo",
    ]


def test_an_already_private_bucket_has_its_tags_left_unread(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptTag", "website")
    public_bucket(fake_oss, {"website": "yes"}, acl="private")
    assert invoke(load_event(READ_EVENT))["outcome"] == "already_private"
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_without_the_setting_no_tags_are_read(fake_oss: OssBackend, invoke: Invoke) -> None:
    public_bucket(fake_oss, {"website": "yes"})
    assert invoke(load_event(READ_EVENT))["outcome"] == "remediated"
    assert "GetBucketTagging" not in fake_oss.operations()


def test_tags_that_cannot_be_read_stop_the_write(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptTag", "website")
    public_bucket(fake_oss, {})
    fake_oss.fail_next(operation="GetBucketTagging", status=403, code="AccessDenied", message="x")
    result = invoke(load_event(READ_EVENT))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "GetBucketTagging refused: AccessDenied" in result["reason"]
    assert "exemption tag is unknown" in result["reason"]
    assert fake_oss.acl_of(BUCKET) == "public-read"


def test_dry_run_reports_the_exemption_rather_than_a_change(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptTag", "website")
    monkeypatch.setenv("dryRun", "true")
    public_bucket(fake_oss, {"website": "1"})
    assert invoke(load_event(READ_EVENT))["outcome"] == "exempt"


def test_a_tagged_bucket_keeps_its_anonymous_policy(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("prepareRuleName", "test-oss-bucket-policy-no-any-anonymous")
    monkeypatch.setenv("exemptTag", "website=yes")
    public_bucket(fake_oss, {"website": "yes"}, acl="private")
    fake_oss.buckets[BUCKET].policy = ANONYMOUS_POLICY
    result = invoke(load_event(POLICY_EVENT))
    assert result["outcome"] == "exempt"
    assert fake_oss.operations() == ["GetBucketPolicy", "GetBucketTagging"]
    assert fake_oss.policy_of(BUCKET) == ANONYMOUS_POLICY


def test_exempt_buckets_keeps_working_and_reads_nothing(
    fake_oss: OssBackend, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("exemptBuckets", BUCKET)
    monkeypatch.setenv("exemptTag", "website")
    public_bucket(fake_oss, {})
    assert invoke(load_event(READ_EVENT))["outcome"] == "exempt"
    assert fake_oss.calls == []


def test_the_exemption_names_the_setting_the_settings_read() -> None:
    from resource_repair import settings
    from resource_repair.remediators import exemption

    assert exemption.SETTING == settings.EXEMPT_TAG
