"""A secret must not leave in any output, in any encoding."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import pytest

from resource_repair.cli import main
from resource_repair.redaction import SecretRedactor
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import mock_config_api
from resource_repair.testing.hostile_http import HostileHttpServer
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from tests.conftest import BUCKET, REGION, RULE_NAME, Invoke, load_event

TEMPLATE = str(Path(__file__).parent.parent / "template.yml")
EVENTS = Path(__file__).parent / "events"

TOKEN = "CAIS8gF1q6Ft5B2yfSjIr5bSEcDFr+Vx1oWfYnD/kjXd9SfE+/x3Tx=="


@pytest.mark.parametrize(
    "shown",
    [
        quote(TOKEN),  # urllib's default keeps "/": RFC 3986 path encoding
        quote(TOKEN, safe="=/"),
        quote(quote(TOKEN)),  # twice, "/" kept each time
        TOKEN.replace("/", "\\/"),  # JSON as Java, PHP and Alibaba's SDKs write it
        TOKEN.replace("+", "\\u002b").replace("/", "\\u002F"),  # JSON \u escapes
    ],
)
def test_a_token_partly_escaped_is_masked(shown: str) -> None:
    redactor = SecretRedactor()
    redactor.remember([TOKEN])
    redacted = redactor.redact(f"answer: {shown}.")
    assert shown not in redacted
    assert redacted == "answer: ***."


def test_an_error_answer_that_echoes_the_token_reaches_no_output(
    fake_oss: OssBackend,
    invoke: Invoke,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whatever a server puts in its error message becomes the reason: the returned result
    # (which FC hands to an async destination), the SMQ notification and the audit line.
    token = DEFAULT_CREDENTIALS.security_token
    backend = MnsBackend()
    backend.create_topic("repair-failures")
    fake_oss.create_bucket(BUCKET, REGION, "public-read")
    fake_oss.fail_next(
        5, status=403, code="AccessDenied", message=f"The security token {token} is not allowed."
    )
    caplog.set_level(logging.DEBUG)
    with fake_mns_server(backend) as server:
        monkeypatch.setenv("failureTopic", "repair-failures")
        monkeypatch.setenv("mnsEndpointOverride", server.url)
        result = invoke(load_event("noncompliance-oss-plain.json"))
        backend.release()
    assert result["status"] == "fail"
    [message] = backend.messages("repair-failures")
    for output in (json.dumps(result), message.body, caplog.text):
        assert token not in output


def test_backfill_writes_no_token_a_server_echoed_to_its_report_or_stderr(
    capsys: pytest.CaptureFixture[str],
    function_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    waits: list[float],
    tmp_path: Path,
) -> None:
    token = DEFAULT_CREDENTIALS.security_token
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    report = tmp_path / "report.jsonl"
    with mock_config_api() as config, mock_oss() as oss:
        rule = config.add_rule(RULE_NAME)
        oss.create_bucket("pub-0001", REGION, "public-read")
        config.add_results(rule, ["pub-0001"], REGION)
        oss.fail_next(5, status=403, code="AccessDenied", message=f"token {token} refused")
        main(["backfill", "-t", TEMPLATE, "--account-id", DEFAULT_ACCOUNT_ID,
              "--rule-id", rule.rule_id, "--report", str(report)])  # fmt: skip
    captured = capsys.readouterr()
    assert "AccessDenied" in report.read_text()
    for output in (report.read_text(), captured.out, captured.err):
        assert token not in output


def test_restore_prints_no_token_a_server_echoed(fake_oss: OssBackend, tmp_path: Path) -> None:
    from tests.test_restore import CREATED, record, run_restore, write_records

    token = DEFAULT_CREDENTIALS.security_token
    fake_oss.create_bucket(BUCKET, REGION, "private", creation_date=CREATED)
    fake_oss.fail_next(
        5, operation="PutBucketAcl", status=403, code="AccessDenied", message=f"{token} refused"
    )
    path = write_records(tmp_path / "report.jsonl", record())
    code, output = run_restore(path, apply=True)
    assert code == 1
    assert "AccessDenied" in output
    assert token not in output


def test_invoke_prints_no_token_a_server_echoed_when_the_delivery_is_handed_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    # A server that answers every request with 503 and the token it was sent: the handler
    # hands the delivery back to FC, and `invoke` prints why.
    token = DEFAULT_CREDENTIALS.security_token
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)

    def echo(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        sent = {k.lower(): v for k, v in headers.items()}.get("x-oss-security-token", "")
        error = f"<Error><Code>ServiceUnavailable</Code><Message>{sent}</Message></Error>"
        return 503, {"Content-Type": "application/xml"}, error.encode()

    with HostileHttpServer(echo) as server:
        code = main(
            ["invoke", "-t", TEMPLATE, "-f", str(EVENTS / "noncompliance-oss-plain.json"),
             "--oss", "real", "--env", f"ossEndpointOverride={server.url}",
             "--env", "ossMaxAttempts=1", "--env", "dryRun=false"]
        )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert "FC would retry" in captured.err
    assert token not in captured.out + captured.err
