"""``blockPublicAccess=true``: Block Public Access switched on right after a fix, read back
and recorded; and put back by restore. Runs on the oss2 the code package carries (2.19.1,
requirements-fc.txt; the FC runtime's own 2.16.0 has no such call)."""

from __future__ import annotations

import io
import json
import logging
import types
from pathlib import Path

import pytest

from resource_repair import oss_client
from resource_repair.credentials import Credentials
from resource_repair.errors import PermanentOssError
from resource_repair.testing import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, OssBackend
from resource_repair.tools import restore
from tests.conftest import BUCKET, REGION, Invoke, load_event

CREATED = "2020-01-01T00:00:00.000Z"
# What the command line resolves from ALIBABA_CLOUD_* or a profile.
CREDENTIALS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
READ_EVENT = "noncompliance-oss-current-plain.json"
BPA_READ, BPA_WRITE = "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock"


@pytest.fixture
def bpa_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("blockPublicAccess", "true")


def test_a_fixed_bucket_gets_block_public_access_read_back_and_recorded(
    fake_oss: OssBackend, invoke: Invoke, bpa_env: None
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    result = invoke(load_event(READ_EVENT))
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert "Block Public Access switched on" in result["reason"]
    assert (result["public_access_block_before"], result["public_access_block_after"]) == (
        False,
        True,
    )
    assert fake_oss.buckets[BUCKET].block_public_access is True
    assert fake_oss.operations()[-3:] == [BPA_READ, BPA_WRITE, BPA_READ]


def test_after_a_policy_fix_too(
    fake_oss: OssBackend, invoke: Invoke, bpa_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("prepareRuleName", "test-oss-bucket-policy-no-any-anonymous")
    bucket = fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    bucket.policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*"}]})
    result = invoke(load_event("noncompliance-policy-current-plain.json"))
    assert result["outcome"] == "remediated"
    assert bucket.block_public_access is True


def test_already_on_is_recorded_and_not_written(
    fake_oss: OssBackend, invoke: Invoke, bpa_env: None
) -> None:
    bucket = fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    bucket.block_public_access = True  # OSS then ignores the public ACL, but Config sees it
    result = invoke(load_event(READ_EVENT))
    assert result["outcome"] == "remediated"
    assert "Block Public Access was already on" in result["reason"]
    assert BPA_WRITE not in fake_oss.operations()


def test_a_bucket_that_needed_no_fix_is_not_touched(
    fake_oss: OssBackend, invoke: Invoke, bpa_env: None
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    assert invoke(load_event(READ_EVENT))["outcome"] == "already_private"
    assert fake_oss.operations() == ["GetBucketInfo"]


def test_dry_run_says_it_would_and_does_not(
    fake_oss: OssBackend, invoke: Invoke, bpa_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dryRun", "true")
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    result = invoke(load_event(READ_EVENT))
    assert result["outcome"] == "dry_run"
    assert "would then switch on Block Public Access" in result["reason"]
    assert fake_oss.operations() == ["GetBucketInfo"]


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (503, "ServiceUnavailable")])
def test_a_failure_after_the_fix_is_reported_not_replayed(
    fake_oss: OssBackend,
    invoke: Invoke,
    bpa_env: None,
    waits: list[float],
    status: int,
    code: str,
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    fake_oss.fail_next(5, operation=BPA_WRITE, status=status, code=code, message="no")
    result = invoke(load_event(READ_EVENT))  # returns: a replay would find it private
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert result["reason"].startswith("changed public-read to private, but Block Public Access")
    assert code in result["reason"]
    assert fake_oss.acl_of(BUCKET) == "private"
    assert fake_oss.buckets[BUCKET].block_public_access is False


def test_an_oss2_without_the_call_fails_plainly_before_sending() -> None:
    old_bucket = types.SimpleNamespace()  # oss2 2.16.0's Bucket has no such method
    with pytest.raises(PermanentOssError) as caught:
        oss_client._sdk_call(old_bucket, "put_bucket_public_access_block")
    assert caught.value.operation == "PutBucketPublicAccessBlock"
    assert caught.value.code == "SdkTooOld"
    assert "2.19.0" in caught.value.message


def test_restore_switches_it_off_first_then_puts_the_acl_back(
    fake_oss: OssBackend,
    invoke: Invoke,
    bpa_env: None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    with caplog.at_level(logging.INFO, logger="resource_repair.audit"):
        invoke(load_event(READ_EVENT))
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(r.getMessage() for r in caplog.records if r.name.endswith("audit")))
    fake_oss.calls.clear()
    out = io.StringIO()
    changes = restore.read_changes(path)
    code = restore.restore(
        changes, CREDENTIALS, caller_account=DEFAULT_ACCOUNT_ID, apply=True, out=out
    )
    assert code == 0, out.getvalue()
    writes = [op for op in fake_oss.operations() if op.startswith("Put")]
    # With Block Public Access on, OSS refuses a public ACL: it goes first.
    assert writes == [BPA_WRITE, "PutBucketAcl"]
    bucket = fake_oss.buckets[BUCKET]
    assert (bucket.acl, bucket.block_public_access) == ("public-read", False)
