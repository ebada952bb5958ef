"""`invoke` and `remote-invoke` with the FC 3.0 template, through the real FC 3.0 SDK
(alibabacloud-fc20230330) against the fake of FC 3.0's API; and the choice of API from the
template's edition or from --fc."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resource_repair.cli import main
from resource_repair.testing import DEFAULT_CREDENTIALS, fc_environment
from resource_repair.testing.fc3_api import Fc3ApiBackend, mock_fc3_api
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.identities import FakeCredentials
from resource_repair.testing.sts import mock_sts
from resource_repair.tools.template import TemplateError, load_template
from tests.conftest import EVENTS

# The FC 3.0 SDK's signer calls datetime.utcnow(), deprecated in Python 3.12: its concern.
pytestmark = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcnow:DeprecationWarning:alibabacloud_tea_openapi"
)

ROOT = Path(__file__).parent.parent
FC3_TEMPLATE = str(ROOT / "template.fc3.yml")
FC2_TEMPLATE = str(ROOT / "template.yml")
EVENT = str(EVENTS / "fc3-noncompliance-oss-current-stream.txt")
ACCOUNT = "1698272328540001"  # the fake STS's caller


@pytest.fixture(autouse=True)
def offline(offline: None) -> None:
    """Every test here: no host but loopback resolves (conftest's offline)."""


@pytest.fixture
def fc3(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Fc3ApiBackend]:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_fc3_api() as backend, mock_sts():  # the account is the caller's, from STS
        yield backend


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else None
    return code, result, captured.err


def remediated(payload: bytes) -> FunctionAnswer:
    return FunctionAnswer(
        b'{"status": "success", "outcome": "remediated"}', log="INFO remediated\n"
    )


def test_the_fc3_template_reads_as_an_fc3_function() -> None:
    template = load_template(FC3_TEMPLATE, account_id=ACCOUNT, accept_fc3=True)
    assert template.fc_version == 3
    assert (template.service, template.function) == ("", "oss_repair_acl_trigger")
    assert (template.region, template.timeout, template.handler) == (
        "ap-southeast-1",
        60,
        "index.handler",
    )
    assert template.environment["prepareRuleName"] == "test-oss-bucket-public-read-prohibited"
    assert f"acs:ram::{ACCOUNT}:role/" in template.props["role"]


def test_commands_for_fc2_only_refuse_the_fc3_template_by_name() -> None:
    with pytest.raises(TemplateError, match=r"is an FC 3\.0 template"):
        load_template(FC3_TEMPLATE)


def test_invoke_runs_the_handler_with_the_fc3_templates_settings(
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("prepareRuleName")  # the template is what configures the run
    code, result, _ = run(capsys, "invoke", "-t", FC3_TEMPLATE, "-f", EVENT)
    assert code == 0
    # vars.dryRun reaches the function: a first deployment only reports.
    assert (result["status"], result["outcome"]) == ("success", "dry_run")
    assert result["rule"] == "test-oss-bucket-public-read-prohibited"


def test_remote_invoke_reaches_the_fc3_function_through_the_fc3_api(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend
) -> None:
    fc3.deploy("oss_repair_acl_trigger", remediated)
    code, result, err = run(capsys, "remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT)
    assert code == 0
    assert result == {"status": "success", "outcome": "remediated"}
    assert "INFO remediated" in err
    [call] = fc3.invocations
    assert (call.account_id, call.region, call.function) == (
        ACCOUNT,
        "ap-southeast-1",
        "oss_repair_acl_trigger",
    )
    assert (call.invocation_type, call.log_type, call.qualifier) == ("Sync", "Tail", None)
    assert call.payload == Path(EVENT).read_bytes().rstrip(b"\n")
    assert call.signed_with == DEFAULT_CREDENTIALS.access_key_id
    assert call.carried_token
    assert fc3.refusals == []


def test_remote_invoke_async_with_a_qualifier(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend
) -> None:
    fc3.deploy("oss_repair_acl_trigger", remediated)
    code, result, err = run(
        capsys,
        "remote-invoke",
        "-t",
        FC3_TEMPLATE,
        "-f",
        EVENT,
        "--async",
        "--qualifier",
        "prod",
        "--account-id",
        "1234567890123456",
        "--region",
        "cn-hangzhou",
    )
    assert code == 0
    assert result["request_id"]
    [call] = fc3.invocations
    assert (call.invocation_type, call.log_type, call.qualifier) == ("Async", None, "prod")
    assert (call.account_id, call.region) == ("1234567890123456", "cn-hangzhou")
    assert "accepted for asynchronous invocation" in err


def test_a_function_that_raised_is_a_failed_invocation(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend
) -> None:
    fc3.deploy(
        "oss_repair_acl_trigger",
        lambda payload: FunctionAnswer(
            b'{"errorType": "TransientOssError"}', error_type="UnhandledInvocationError"
        ),
    )
    code, result, err = run(capsys, "remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT)
    assert code == 1
    assert result is None
    assert "invocation failed: the function ended with UnhandledInvocationError" in err


def test_a_failed_result_exits_1(capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend) -> None:
    fc3.deploy("oss_repair_acl_trigger", lambda payload: FunctionAnswer(b'{"status": "fail"}'))
    code, result, _ = run(capsys, "remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT)
    assert (code, result) == (1, {"status": "fail"})


def test_a_missing_function_fails_with_fc3s_error_and_no_secret_in_any_log(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        code, _, err = run(capsys, "remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT)
    assert code == 1
    assert "HTTP 404 FunctionNotFound" in err
    logged = "\n".join(r.getMessage() for r in caplog.records) + err
    for secret in (DEFAULT_CREDENTIALS.security_token, DEFAULT_CREDENTIALS.access_key_secret):
        assert secret not in logged


def test_keys_the_api_does_not_know_are_refused_by_signature(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake recomputes the ACS3 signature: a wrong secret is refused, not invoked."""
    fc3.deploy("oss_repair_acl_trigger", remediated)
    wrong = FakeCredentials(DEFAULT_CREDENTIALS.access_key_id, "not-the-secret", "")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", wrong.access_key_secret)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN")
    code, _, err = run(
        capsys, "remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT, "--account-id", ACCOUNT
    )
    assert code == 1
    assert "SignatureNotMatch" in err
    assert fc3.invocations == []


def test_an_error_reply_that_is_not_json_is_a_one_line_failure(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy's HTML error page instead of FC 3.0's JSON error: exit 1, said in one line."""
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)

    class BadGateway(mock_fc3_api):
        def _respond(self, request: Any) -> Any:
            return 502, {"Content-Type": "text/html"}, "<html><body>Bad Gateway</body></html>"

    with BadGateway():
        code = main(["remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT, "--account-id", ACCOUNT])
    err = capsys.readouterr().err
    assert code == 1
    assert "invocation failed: the FC API answered with an unreadable reply" in err
    assert len(err.strip().splitlines()) == 1


def test_without_a_template_fc3_reaches_an_fc2_function_by_its_fc3_name(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend
) -> None:
    """FC 3.0's API sees the FC 2.0 deployment's function as <service>$<function>."""
    fc3.deploy("resource_repair$oss_repair_acl_trigger", remediated)
    args = ["remote-invoke", "--fc", "3", "--region", "ap-southeast-1", "-f", EVENT]
    code, result, _ = run(capsys, *args, "--service", "resource_repair")
    assert (code, result["outcome"]) == (0, "remediated")
    assert fc3.invocations[-1].function == "resource_repair$oss_repair_acl_trigger"
    fc3.deploy("oss_repair_acl_trigger", remediated)
    code, _, _ = run(capsys, *args)  # without --service: the FC 3.0 template's function
    assert code == 0
    assert fc3.invocations[-1].function == "oss_repair_acl_trigger"


def test_without_a_template_fc2_reaches_the_fc2_api(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    backend: FcApiBackend
    with mock_fc_api() as backend, mock_sts():  # answers FC 2.0's paths only
        backend.deploy("resource_repair", "oss_repair_acl_trigger", remediated)
        code, result, _ = run(
            capsys, "remote-invoke", "--fc", "2", "--region", "ap-southeast-1", "-f", EVENT
        )
    assert (code, result["outcome"]) == (0, "remediated")
    [call] = backend.invocations
    assert (call.service, call.function) == ("resource_repair", "oss_repair_acl_trigger")


def test_the_fc2_template_still_uses_the_fc2_api(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_fc_api() as backend, mock_sts():  # answers FC 2.0's paths only
        backend.deploy("resource_repair", "oss_repair_acl_trigger", remediated)
        code, _, _ = run(capsys, "remote-invoke", "-t", FC2_TEMPLATE, "-f", EVENT)
    assert code == 0
    assert len(backend.invocations) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-t", FC3_TEMPLATE, "--fc", "2"], "is an FC 3.0 template"),
        (["-t", FC2_TEMPLATE, "--fc", "3"], "is an FC 2.0 template"),
        (["--fc", "3"], "--region is needed"),
        (["--fc", "3", "--region", "ap-southeast-1", "--function", "../x"], "not a valid FC name"),
        (["--fc", "2", "--region", "ap-southeast-1", "--service", "a/b"], "not a valid FC name"),
        (["-t", FC3_TEMPLATE, "--account-id", "evil.example.com/"], "must be digits"),
        (["-t", FC3_TEMPLATE, "--region", "x.evil/#"], "not a valid region id"),
    ],
)
def test_what_cannot_be_sent_is_a_usage_error_before_any_request(
    capsys: pytest.CaptureFixture[str], fc3: Fc3ApiBackend, argv: list[str], message: str
) -> None:
    assert main(["remote-invoke", "-f", EVENT, *argv]) == 2
    assert message in capsys.readouterr().err
    assert fc3.invocations == []
    assert fc3.refusals == []


def test_an_unreachable_endpoint_is_a_one_line_reason(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No fake answers: the lookup fails (the offline fixture), as with no network."""
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    code = main(["remote-invoke", "-t", FC3_TEMPLATE, "-f", EVENT, "--account-id", ACCOUNT])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot reach {ACCOUNT}.ap-southeast-1.fc.aliyuncs.com" in err
    assert DEFAULT_CREDENTIALS.security_token not in err
