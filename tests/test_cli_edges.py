"""The command line's edges: the caller's own account, bad input, unreachable services.

Every test runs offline: a host name that no fake intercepts fails to resolve, as on a
machine without network, so nothing here can reach a real endpoint.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from resource_repair import cli, settings
from resource_repair.cli import main
from resource_repair.testing import DEFAULT_CREDENTIALS, FakeCredentials, fc_environment, mock_oss
from resource_repair.testing.config import ConfigBackend, mock_config_api
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.oss import OssBackend
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.sts import StsBackend, fake_sts_server, mock_sts
from resource_repair.tools.template import load_template
from tests.conftest import BUCKET, EVENTS, REGION, RULE_NAME

ROOT = Path(__file__).parent.parent
TEMPLATE = str(ROOT / "template.yml")
SEED_STREAM = str(EVENTS / "noncompliance-oss-stream.txt")
# The caller's own account, unlike the example account of the recorded events.
CALLER = FakeCredentials(
    "LTAI5tCallerKeyDoNotLog01", "CallerSecretDoNotLog0123456789", account_id="5555000011112222"
)
# The settings' own declaration of what the function reads (others may add to it).
EVERY_VARIABLE = (*settings.VARIABLES, *settings.LOCAL_ONLY_VARIABLES)


@pytest.fixture(autouse=True)
def offline(offline: None, function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's offline, and the template configures a local run."""
    monkeypatch.delenv("prepareRuleName")  # the template is what configures a local run


@pytest.fixture
def as_caller(monkeypatch: pytest.MonkeyPatch) -> FakeCredentials:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", CALLER.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", CALLER.access_key_secret)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    return CALLER


@pytest.fixture
def sts(as_caller: FakeCredentials) -> Iterator[StsBackend]:
    with mock_sts() as backend:
        backend.register(as_caller)
        yield backend


def outcome(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr, whether the command returned or argparse exited."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- 1. the account is the caller's --------------------------------------------------------


def test_whoami_prints_the_callers_account_and_arn(
    capsys: pytest.CaptureFixture[str], sts: StsBackend
) -> None:
    code, out, err = outcome(["whoami"], capsys)
    assert (code, err) == (0, "")
    assert out == f"{CALLER.account_id} acs:ram::{CALLER.account_id}:user/resource-repair-dev\n"
    assert sts.calls == [CALLER.access_key_id]


def test_whoami_against_the_fake_sts_over_http(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials
) -> None:
    backend = StsBackend()
    backend.register(as_caller)
    with fake_sts_server(backend) as server:
        endpoint = server.url.removeprefix("http://")
        code, out, _ = outcome(["whoami", "--sts-endpoint", endpoint], capsys)
    assert (code, out.split()[0]) == (0, CALLER.account_id)


def test_the_sts_endpoint_must_be_loopback(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials
) -> None:
    code, _, err = outcome(["whoami", "--sts-endpoint", "evil.example:80"], capsys)
    assert code == 2
    assert "must be a loopback host:port" in one_line(err)


def test_whoami_with_sts_credentials_names_the_assumed_role(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    with mock_sts():
        code, out, _ = outcome(["whoami"], capsys)
    assert code == 0
    assert out.startswith(f"{DEFAULT_CREDENTIALS.account_id} acs:ram::")
    assert ":assumed-role/" in out


def test_whoami_reads_an_aliyun_cli_profile(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".aliyun").mkdir()
    profile = {
        "name": "work",
        "mode": "AK",
        "access_key_id": CALLER.access_key_id,
        "access_key_secret": CALLER.access_key_secret,
    }
    (tmp_path / ".aliyun" / "config.json").write_text(
        json.dumps({"current": "work", "profiles": [profile]})
    )
    with mock_sts() as backend:
        backend.register(CALLER)
        code, out, _ = outcome(["whoami", "--profile", "work"], capsys)
    assert code == 0
    assert out.split()[0] == CALLER.account_id


def test_whoami_with_a_key_sts_does_not_know_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials
) -> None:
    with mock_sts():  # CALLER is not registered
        code, out, err = outcome(["whoami"], capsys)
    assert (code, out) == (1, "")
    assert "InvalidAccessKeyId.NotFound" in one_line(err)
    assert CALLER.access_key_secret not in err


def test_whoami_without_credentials_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_sts() as backend:
        code, _, err = outcome(["whoami"], capsys)
    assert code == 2
    assert "no credentials" in one_line(err)
    assert backend.calls == []


def behaves(payload: bytes) -> FunctionAnswer:
    return FunctionAnswer(b'{"status": "success", "outcome": "remediated"}')


@pytest.fixture
def fc_api(sts: StsBackend) -> Iterator[FcApiBackend]:
    with mock_fc_api() as backend:
        backend.credentials[CALLER.access_key_id] = CALLER
        backend.deploy("resource_repair", "oss_repair_acl_trigger", behaves)
        yield backend


def test_remote_invoke_goes_to_the_callers_account(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend, sts: StsBackend
) -> None:
    code, _, _ = outcome(["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM], capsys)
    assert code == 0
    [call] = fc_api.invocations
    assert call.account_id == CALLER.account_id
    assert sts.calls == [CALLER.access_key_id]


def test_remote_invoke_with_account_id_asks_sts_nothing(
    capsys: pytest.CaptureFixture[str], fc_api: FcApiBackend, sts: StsBackend
) -> None:
    argv = ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--account-id", "1234567890"]
    assert outcome(argv, capsys)[0] == 0
    assert [call.account_id for call in fc_api.invocations] == ["1234567890"]
    assert sts.calls == []


@pytest.fixture
def clouds(
    sts: StsBackend, waits: list[float]
) -> Iterator[tuple[ConfigBackend, OssBackend, StsBackend]]:
    with mock_config_api() as config, mock_oss() as oss, mock_sts() as inner:
        inner.register(CALLER)  # entered last, inside the Config fake, as documented
        config.credentials[CALLER.access_key_id] = CALLER
        oss.register_credentials(CALLER)
        yield config, oss, inner


def test_backfill_acts_for_the_callers_account_and_refuses_others(
    capsys: pytest.CaptureFixture[str], clouds: tuple[ConfigBackend, OssBackend, StsBackend]
) -> None:
    config, oss, sts = clouds
    rule = config.add_rule(RULE_NAME)
    oss.create_bucket("mine", REGION, "public-read", owner_id=CALLER.account_id)
    config.add_results(rule, ["mine"], REGION, owner_id=CALLER.account_id)
    oss.create_bucket("theirs", REGION, "public-read")  # the example account's
    config.add_results(rule, ["theirs"], REGION)
    code, out, _ = outcome(
        ["backfill", "-t", TEMPLATE, "--rule-id", rule.rule_id, "--apply"], capsys
    )
    assert code == 0
    assert sts.calls == [CALLER.access_key_id]
    assert oss.acl_of("mine") == "private"
    assert oss.acl_of("theirs") == "public-read"
    assert "invalid_event" in out


def minimal_template(path: Path, role_account: str, variables: str = "") -> str:
    """A one-function template whose trigger role names the account as ``role_account``."""
    path.write_text(
        f"""edition: 1.0.0
vars:
  region: ap-southeast-1
{variables}
services:
  resource_repair:
    component: fc
    props:
      region: ${{vars.region}}
      service: {{name: resource_repair}}
      function:
        name: oss_repair_acl_trigger
        runtime: python3.10
        codeUri: ./src
        handler: index.handler
        environmentVariables: {{prepareRuleName: {RULE_NAME}}}
      triggers:
        - name: t
          type: mns_topic
          role: acs:ram::{role_account}:role/AliyunMNSNotificationRole
"""
    )
    return str(path)


@pytest.mark.parametrize("spelling", ["${config('AccountID')}", "${config(AccountID)}"])
def test_template_takes_the_account_from_serverless_devs_config(
    tmp_path: Path, spelling: str
) -> None:
    path = minimal_template(tmp_path / "template.yml", spelling)
    resolved = load_template(path, account_id=CALLER.account_id)
    role = f"acs:ram::{CALLER.account_id}:role/AliyunMNSNotificationRole"
    assert resolved.props["triggers"][0]["role"] == role
    unresolved = load_template(path)  # a local run needs no account: left as it is
    assert unresolved.props["triggers"][0]["role"] == role.replace(CALLER.account_id, spelling)


def test_the_repositorys_template_names_no_account() -> None:
    text = (ROOT / "template.yml").read_text()
    props = json.dumps(load_template(ROOT / "template.yml", account_id="42").props)
    assert "1698272328540001" not in text
    assert "acs:oss:*:42:*" in props


def test_a_template_account_variable_is_never_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fc_api: FcApiBackend
) -> None:
    path = minimal_template(
        tmp_path / "template.yml", "${vars.accountId}", '  accountId: "9999999999999999"'
    )
    assert outcome(["remote-invoke", "-t", path, "-f", SEED_STREAM], capsys)[0] == 0
    assert [call.account_id for call in fc_api.invocations] == [CALLER.account_id]


def test_invoke_runs_with_the_account_expression_unresolved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = minimal_template(tmp_path / "template.yml", "${config(AccountID)}")
    code, out, _ = outcome(["invoke", "-t", path, "-f", SEED_STREAM], capsys)
    assert (code, json.loads(out)["outcome"]) == (0, "remediated")


# -- 3. no sharp edges -----------------------------------------------------------------------


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """No host answers: every connection attempt times out. Returns the connect timeouts
    the clients asked for."""
    import urllib3.util.connection as plain
    from aliyunsdkcore.vendored.requests.packages.urllib3.util import connection as vendored

    timeouts: list[float] = []

    def time_out(address: Any, timeout: Any = None, *args: Any, **kwargs: Any) -> Any:
        timeouts.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(plain, "create_connection", time_out)
    monkeypatch.setattr(vendored, "create_connection", time_out)
    return timeouts


@pytest.mark.parametrize(
    "argv",
    [
        ["whoami"],
        ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM],
        ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--account-id", "1234"],
        ["backfill", "-t", TEMPLATE, "--rule-id", "cr-0001", "--account-id", "1234"],
    ],
    ids=["whoami", "remote-invoke", "remote-invoke-account", "backfill"],
)
def test_a_service_that_does_not_answer_fails_fast_in_one_line(
    capsys: pytest.CaptureFixture[str],
    as_caller: FakeCredentials,
    unreachable: list[float],
    waits: list[float],
    argv: list[str],
) -> None:
    code, out, err = outcome(argv, capsys)
    assert (code, out) == (1, "")
    assert "resource-repair:" in one_line(err)
    assert unreachable
    assert all(0 < t <= 5 for t in unreachable), unreachable


@pytest.mark.parametrize(
    "argv",
    [
        ["whoami"],
        ["backfill", "-t", TEMPLATE, "--rule-id", "cr-0001", "--account-id", "1234"],
    ],
    ids=["whoami", "backfill"],
)
def test_an_unreachable_service_is_reported_without_the_token(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unreachable: list[float],
    waits: list[float],
    argv: list[str],
) -> None:
    """aliyunsdkcore's connection errors quote the signed URL, and an RPC request carries
    the security token in it."""
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    code, _, err = outcome(argv, capsys)
    assert code == 1
    assert "Traceback" not in err
    for secret in (DEFAULT_CREDENTIALS.security_token, DEFAULT_CREDENTIALS.access_key_secret):
        assert secret not in err
        assert quote(secret, safe="") not in err  # as it travels in a URL


@pytest.mark.parametrize(
    ("argv", "host"),
    [
        (["whoami"], "sts.aliyuncs.com"),
        (
            ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--account-id", "1234"],
            "1234.ap-southeast-1.fc.aliyuncs.com",
        ),
        (
            ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--region", "xx-nowhere-9"],
            f"{CALLER.account_id}.xx-nowhere-9.fc.aliyuncs.com",
        ),
    ],
    ids=["whoami", "remote-invoke", "unknown-region"],
)
def test_no_network_or_an_unknown_region_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials, argv: list[str], host: str
) -> None:
    with mock_sts() as sts:  # answers for the caller; every other host fails to resolve
        sts.register(as_caller)
        code, out, err = outcome(argv, capsys) if "whoami" not in argv else (0, "", "")
    if "whoami" in argv:  # with no fake STS at all, STS's own name does not resolve
        code, out, err = outcome(argv, capsys)
    assert (code, out) == (1, "")
    assert one_line(err) == f"resource-repair: cannot reach {host}: " + (
        "the name does not resolve (no such host: a wrong region?)"
    )


def test_real_oss_without_network_is_exit_1_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
    as_caller: FakeCredentials,
    unreachable: list[float],
    waits: list[float],
) -> None:
    code, out, err = outcome(["invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--oss", "real"], capsys)
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    assert "FC would retry" in err.strip().splitlines()[-1]
    assert all(0 < t <= 5 for t in unreachable), unreachable


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fake-oss", "--port", "99999"], "not a port number"),
        (["fake-oss", "--port", "-1"], "not a port number"),
        (["fake-oss", "--latency-ms", "-5"], "not within 0..60000"),
        (["fake-oss", "--latency-ms", "nan"], "not within 0..60000"),
        (["fake-oss", "--bucket", "BAD_NAME:nowhere"], "not a valid OSS bucket name"),
        (["fake-oss", "--bucket", "good-name:nowhere"], "not a valid region id"),
        (["fake-oss", "--public-buckets", "-3"], "not within"),
        (["fake-oss", "--qps-limit", "0"], "not within 1..1000000"),
    ],
)
def test_fake_oss_refuses_bad_values_in_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = outcome([*argv, "--port", "0"] if "--port" not in argv else argv, capsys)
    assert (code, out) == (2, "")
    assert message in one_line(err)


def test_fake_oss_throttles_beyond_its_qps_limit() -> None:
    """`fake-oss --qps-limit` serves OSS's 503 beyond Q requests a second (benchmarks/flood.py
    and manual flood trials use it)."""
    import io
    import threading
    import time

    import requests

    from resource_repair.tools.fake_oss import serve

    out, stop = io.StringIO(), threading.Event()
    args = ("127.0.0.1", 0, [f"{BUCKET}:{REGION}:public-read"], 0, 0.0, True)
    thread = threading.Thread(
        target=serve, args=(*args, out, io.StringIO(), stop), kwargs={"qps_limit": 2}
    )
    thread.start()
    try:
        for _ in range(500):  # a loaded machine may take seconds to start the thread
            if out.getvalue():
                break
            time.sleep(0.02)
        url = out.getvalue().strip()
        # Twenty requests in a row: on a loaded machine four may take over a second, and
        # so stay under a limit of two a second.
        answers = [requests.get(f"{url}/{BUCKET}/?bucketInfo", timeout=5) for _ in range(20)]
        state = requests.get(f"{url}/_fake/state", timeout=5).json()
    finally:
        stop.set()
        thread.join(10)
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(503) >= 2
    assert all("MetaOperationQpsLimitExceeded" in a.text for a in answers if a.status_code == 503)
    assert state["qps_limit"] == 2


@pytest.mark.parametrize("command", ["invoke", "backfill"])
def test_an_env_name_the_function_does_not_read_is_refused(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    with mock_oss() as oss, mock_config_api() as config, mock_sts() as sts:
        argv = (
            ["invoke", "-t", TEMPLATE, "-f", SEED_STREAM]
            if command == "invoke"
            else ["backfill", "-t", TEMPLATE, "--rule-id", "cr-1"]
        )
        code, out, err = outcome([*argv, "--env", "dryrun=true"], capsys)
    assert (code, out) == (2, "")
    line = one_line(err)
    assert "dryrun" in line
    assert "did you mean dryRun?" in line
    assert all(name in line for name in EVERY_VARIABLE)
    assert oss.calls == []
    assert config.calls == []
    assert sts.calls == []


@pytest.mark.parametrize("option", ["--format", "--form"])
@pytest.mark.parametrize("form", ["stream", "attrs", "json", "plain"])
def test_event_takes_format_and_keeps_form_as_alias(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, form: str
) -> None:
    path = tmp_path / "event"
    argv = ["event", "--bucket", BUCKET, "--region", REGION, option, form, "-o", str(path)]
    assert outcome(argv, capsys)[0] == 0
    argv = ["invoke", "-t", TEMPLATE, "-f", str(path), "--env", "dryRun=false"]
    code, out, _ = outcome(argv, capsys)
    assert (code, json.loads(out)["outcome"]) == (0, "remediated")


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-level", "ERROR", "invoke", "-f", SEED_STREAM],
        ["invoke", "-f", SEED_STREAM, "--log-level", "ERROR"],
        ["--log-level", "DEBUG", "whoami", "--log-level", "ERROR"],
    ],
)
def test_log_level_is_taken_before_or_after_the_command(argv: list[str]) -> None:
    assert cli._parser().parse_args(argv).log_level == "ERROR"


def test_log_level_after_the_command_quiets_the_run() -> None:
    def stderr(*where: str) -> str:
        return subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-m", "resource_repair", *where],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        ).stderr

    base = ["invoke", "-t", TEMPLATE, "-f", SEED_STREAM]
    assert "INFO " in stderr(*base)
    assert "INFO " not in stderr(*base, "--log-level", "WARNING")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    [group] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(group.choices)


def test_every_option_has_help_text() -> None:
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, sub in {"": cli._parser(), **_subcommands()}.items()
        for action in sub._actions
        if not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("backfill", ["(default: 25)", "(default: 8)", "(default: the template's configSite"]),
        ("backfill", ["(default: template.yml)"]),
        ("remote-invoke", ["(default: template.yml)"]),
        ("invoke", ["(default: python3.10)", "(default: template.yml if there is one here"]),
        ("fake-oss", ["(default: 9000)", "(default: 127.0.0.1)"]),
    ],
)
def test_help_shows_the_defaults(
    capsys: pytest.CaptureFixture[str], command: str, shown: list[str]
) -> None:
    code, out, _ = outcome([command, "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())  # argparse wraps lines
    assert all(s in text for s in shown), text
    assert "(default: None)" not in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--regions", "ap-southeast-1,x.evil/#"], "--regions: 'x.evil/#' is not a valid region"),
        (["--account-id", "12ab"], "must be digits"),
        (["--report", "/nonexistent-dir/report.jsonl"], "which is not a directory"),
        (["--report", "."], "is a directory"),
        (["--env", "ossMaxAttempts=99"], "outside"),
    ],
)
def test_backfill_checks_its_options_before_any_request(
    capsys: pytest.CaptureFixture[str], sts: StsBackend, extra: list[str], message: str
) -> None:
    with mock_config_api() as config, mock_sts() as inner:
        code, out, err = outcome(["backfill", "-t", TEMPLATE, "--rule-id", "cr-1", *extra], capsys)
    assert (code, out) == (2, "")
    assert message in one_line(err)
    assert config.calls == []
    assert inner.calls == []
    assert sts.calls == []


def test_invoke_checks_account_id_like_event(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = outcome(
        ["invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--account-id", "evil/"], capsys
    )
    assert (code, out) == (2, "")
    assert "must be digits" in one_line(err)


def test_real_oss_mode_with_an_endpoint_override_says_no_real_bucket_is_touched(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fc_environment().items():
        monkeypatch.setenv(key, value)
    backend = OssBackend()
    backend.create_bucket(BUCKET, REGION, "public-read")
    with fake_oss_server(backend) as server:
        code, out, err = outcome(
            [
                "invoke",
                "-t",
                TEMPLATE,
                "-f",
                SEED_STREAM,
                "--oss",
                "real",
                "--env",
                f"ossEndpointOverride={server.url}",
                "--env",
                "dryRun=false",
            ],
            capsys,
        )
    assert (code, json.loads(out)["outcome"]) == (0, "remediated")
    assert "the real" not in err
    assert f"on {server.url}, not on OSS" in err
    assert backend.acl_of(BUCKET) == "private"


# -- 4. without a template -------------------------------------------------------------------


def test_invoke_without_a_template_selects_the_events_rule_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = outcome(["invoke", "-f", SEED_STREAM], capsys)
    assert (code, json.loads(out)["outcome"]) == (0, "remediated")
    assert "no template.yml" in err
    assert f"prepareRuleName={RULE_NAME} (the event's own rule)" in err
    assert "public-read -> private" in err


def test_a_local_run_tells_no_real_topic(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    hostile = str(EVENTS / "hostile-crafted-region-stream.txt")  # a `fail`: would notify
    code, out, err = outcome(
        ["invoke", "-t", TEMPLATE, "-f", hostile, "--env", "failureTopic=alerts"], capsys
    )
    assert (code, json.loads(out)["status"]) == (1, "fail")
    assert "failureTopic switched off" in err
    assert not [
        r for r in caplog.records if r.name in ("resource_repair.notify", "resource_repair.smq")
    ]


def test_the_deployed_entry_point_does_only_what_invoke_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """invoke calls resource_repair.handler.handle; src/index.py's handler must be that."""
    import importlib.util

    from resource_repair import handler as package_handler

    seen: list[tuple[object, object]] = []

    def recorded(event: object, context: object) -> str:
        seen.append((event, context))
        return "result"

    monkeypatch.setattr(package_handler, "handle", recorded)
    spec = importlib.util.spec_from_file_location("deployed_index", ROOT / "src" / "index.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.handler(b"event", "context") == "result"
    assert seen == [(b"event", "context")]


def test_an_explicit_template_that_is_missing_is_still_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = outcome(["invoke", "-t", str(tmp_path / "t.yml"), "-f", SEED_STREAM], capsys)
    assert code == 2
    assert "cannot read template" in one_line(err)
