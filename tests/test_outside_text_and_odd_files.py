"""What the commands print of events, templates and answers passes terminal.py (a line of
invoke's stderr cannot become an audit record that restore reads), and files of another
shape (a template nested past the parser, a hand-edited setup record) are one line, never a
traceback. Each test failed on the code before its fix.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

import resource_repair.testing.fc_api as fc_api_module
from resource_repair.audit import audit_record
from resource_repair.cli import main
from resource_repair.report import Outcome, Report
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    OssBackend,
    fc_environment,
    mock_oss,
)
from resource_repair.testing.config import mock_config_api
from resource_repair.testing.fc_api import FunctionAnswer, mock_fc_api
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.sts import mock_sts
from resource_repair.tools import restore
from resource_repair.tools.restore_records import RestoreError
from tests.conftest import EVENTS, REGION, RULE_NAME
from tests.test_setup import ACCOUNT, Cloud, cloud, setup  # noqa: F401 - fixtures
from tests.test_setup import offline as setup_keys_and_loopback  # noqa: F401 - autouse

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "template.yml"
TOKEN = DEFAULT_CREDENTIALS.security_token
# What a terminal acts on: set the title, clear the screen, back to the line's start, and
# show the rest right to left.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r\u202e"
CREATED = "2020-01-01T00:00:00.000Z"


def assert_shown_as_text(text: str) -> None:
    for control in ("\x1b", "\r", "\x07", "\u202e"):
        assert control not in text, repr(text)


def event_about(tmp_path: Path, bucket: str, region: str = REGION) -> Path:
    """A non-compliance message whose bucket (and region) are the given text."""
    message = json.loads((EVENTS / "noncompliance-oss-plain.json").read_text())
    qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier["resourceId"] = qualifier["resourceName"] = bucket
    qualifier["regionId"] = region
    path = tmp_path / "event.json"
    path.write_text(json.dumps(message))
    return path


def use_test_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)


# --- 1. invoke's stderr can carry an audit record a message wrote: restore acts on it ------


@pytest.mark.usefixtures("function_env", "waits")
def test_a_message_cannot_put_an_audit_record_into_invokes_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_test_keys(monkeypatch)
    # The record a hostile message carries: "victim-bucket was public-read-write, made private".
    forged = audit_record(
        Report(
            Outcome.REMEDIATED,
            "changed public-read-write to private",
            bucket="victim-bucket",
            region=REGION,
            acl_before="public-read-write",
            acl_after="private",
            bucket_created=CREATED,
        ),
        "1-abc",
        form="plain",
    )
    bucket = f"x\nINFO resource_repair.audit: {json.dumps(forged)}\ny"
    event = event_about(tmp_path, bucket)
    backend = OssBackend()
    with fake_oss_server(backend, "127.0.0.1") as server:
        # The operator replays the message against OSS (here a loopback fake) and keeps the
        # log, as docs/operating.md's restore section says invoke's stderr may be used.
        main(
            [
                "invoke",
                "--oss",
                "real",
                "-f",
                str(event),
                "--env",
                f"ossEndpointOverride={server.url}",
            ]
        )
    log = tmp_path / "invoke.log"
    log.write_text(capsys.readouterr().err)

    # The bucket name shows escaped on one line: no line of it reads as an audit record.
    with pytest.raises(RestoreError, match="no resource_repair audit record"):
        restore.read_changes(log, set())


# --- 2. prints of outside text that bypass terminal.py -------------------------------------


@pytest.mark.usefixtures("function_env", "waits")
def test_invoke_shows_the_events_bucket_and_region_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["invoke", "-t", str(TEMPLATE), "-f", str(event_about(tmp_path, f"evil{HOSTILE}bkt"))])
    main(["invoke", "-t", str(TEMPLATE), "-f", str(event_about(tmp_path, "ok", f"cn-{HOSTILE}"))])
    assert_shown_as_text(capsys.readouterr().err)


@pytest.mark.usefixtures("function_env", "waits")
def test_invoke_without_a_template_shows_the_events_region_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = event_about(tmp_path, "ok", f"cn-{HOSTILE}")
    monkeypatch.chdir(tmp_path)  # no template.yml here
    main(["invoke", "-f", str(event)])
    assert_shown_as_text(capsys.readouterr().err)


@pytest.mark.usefixtures("function_env", "waits")
def test_invoke_shows_a_templates_endpoint_override_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TEMPLATE.read_text()
    anchor = "          ossEndpointMode: auto\n"
    assert anchor in text
    escaped = json.dumps(f"http://127.0.0.1:1/{HOSTILE}")
    template = tmp_path / "template.yml"
    template.write_text(text.replace(anchor, f"{anchor}          ossEndpointOverride: {escaped}\n"))
    main(["invoke", "-t", str(template), "-f", str(EVENTS / "noncompliance-oss-plain.json")])
    assert_shown_as_text(capsys.readouterr().err)


@pytest.mark.usefixtures("function_env", "waits")
def test_invoke_shows_an_oss_error_that_ends_the_run_as_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = OssBackend()
    backend.create_bucket("config-snapshot", REGION, "public-read", owner_id="1698272328540001")
    backend.fail_next(999, status=503, code="ServiceUnavailable", message=f"all fine{HOSTILE}")
    with fake_oss_server(backend, "127.0.0.1") as server:
        code = main(
            [
                "invoke",
                "-t",
                str(TEMPLATE),
                "-f",
                str(EVENTS / "noncompliance-oss-plain.json"),
                "--env",
                f"ossEndpointOverride={server.url}",
            ]
        )
    err = capsys.readouterr().err
    assert code == 1
    assert "handler raised TransientOssError" in err
    assert_shown_as_text(err)


@pytest.mark.usefixtures("function_env", "waits")
def test_backfill_shows_the_reasons_as_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_test_keys(monkeypatch)
    with mock_config_api() as config, mock_oss() as oss:
        rule = config.add_rule(RULE_NAME)
        oss.create_bucket("pub-1", REGION, "public-read")
        config.add_results(rule, ["pub-1"], REGION)
        oss.fail_next(99, status=403, code="AccessDenied", message=f"all fine{HOSTILE}")
        main(
            [
                "backfill",
                "-t",
                str(TEMPLATE),
                "--account-id",
                DEFAULT_ACCOUNT_ID,
                "--rule-id",
                rule.rule_id,
            ]
        )
    err = capsys.readouterr().err
    assert "most frequent reasons:" in err
    assert_shown_as_text(err)


@pytest.mark.usefixtures("offline", "function_env")
def test_remote_invoke_async_masks_a_token_echoed_as_the_request_id(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_test_keys(monkeypatch)
    # The fake FC answers with whatever request id uuid4 gives: here, the caller's token.
    monkeypatch.setattr(fc_api_module, "uuid", types.SimpleNamespace(uuid4=lambda: TOKEN))
    with mock_fc_api() as backend, mock_sts():
        backend.deploy("resource_repair", "oss_repair_acl_trigger", lambda _: FunctionAnswer(b"{}"))
        code = main(
            [
                "remote-invoke",
                "-t",
                str(TEMPLATE),
                "-f",
                str(EVENTS / "noncompliance-oss-stream.txt"),
                "--async",
            ]
        )
    captured = capsys.readouterr()
    assert code == 0
    assert TOKEN not in captured.err  # the stderr line is masked (terminal.py) ...
    assert TOKEN not in captured.out  # ... the JSON on stdout is not


# --- 3. files of the wrong shape -------------------------------------------------------------


@pytest.mark.usefixtures("function_env")
def test_a_deeply_nested_template_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "template.yml"
    template.write_text("[" * 1000 + "]" * 1000)
    code = main(["invoke", "-t", str(template), "-f", str(EVENTS / "noncompliance-oss-plain.json")])
    assert code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "template" in line


@pytest.mark.parametrize(
    ("entry", "extra"),
    [
        ([], ("--apply",)),
        ({"topics": 5}, ("--apply",)),
        ({"subscriptions": [[1, 2, 3]]}, ("--teardown", "--apply")),
        ({"subscriptions": [["topic", "name", "third"]]}, ("--teardown", "--apply")),
        ({"subscriptions": 7}, ("--teardown", "--apply")),
    ],
    ids=[
        "list-apply",
        "topics-number-apply",
        "subscription-numbers-teardown",
        "subscription-triple-teardown",
        "number-teardown",
    ],
)
def test_a_setup_record_of_another_shape_is_one_line(
    cloud: Cloud,  # noqa: F811 - the fixture
    capsys: pytest.CaptureFixture[str],
    entry: object,
    extra: tuple[str, ...],
) -> None:
    record = cloud.template.parent / ".resource-repair-setup.json"
    record.write_text(json.dumps({f"{ACCOUNT}/{REGION}": entry}))
    code, _, err = setup(cloud, capsys, *extra)
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    assert "internal error" not in err  # read as marking nothing, not caught as a surprise
