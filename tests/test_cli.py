"""The resource-repair command, run the way a user runs it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_repair.cli import main
from resource_repair.testing import DEFAULT_CREDENTIALS, fc_environment, mock_oss
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.sts import mock_sts
from tests.conftest import BUCKET, EVENTS, REGION

ROOT = Path(__file__).parent.parent
TEMPLATE = str(ROOT / "template.yml")
SEED_STREAM = str(EVENTS / "noncompliance-oss-stream.txt")


@pytest.fixture(autouse=True)
def clean_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("prepareRuleName")  # the template is what configures a local run


@pytest.fixture(autouse=True)
def offline(offline: None) -> None:
    """Every test here: no host but loopback resolves (conftest's offline)."""


def run(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, dict[str, object] | None, str]:
    """The command's exit code, JSON result and stderr. ``invoke`` runs as a deployment
    does after its dry run was reviewed (README, Deploying): the template ships with
    dryRun "true", which test_invoke_with_the_template_as_shipped_only_reports holds."""
    if argv[:1] == ("invoke",) and not any(a.startswith("dryRun=") for a in argv):
        argv = (*argv, "--env", "dryRun=false")
    code = main(list(argv))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else None
    return code, result, captured.err


@pytest.mark.parametrize(
    "name",
    [
        "noncompliance-oss-stream.txt",
        "noncompliance-oss-attrs.json",
        "noncompliance-oss-json-envelope.json",
        "noncompliance-oss-plain.json",
        "noncompliance-oss-current-stream.txt",
    ],
)
@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_invoke_makes_the_public_fake_bucket_private(
    capsys: pytest.CaptureFixture[str], name: str, runtime: str
) -> None:
    code, result, err = run(
        capsys, "invoke", "-t", TEMPLATE, "-f", str(EVENTS / name), "--runtime", runtime
    )
    assert code == 0
    assert result is not None
    assert (result["outcome"], result["bucket"]) == ("remediated", BUCKET)
    assert f"bucket {BUCKET} ({REGION}): public-read -> private" in err
    assert "requests: GetBucketInfo, PutBucketAcl, GetBucketInfo" in err


@pytest.mark.parametrize(
    ("extra", "outcome", "code"),
    [
        (["--no-bucket"], "bucket_not_found", 0),
        (["--bucket-acl", "private"], "already_private", 0),
        (["--env", "dryRun=true"], "dry_run", 0),
        (["--env", f"exemptBuckets={BUCKET}"], "exempt", 0),
        (["--env", "prepareRuleName=another-rule"], "ignored", 0),
        (["--account-id", "1111111111111111"], "invalid_event", 1),
    ],
)
def test_invoke_options_change_the_scene(
    capsys: pytest.CaptureFixture[str], extra: list[str], outcome: str, code: int
) -> None:
    exit_code, result, _ = run(capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM, *extra)
    assert result is not None
    assert (exit_code, result["outcome"]) == (code, outcome)


def test_invoke_with_the_template_as_shipped_only_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["invoke", "-t", TEMPLATE, "-f", SEED_STREAM])
    result = json.loads(capsys.readouterr().out)
    assert (code, result["outcome"]) == (0, "dry_run")


def test_no_bucket_is_reported_missing_and_not_created(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run(capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--no-bucket")
    assert "missing -> missing; requests: GetBucketInfo" in err


def test_invoke_accepts_the_event_inline(capsys: pytest.CaptureFixture[str]) -> None:
    text = (EVENTS / "noncompliance-oss-plain.json").read_text()
    code, result, _ = run(capsys, "invoke", "-t", TEMPLATE, "-e", text)
    assert code == 0
    assert result is not None
    assert result["outcome"] == "remediated"


def test_hostile_event_exits_1_with_invalid_event(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = run(
        capsys, "invoke", "-t", TEMPLATE, "-f", str(EVENTS / "hostile-crafted-region-stream.txt")
    )
    assert code == 1
    assert result is not None
    assert result["outcome"] == "invalid_event"


def test_throttling_that_outlasts_retries_exits_1_saying_fc_would_retry(
    capsys: pytest.CaptureFixture[str], waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    from resource_repair.testing.oss import models

    original = models.OssBackend.__init__

    def throttled(self: models.OssBackend) -> None:
        original(self)
        self.fail_next(100, status=503, code="MetaOperationQpsLimitExceeded")

    monkeypatch.setattr(models.OssBackend, "__init__", throttled)
    code, result, err = run(capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    assert code == 1
    assert result is None
    assert "FC would retry" in err


@pytest.mark.parametrize("form", ["stream", "attrs", "json", "plain"])
def test_event_writes_a_message_that_invoke_remediates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, form: str
) -> None:
    path = tmp_path / f"event-{form}"
    assert (
        main(
            [
                "event",
                "--bucket",
                "my-bucket",
                "--region",
                "cn-hangzhou",
                "--form",
                form,
                "-o",
                str(path),
            ]
        )
        == 0
    )
    code, result, _ = run(capsys, "invoke", "-t", TEMPLATE, "-f", str(path))
    assert code == 0
    assert result is not None
    assert (result["outcome"], result["bucket"], result["region"]) == (
        "remediated",
        "my-bucket",
        "cn-hangzhou",
    )


def test_event_prints_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["event", "--bucket", "my-bucket", "--region", "cn-hangzhou", "--form", "plain"]) == 0
    )
    message = json.loads(capsys.readouterr().out)
    assert (
        message["evaluationResultIdentifier"]["evaluationResultQualifier"]["resourceId"]
        == "my-bucket"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "-t", TEMPLATE, "-f", "/nonexistent/event.json"], "cannot read event file"),
        (["invoke", "-t", "/nonexistent/template.yml", "-f", SEED_STREAM], "cannot read template"),
        (["invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--env", "novalue"], "is not NAME=VALUE"),
        (["invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--oss", "real"], "--oss real needs"),
        (
            ["event", "--bucket", "b", "--region", "cn-hangzhou", "--account-id", "x1"],
            "must be digits",
        ),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("resource-repair: error:")
    assert message in err
    assert "Traceback" not in err


def test_unparseable_template_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "template.yml"
    bad.write_text("services: [unclosed\n")
    assert main(["invoke", "-t", str(bad), "-f", SEED_STREAM]) == 2
    assert "is not valid YAML" in capsys.readouterr().err


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["invoke", "--runtime", "python2.7", "-f", SEED_STREAM])
    assert caught.value.code == 2


def test_real_oss_mode_warns_and_uses_the_public_endpoint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_oss() as oss:  # stands in for the real service: nothing leaves the machine
        oss.create_bucket(BUCKET, REGION, "public-read")
        code, result, err = run(
            capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--oss", "real"
        )
    assert code == 0
    assert result is not None
    assert result["outcome"] == "remediated"
    assert f"this will WRITE the ACL of the real bucket {BUCKET} in {REGION}" in err
    assert all(not call.internal for call in oss.calls)


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "resource_repair", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "remote-invoke" in done.stdout


# -- remote-invoke -------------------------------------------------------------------------


@pytest.fixture
def fc_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FcApiBackend]:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_fc_api() as backend, mock_sts():  # the account is the caller's, from STS
        yield backend


def remediated(payload: bytes) -> FunctionAnswer:
    return FunctionAnswer(
        b'{"status": "success", "outcome": "remediated"}', log="INFO remediated\n"
    )


def test_remote_invoke_sync_sends_the_event_and_shows_result_and_log(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend
) -> None:
    fc_api.deploy("resource_repair", "oss_repair_acl_trigger", remediated)
    code, result, err = run(capsys, "remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    assert code == 0
    assert result == {"status": "success", "outcome": "remediated"}
    assert "INFO remediated" in err
    [call] = fc_api.invocations
    assert (call.account_id, call.region) == ("1698272328540001", "ap-southeast-1")
    assert (call.service, call.function, call.qualifier) == (
        "resource_repair",
        "oss_repair_acl_trigger",
        None,
    )
    assert (call.invocation_type, call.log_type) == ("Sync", "Tail")
    assert call.payload == (EVENTS / "noncompliance-oss-stream.txt").read_bytes().rstrip(b"\n")
    assert call.signed_with == DEFAULT_CREDENTIALS.access_key_id
    assert call.carried_token


def test_remote_invoke_async_with_qualifier(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend
) -> None:
    fc_api.deploy("resource_repair", "oss_repair_acl_trigger", remediated)
    code, result, err = run(
        capsys,
        "remote-invoke",
        "-t",
        TEMPLATE,
        "-f",
        SEED_STREAM,
        "--async",
        "--qualifier",
        "prod",
        "--account-id",
        "1234567890123456",
        "--region",
        "cn-hangzhou",
    )
    assert code == 0
    assert result is not None
    assert result["request_id"]
    [call] = fc_api.invocations
    assert (call.invocation_type, call.log_type, call.qualifier) == ("Async", None, "prod")
    assert (call.account_id, call.region) == ("1234567890123456", "cn-hangzhou")
    assert "accepted for asynchronous invocation" in err


def test_remote_invoke_reports_a_function_that_raised(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend
) -> None:
    fc_api.deploy(
        "resource_repair",
        "oss_repair_acl_trigger",
        lambda payload: FunctionAnswer(
            b'{"errorType": "TransientOssError"}', error_type="UnhandledInvocationError"
        ),
    )
    code, _, err = run(capsys, "remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    assert code == 1
    assert "invocation failed" in err


def test_remote_invoke_of_a_missing_function_fails_without_leaking_keys(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        code, _, err = run(capsys, "remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    assert code == 1
    assert "FunctionNotFound" in err
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request headers" in logged  # fc2 did log the headers ...
    for secret in (DEFAULT_CREDENTIALS.security_token, DEFAULT_CREDENTIALS.access_key_secret):
        assert secret not in logged  # ... with the credentials masked


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--account-id", "evil.example.com/"], "must be digits"),
        (["--region", "x.evil/#"], "not a valid region id"),
    ],
)
def test_remote_invoke_refuses_crafted_hosts(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend, extra: list[str], message: str
) -> None:
    assert main(["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, *extra]) == 2
    assert message in capsys.readouterr().err
    assert fc_api.invocations == []


def test_remote_invoke_needs_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_fc_api() as backend:
        assert main(["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM]) == 2
    assert "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID" in capsys.readouterr().err
    assert backend.invocations == []


def test_fake_bucket_state_does_not_leak_between_runs(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    code, result, _ = run(capsys, "invoke", "-t", TEMPLATE, "-f", SEED_STREAM)
    assert code == 0
    assert result is not None
    assert result["outcome"] == "remediated"  # a fresh public bucket each run


def test_real_oss_mode_with_dry_run_says_it_only_reads(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_oss() as oss:
        oss.create_bucket(BUCKET, REGION, "public-read")
        code, result, err = run(
            capsys,
            "invoke",
            "-t",
            TEMPLATE,
            "-f",
            SEED_STREAM,
            "--oss",
            "real",
            "--env",
            "dryRun=yes",
        )
    assert code == 0
    assert result is not None
    assert result["outcome"] == "dry_run"
    assert "this will read the ACL of the real bucket" in err
    assert oss.acl_of(BUCKET) == "public-read"
