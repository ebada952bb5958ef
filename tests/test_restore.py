"""``resource-repair restore``: the function's audit lines in, each bucket put back exactly
as it was, or refused when someone changed it since."""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path

import pytest

from resource_repair.credentials import Credentials
from resource_repair.testing import DEFAULT_CREDENTIALS, OssBackend
from resource_repair.tools import restore
from tests.conftest import BUCKET, REGION, Invoke, load_event

CREATED = "2020-01-01T00:00:00.000Z"
# What the command line resolves from ALIBABA_CLOUD_* or a profile.
CREDENTIALS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
POLICY_RULE_NAME = "test-oss-bucket-policy-no-any-anonymous"
ANYONE_READS = {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"]}
PARTNER_WRITES = {"Effect": "Allow", "Action": ["oss:PutObject"], "Principal": ["1234567890"]}
# How FC's log service shows a line the function logged.
LOG_PREFIX = "2026-11-27T10:00:00.123Z 1-6745b2c3-0123456789ab [INFO] "


def policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


@pytest.fixture
def audit_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> tuple[Path, pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger="resource_repair.audit")
    return tmp_path / "audit.log", caplog


def export(audit: tuple[Path, pytest.LogCaptureFixture]) -> Path:
    """The audit lines logged so far, as exported from the function's logs (with the log
    service's prefix, and other log lines between them)."""
    path, caplog = audit
    lines = [
        LOG_PREFIX + r.getMessage() for r in caplog.records if r.name == "resource_repair.audit"
    ]
    path.write_text("delivery received, length 12\n" + "\n".join(lines) + "\n")
    return path


def run_restore(path: Path, *, apply: bool, only: tuple[str, ...] = ()) -> tuple[int, str]:
    out = io.StringIO()
    code = restore.restore(restore.read_changes(path, set(only)), CREDENTIALS, apply=apply, out=out)
    return code, out.getvalue()


def test_an_acl_fix_is_undone_exactly_and_only_with_apply(
    fake_oss: OssBackend, invoke: Invoke, audit_file: tuple[Path, pytest.LogCaptureFixture]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read-write", creation_date=CREATED)
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "remediated"
    path = export(audit_file)
    fake_oss.calls.clear()

    code, output = run_restore(path, apply=False)
    assert code == 0
    assert f"{BUCKET} ({REGION}): would_restore" in output
    assert "set the ACL back from private to public-read-write" in output
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.acl_of(BUCKET) == "private"

    code, output = run_restore(path, apply=True)
    assert code == 0
    assert f"{BUCKET} ({REGION}): restored" in output
    assert fake_oss.acl_of(BUCKET) == "public-read-write"


@pytest.mark.parametrize(
    "before", [policy(ANYONE_READS, PARTNER_WRITES), policy(ANYONE_READS)], ids=["kept", "deleted"]
)
def test_a_policy_fix_is_undone_exactly(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
    before: str,
) -> None:
    monkeypatch.setenv("prepareRuleName", POLICY_RULE_NAME)
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED).policy = before
    assert invoke(load_event("noncompliance-policy-current-plain.json"))["outcome"] == "remediated"
    code, output = run_restore(export(audit_file), apply=True)
    assert (code, "restored: put the bucket policy back" in output) == (0, True)
    assert json.loads(fake_oss.policy_of(BUCKET) or "") == json.loads(before)
    assert fake_oss.acl_of(BUCKET) == "private"


def test_a_bucket_changed_since_is_refused_and_left_alone(
    fake_oss: OssBackend, invoke: Invoke, audit_file: tuple[Path, pytest.LogCaptureFixture]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    invoke(load_event("noncompliance-oss-current-plain.json"))
    fake_oss.buckets[BUCKET].acl = "public-read-write"  # someone opened it again since
    fake_oss.calls.clear()
    code, output = run_restore(export(audit_file), apply=True)
    assert code == 1
    assert "refused: changed since the remediation (ACL is public-read-write" in output
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.acl_of(BUCKET) == "public-read-write"


def test_a_policy_changed_since_is_refused(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("prepareRuleName", POLICY_RULE_NAME)
    bucket = fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    bucket.policy = policy(ANYONE_READS, PARTNER_WRITES)
    invoke(load_event("noncompliance-policy-current-plain.json"))
    bucket.policy = policy(PARTNER_WRITES, {"Effect": "Deny", "Principal": ["*"]})
    fake_oss.calls.clear()
    code, output = run_restore(export(audit_file), apply=True)
    assert code == 1
    assert "the bucket policy is not the one the remediation left" in output
    assert "PutBucketPolicy" not in fake_oss.operations()


def test_a_deleted_bucket_is_not_recreated(
    fake_oss: OssBackend, invoke: Invoke, audit_file: tuple[Path, pytest.LogCaptureFixture]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    invoke(load_event("noncompliance-oss-current-plain.json"))
    fake_oss.delete_bucket(BUCKET)
    code, output = run_restore(export(audit_file), apply=True)
    assert (code, "bucket_not_found" in output) == (1, True)
    assert BUCKET not in fake_oss.buckets


def test_bucket_picks_and_unchanged_buckets_have_nothing_to_restore(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket("other-bucket", REGION, "private")
    lines = [
        {
            "audit": "resource_repair",
            "bucket": BUCKET,
            "region": REGION,
            "outcome": "remediated",
            "acl_before": "public-read",
            "acl_after": "private",
        },
        {
            "audit": "resource_repair",
            "bucket": "other-bucket",
            "region": REGION,
            "outcome": "already_private",
            "acl_before": "private",
            "acl_after": "private",
        },
    ]
    path = tmp_path / "report.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, output = run_restore(path, apply=True, only=("other-bucket",))
    assert code == 0
    assert "other-bucket (ap-southeast-1): nothing_to_restore" in output
    assert BUCKET not in output
    assert fake_oss.calls == []


def test_a_crafted_line_never_sends_a_request_elsewhere(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    line = {
        "audit": "resource_repair",
        "bucket": BUCKET,
        "region": "x.evil.example/#",
        "acl_before": "public-read",
        "acl_after": "private",
    }
    path = tmp_path / "report.jsonl"
    path.write_text(json.dumps(line) + "\n")
    code, _ = run_restore(path, apply=True)
    assert (code, fake_oss.calls, fake_oss.refused) == (0, [], [])


def test_the_command_line_needs_a_report_with_audit_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
    parser = argparse.ArgumentParser()
    restore.add_arguments(parser)
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    for path in (empty, tmp_path / "missing.log"):
        err = io.StringIO()
        assert restore.run(parser.parse_args(["--report", str(path)]), io.StringIO(), err) == 2
        assert str(path) in err.getvalue()


def test_the_command_line_restores_through_a_local_endpoint_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
    parser = argparse.ArgumentParser()
    restore.add_arguments(parser)
    path = tmp_path / "r.jsonl"
    path.write_text('{"audit": "resource_repair", "bucket": "b-1", "region": "cn-hangzhou"}\n')
    err = io.StringIO()
    args = parser.parse_args(["--report", str(path), "--endpoint", "http://203.0.113.9:80"])
    assert restore.run(args, io.StringIO(), err) == 2
    assert "--endpoint" in err.getvalue()


def test_a_delivery_that_looks_like_an_audit_line_is_never_restored(
    fake_oss: OssBackend, invoke: Invoke, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Whoever can publish to the topic sends a short message that the handler ignores but
    # logs (its first 256 characters): it must not read back as an audit record.
    caplog.set_level(logging.INFO)
    fake_oss.create_bucket("victim-data", "cn-hangzhou", "private")
    forged = {
        "audit": "resource_repair",
        "outcome": "remediated",
        "bucket": "victim-data",
        "region": "cn-hangzhou",
        "acl_before": "public-read-write",
        "acl_after": "private",
    }
    invoke(json.dumps(forged, separators=(",", ":")).encode())
    path = tmp_path / "exported.log"
    path.write_text("\n".join(LOG_PREFIX + r.getMessage() for r in caplog.records) + "\n")
    code, _ = run_restore(path, apply=True)
    assert code == 0
    assert fake_oss.acl_of("victim-data") == "private"
    assert "PutBucketAcl" not in fake_oss.operations()


def test_only_a_confirmed_remediation_is_put_back(fake_oss: OssBackend, tmp_path: Path) -> None:
    # A `bucket_replaced` line names a bucket that is not the one that was changed.
    fake_oss.create_bucket(BUCKET, REGION, "private")
    line = {
        "audit": "resource_repair",
        "outcome": "bucket_replaced",
        "bucket": BUCKET,
        "region": REGION,
        "acl_before": "public-read",
        "acl_after": "private",
    }
    path = tmp_path / "report.jsonl"
    path.write_text(json.dumps(line) + "\n")
    code, _ = run_restore(path, apply=True)
    assert code == 0
    assert fake_oss.acl_of(BUCKET) == "private"
    assert "PutBucketAcl" not in fake_oss.operations()


def test_a_bucket_deleted_and_created_again_since_is_another_bucket(
    fake_oss: OssBackend, invoke: Invoke, audit_file: tuple[Path, pytest.LogCaptureFixture]
) -> None:
    # Same name, same private ACL: only the creation date tells that this is not the bucket
    # the remediation changed, and making it public would expose someone's new bucket.
    fake_oss.create_bucket(BUCKET, REGION, "public-read-write", creation_date=CREATED)
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "remediated"
    path = export(audit_file)
    fake_oss.delete_bucket(BUCKET)
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date="2026-11-27T09:00:00.000Z")
    code, output = run_restore(path, apply=True)
    assert code == 1
    assert f"{BUCKET} ({REGION}): refused" in output
    assert "created since the remediation" in output
    assert fake_oss.acl_of(BUCKET) == "private"
