"""``resource-repair restore``: the function's audit lines in, each bucket put back exactly
as it was, or refused when someone changed it since."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resource_repair.audit import audit_record
from resource_repair.credentials import Credentials
from resource_repair.report import Outcome, Report
from resource_repair.testing import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, OssBackend
from resource_repair.testing.sts import StsBackend, mock_sts
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


def record(
    outcome: Outcome = Outcome.REMEDIATED,
    *,
    time: str | None = "2026-11-27T10:00:00.123Z",
    **fields: Any,
) -> dict[str, Any]:
    """An audit record as the function writes it (time and creation date given)."""
    fields = {
        "bucket": BUCKET,
        "region": REGION,
        "acl_before": "public-read",
        "acl_after": "private",
        "bucket_created": CREATED,
        **fields,
    }
    line = audit_record(Report(outcome, "a reason", **fields), "1-abc", form="plain")
    if time is None:
        del line["time"]
    else:
        line["time"] = time
    return line


def write_records(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


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
    changes = restore.read_changes(path, set(only))
    code = restore.restore(
        changes, CREDENTIALS, caller_account=DEFAULT_ACCOUNT_ID, apply=apply, out=out
    )
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
    path = write_records(
        tmp_path / "report.jsonl",
        record(),
        record(Outcome.ALREADY_PRIVATE, bucket="other-bucket", acl_before="private"),
    )
    code, output = run_restore(path, apply=True, only=("other-bucket",))
    assert code == 0
    assert "other-bucket (ap-southeast-1): nothing_to_restore" in output
    assert BUCKET not in output
    assert fake_oss.calls == []


def test_a_crafted_line_never_sends_a_request_elsewhere(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    path = write_records(tmp_path / "report.jsonl", record(region="x.evil.example/#"))
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
    write_records(path, record())
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
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    path = write_records(tmp_path / "report.jsonl", record(Outcome.BUCKET_REPLACED))
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


# --- What restore reads: audit records in the documented forms, nothing else -----------

SAMPLES = Path(__file__).parent / "restore_logs"
SAMPLE_BUCKET, SAMPLE_CREATED = "config-snapshot", "2020-07-21T12:03:16.000Z"


@pytest.mark.parametrize(
    ("sample", "passed_over"),
    [("fc-log.txt", 4), ("invoke.txt", 4), ("sls-export.jsonl", 4), ("backfill-report.jsonl", 0)],
)
def test_each_documented_form_is_read_and_every_other_line_passed_over(
    fake_oss: OssBackend, cli_credentials: StsBackend, sample: str, passed_over: int
) -> None:
    fake_oss.create_bucket(SAMPLE_BUCKET, REGION, "private", creation_date=SAMPLE_CREATED)
    out, err = io.StringIO(), io.StringIO()
    args = cli_args("--report", str(SAMPLES / sample), "-t", TEMPLATE, "--apply")
    code = restore.run(args, out, err)
    assert (code, err.getvalue()) == (0, "")
    assert fake_oss.acl_of(SAMPLE_BUCKET) == "public-read-write"
    if passed_over:
        assert f"passed over {passed_over} line(s)" in out.getvalue()
    else:
        assert "passed over" not in out.getvalue()


TEMPLATE = str(Path(__file__).parent.parent / "template.yml")


@pytest.mark.parametrize(
    ("function", "options", "restored"),
    [
        ("oss_repair_acl_sweep", ("-t", TEMPLATE), True),  # the template's sweep
        ("oss_repair_acl_sweep", ("-t", TEMPLATE.replace(".yml", ".fc3.yml")), True),
        ("another_function", ("-t", TEMPLATE), False),  # same service, same logstore
        ("another_function", ("--function-name", "another_function"), True),
        ("oss_repair_acl_trigger", ("--function-name", "another_function"), False),
    ],
)
def test_a_log_service_entry_counts_only_when_one_of_the_functions_logged_it(
    fake_oss: OssBackend,
    cli_credentials: StsBackend,
    tmp_path: Path,
    function: str,
    options: tuple[str, ...],
    restored: bool,
) -> None:
    fake_oss.create_bucket(SAMPLE_BUCKET, REGION, "private", creation_date=SAMPLE_CREATED)
    text = (SAMPLES / "sls-export.jsonl").read_text()
    planted = text.replace('"oss_repair_acl_trigger"', json.dumps(function))
    path = write_text(tmp_path / "sls.jsonl", planted)
    out, err = io.StringIO(), io.StringIO()
    code = restore.run(cli_args("--report", str(path), *options, "--apply"), out, err)
    if restored:
        assert (code, err.getvalue()) == (0, "")
        assert fake_oss.acl_of(SAMPLE_BUCKET) == "public-read-write"
    else:
        assert code == 2
        assert "5 of them Log Service entries of another function" in err.getvalue()
        assert (fake_oss.calls, fake_oss.acl_of(SAMPLE_BUCKET)) == ([], "private")


def test_without_function_names_no_log_service_entry_is_read() -> None:
    # Any function of the service may log to the logstore: whose entries count is told.
    with pytest.raises(restore.RestoreError, match="5 line"):
        restore.read_report(SAMPLES / "sls-export.jsonl")


@pytest.mark.parametrize("separator", ["\t", "   "])
def test_fc_lines_separate_the_record_by_any_whitespace(
    fake_oss: OssBackend, tmp_path: Path, separator: str
) -> None:
    fake_oss.create_bucket(SAMPLE_BUCKET, REGION, "private", creation_date=SAMPLE_CREATED)
    text = (SAMPLES / "fc-log.txt").read_text().replace("[INFO] ", "[INFO]" + separator)
    buckets, passed_over = restore.read_report(write_text(tmp_path / "fc.log", text))
    assert ([b.bucket for b in buckets], passed_over) == ([SAMPLE_BUCKET], 4)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    restore.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def cli_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[StsBackend]:
    """The caller's keys in the environment, and STS that says whose they are."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", CREDENTIALS.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", CREDENTIALS.access_key_secret)
    if CREDENTIALS.security_token:
        monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", CREDENTIALS.security_token)
    with mock_sts() as sts:
        yield sts


@pytest.mark.parametrize(
    "line",
    [
        # The record does not run to the end of the line.
        LOG_PREFIX + json.dumps(record()) + " trailing",
        # Not right after the prefix: another message carrying one.
        LOG_PREFIX + "ignored: rule " + json.dumps(record()),
        # Not logged at INFO by the audit logger.
        LOG_PREFIX.replace("[INFO]", "[WARNING]") + json.dumps(record()),
        "INFO resource_repair.handler: " + json.dumps(record()),
        # The schema: a field of the wrong type, a required field missing, a key twice.
        LOG_PREFIX + json.dumps({**record(), "acl_before": ["public-read"]}),
        LOG_PREFIX + json.dumps({k: v for k, v in record().items() if k != "reason"}),
        LOG_PREFIX + json.dumps(record())[:-1] + ', "outcome": "remediated"}',
        LOG_PREFIX + json.dumps({**record(), "outcome": "something_else"}),
        # A bare record inside a log export is a continuation line of something else.
        json.dumps(record()),
    ],
    ids=[
        "trailing",
        "mid-line",
        "warning",
        "other-logger",
        "wrong-type",
        "missing",
        "duplicate",
        "outcome",
        "bare-in-log",
    ],
)
def test_a_line_that_is_not_an_audit_record_in_a_documented_form_is_passed_over(
    fake_oss: OssBackend, tmp_path: Path, line: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    other = record(bucket="other-bucket", acl_before="private")  # one genuine, unchanged
    path = tmp_path / "exported.log"
    path.write_text(f"{line}\n{LOG_PREFIX}{json.dumps(other)}\n")
    buckets, passed_over = restore.read_report(path)
    assert ([b.bucket for b in buckets], passed_over) == (["other-bucket"], 1)
    run_restore(path, apply=True)
    assert fake_oss.acl_of(BUCKET) == "private"
    assert "PutBucketAcl" not in fake_oss.operations()


def test_a_rule_name_posing_as_a_record_never_reaches_restore(
    fake_oss: OssBackend, invoke: Invoke, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The attack of issue 15: publish one message whose rule name is an audit record, let
    # the function log it (it ignores the rule), export the logs, run restore --apply.
    caplog.set_level(logging.INFO)
    fake_oss.create_bucket("finance-private", "cn-hangzhou", "private", creation_date=CREATED)
    forged = json.dumps(
        {
            "audit": "resource_repair",
            "outcome": "remediated",
            "bucket": "finance-private",
            "region": "cn-hangzhou",
            "acl_before": "public-read-write",
            "acl_after": "private",
            "bucket_created": CREATED,
        },
        separators=(",", ":"),
    )
    message = json.loads(load_event("noncompliance-oss-current-plain.json"))
    message["evaluationResultIdentifier"]["evaluationResultQualifier"]["configRuleName"] = forged
    assert invoke(json.dumps(message).encode())["outcome"] == "ignored"
    path = tmp_path / "exported.log"
    path.write_text(
        "".join(LOG_PREFIX + r.getMessage().replace("\n", "\n  ") + "\n" for r in caplog.records)
    )
    fake_oss.calls.clear()
    with contextlib.suppress(restore.RestoreError):  # or: no record at all
        run_restore(path, apply=True)
    assert fake_oss.acl_of("finance-private") == "private"
    assert fake_oss.calls == []


# --- Creation date, always ----------------------------------------------------------------


def test_a_policy_is_not_put_back_on_a_bucket_created_since_under_the_same_name(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("prepareRuleName", POLICY_RULE_NAME)
    before = policy(ANYONE_READS, PARTNER_WRITES)
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED).policy = before
    assert invoke(load_event("noncompliance-policy-current-plain.json"))["outcome"] == "remediated"
    path = export(audit_file)
    left = fake_oss.policy_of(BUCKET)
    fake_oss.delete_bucket(BUCKET)  # someone's new private bucket, same name, same policy
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date="2026-11-28T00:00:00.000Z")
    fake_oss.buckets[BUCKET].policy = left
    fake_oss.calls.clear()
    code, output = run_restore(path, apply=True)
    assert code == 1
    assert "created since the remediation" in output
    assert fake_oss.policy_of(BUCKET) == left
    assert "PutBucketPolicy" not in fake_oss.operations()


@pytest.mark.parametrize("missing", ["bucket_created", "time"])
def test_a_record_written_before_creation_dates_and_times_is_never_restored(
    fake_oss: OssBackend, tmp_path: Path, missing: str
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    old = record(time=None) if missing == "time" else record(bucket_created=None)
    code, output = run_restore(write_records(tmp_path / "old.jsonl", old), apply=True)
    assert code == 1
    assert f"{BUCKET} ({REGION}): refused" in output
    assert "never put back: restore it by hand" in output
    assert fake_oss.calls == []


# --- Accounts: the operator's list, never the record ---------------------------------------

MEMBER = "1234567890123456"


def test_a_record_naming_another_account_is_refused_unless_listed(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    path = write_records(tmp_path / "hub.jsonl", record(owner_account=MEMBER))
    out = io.StringIO()
    buckets = restore.read_changes(path)
    with mock_sts() as sts:  # the role is given, and would be assumed
        code = restore.restore(
            buckets,
            CREDENTIALS,
            caller_account=DEFAULT_ACCOUNT_ID,
            apply=True,
            out=out,
            member_role="any-role",
        )
    assert code == 1
    assert f"account {MEMBER}, which --member-accounts does not list" in out.getvalue()
    assert (sts.assumed, fake_oss.calls) == ([], [])


def test_a_record_naming_no_valid_account_is_refused_not_taken_for_the_callers(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    path = write_records(tmp_path / "hub.jsonl", record(owner_account="acs:ram::1:role/x"))
    code, output = run_restore(path, apply=True)
    assert code == 1
    assert "account 'acs:ram::1:role/x', which --member-accounts does not list" in output
    assert fake_oss.calls == []


OTHER = "2222333344445555"


def test_a_record_of_the_callers_own_is_never_restored_on_another_accounts_bucket(
    fake_oss: OssBackend, cli_credentials: StsBackend, tmp_path: Path
) -> None:
    # The other account's bucket policy lets the caller in: OSS would take the write.
    bucket = fake_oss.create_bucket(BUCKET, REGION, "private", OTHER, creation_date=CREATED)
    bucket.shared_with.add(DEFAULT_ACCOUNT_ID)
    path = write_records(tmp_path / "own.jsonl", record())  # no owner_account: the caller's
    out = io.StringIO()
    code = restore.run(cli_args("--report", str(path), "--apply"), out, io.StringIO())
    assert code == 1
    assert f"owned by account {OTHER}, not {DEFAULT_ACCOUNT_ID}" in out.getvalue()
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.acl_of(BUCKET) == "private"


def test_a_listed_member_accounts_record_is_never_restored_on_a_third_accounts_bucket(
    fake_oss: OssBackend, cli_credentials: StsBackend, tmp_path: Path
) -> None:
    from resource_repair import member_access

    member_access.SESSIONS.clear()
    cli_credentials.add_role(MEMBER, "member-role", DEFAULT_ACCOUNT_ID)
    cli_credentials.serve_oss(fake_oss)
    bucket = fake_oss.create_bucket(BUCKET, REGION, "private", OTHER, creation_date=CREATED)
    bucket.shared_with.add(MEMBER)  # a third account's policy lets the member's role in
    path = write_records(tmp_path / "hub.jsonl", record(owner_account=MEMBER))
    args = cli_args(
        *("--report", str(path), "--member-role", "member-role", "--member-accounts", MEMBER),
        "--apply",
    )
    out = io.StringIO()
    try:
        assert restore.run(args, out, out) == 1
    finally:
        member_access.SESSIONS.clear()
    assert len(cli_credentials.assumed) == 1  # reached through the member's role
    assert f"owned by account {OTHER}, not {MEMBER}" in out.getvalue()
    assert fake_oss.operations() == ["GetBucketInfo"]
    assert fake_oss.acl_of(BUCKET) == "private"


def test_restore_asks_sts_whose_keys_they_are_through_a_loopback_endpoint_only(
    fake_oss: OssBackend, cli_credentials: StsBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    path = write_records(tmp_path / "own.jsonl", record())
    err = io.StringIO()
    args = cli_args("--report", str(path), "--apply", "--sts-endpoint", "localhost:80@example.com")
    assert restore.run(args, io.StringIO(), err) == 2
    assert "--sts-endpoint 'localhost:80@example.com' must be a loopback" in err.getvalue()
    assert (cli_credentials.calls, fake_oss.calls) == ([], [])


def test_restore_writes_nothing_when_sts_cannot_say_whose_keys_they_are(
    fake_oss: OssBackend, cli_credentials: StsBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    path = write_records(tmp_path / "own.jsonl", record())
    cli_credentials.credentials.clear()  # STS refuses the caller's key
    err = io.StringIO()
    assert restore.run(cli_args("--report", str(path), "--apply"), io.StringIO(), err) == 2
    assert "GetCallerIdentity" in err.getvalue()
    assert fake_oss.calls == []


@pytest.mark.parametrize(
    ("accounts", "says"),
    [
        ("*", "'*' is refused"),
        (f"{MEMBER},*", "'*' is refused"),
        ("12345", "not an account id"),
        (f"{MEMBER},acs:ram::1:role/x", "not an account id"),
        ("", "not an account id"),
    ],
)
def test_member_accounts_are_ids_only(
    tmp_path: Path, cli_credentials: StsBackend, accounts: str, says: str
) -> None:
    path = write_records(tmp_path / "r.jsonl", record())
    args = cli_args("--report", str(path), "--member-role", "r", "--member-accounts", accounts)
    err = io.StringIO()
    assert restore.run(args, io.StringIO(), err) == 2
    assert says in err.getvalue()


# --- What changed, even when the outcome is `failed` -------------------------------------


def test_an_acl_set_before_block_public_access_was_refused_is_put_back(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("blockPublicAccess", "true")
    fake_oss.create_bucket(BUCKET, REGION, "public-read-write", creation_date=CREATED)
    fake_oss.fail_next(5, operation="PutBucketPublicAccessBlock", status=403, code="AccessDenied")
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "failed"
    code, output = run_restore(export(audit_file), apply=True)
    assert (code, f"{BUCKET} ({REGION}): restored" in output) == (0, True), output
    assert fake_oss.acl_of(BUCKET) == "public-read-write"


def test_an_acl_written_but_not_read_back_is_put_back(
    fake_oss: OssBackend, invoke: Invoke, audit_file: tuple[Path, pytest.LogCaptureFixture]
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "public-read-write", creation_date=CREATED)
    fake_oss.before_next(
        "PutBucketAcl",
        lambda oss: oss.fail_next(1, operation="GetBucketInfo", status=403, code="AccessDenied"),
    )
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "failed"
    code, output = run_restore(export(audit_file), apply=True)
    assert code == 0, output
    assert fake_oss.acl_of(BUCKET) == "public-read-write"


def test_block_public_access_switched_on_but_not_read_back_is_switched_off_again(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("blockPublicAccess", "true")
    fake_oss.create_bucket(BUCKET, REGION, "public-read", creation_date=CREATED)
    fake_oss.before_next(
        "PutBucketPublicAccessBlock",
        lambda oss: oss.fail_next(
            1, operation="GetBucketPublicAccessBlock", status=403, code="AccessDenied"
        ),
    )
    assert invoke(load_event("noncompliance-oss-current-plain.json"))["outcome"] == "failed"
    assert fake_oss.buckets[BUCKET].block_public_access is True
    code, output = run_restore(export(audit_file), apply=True)
    assert code == 0, output
    bucket = fake_oss.buckets[BUCKET]
    assert (bucket.acl, bucket.block_public_access) == ("public-read", False)


def test_a_policy_written_but_not_read_back_is_put_back(
    fake_oss: OssBackend,
    invoke: Invoke,
    audit_file: tuple[Path, pytest.LogCaptureFixture],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("prepareRuleName", POLICY_RULE_NAME)
    before = policy(ANYONE_READS, PARTNER_WRITES)
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED).policy = before
    fake_oss.before_next(
        "PutBucketPolicy",
        lambda oss: oss.fail_next(5, operation="GetBucketPolicy", code="ServiceUnavailable"),
    )
    assert invoke(load_event("noncompliance-policy-current-plain.json"))["outcome"] == "failed"
    code, output = run_restore(export(audit_file), apply=True)
    assert (code, "restored: put the bucket policy back" in output) == (0, True), output
    assert json.loads(fake_oss.policy_of(BUCKET) or "") == json.loads(before)


# --- Order: the latest fix of each kind, by its recorded time ------------------------------


def test_the_latest_fix_is_put_back_and_the_earlier_ones_named(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    latest = record(time="2026-11-28T08:00:00.000Z", acl_before="public-read")
    earlier = record(time="2026-11-27T08:00:00.000Z", acl_before="public-read-write")
    # Out of order in the file, as a merged export may be: the recorded time decides.
    path = write_records(tmp_path / "merged.jsonl", latest, earlier)
    code, output = run_restore(path, apply=True)
    assert code == 0, output
    assert fake_oss.acl_of(BUCKET) == "public-read"
    assert "earlier ACL fix at 2026-11-27T08:00:00.000Z: not put back" in output


def test_a_write_that_does_not_stick_fails_the_restore(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    fake_oss.drop_next_writes(1)  # PutBucketAcl answers 200 and changes nothing
    code, output = run_restore(write_records(tmp_path / "r.jsonl", record()), apply=True)
    assert code == 1
    assert "failed: written, but reads back different: ACL is private" in output


def test_recorded_text_is_shown_escaped_never_acted_on_by_the_terminal(
    fake_oss: OssBackend, tmp_path: Path
) -> None:
    # A record's values are checked for their type; a text value may still hold anything.
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    hostile = f"{CREATED}\x1b[2J\r{BUCKET} (cn-hangzhou): restored"
    path = write_records(tmp_path / "report.jsonl", record(bucket_created=hostile))
    code, output = run_restore(path, apply=False)
    assert code == 1
    assert "\x1b" not in output
    assert "\r" not in output
    assert "refused" in output
