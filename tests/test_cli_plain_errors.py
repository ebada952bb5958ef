"""What a new user meets on the command line: a mistake or a failure is one plain line
with the right exit code, never a traceback, a library's internals or a silent no-op; what
a log line says is what happens; every option the README uses is explained by --help."""

from __future__ import annotations

import argparse
import io
import json
import logging
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from resource_repair import cli
from resource_repair.testing import DEFAULT_CREDENTIALS, FakeCredentials, fc_environment
from resource_repair.testing.oss import OssBackend
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.sts import StsBackend
from resource_repair.tools import fake_oss
from tests import test_cli_edges as edges
from tests import test_cli_interrupt as interrupt
from tests.conftest import BUCKET, REGION
from tests.test_cli_edges import ROOT, SEED_STREAM, TEMPLATE, one_line, outcome

# The edges' fixtures: no network but loopback (autouse), the caller's keys, a fake STS,
# and connections that time out.
offline, as_caller, sts, unreachable = edges.offline, edges.as_caller, edges.sts, edges.unreachable

FC3_TEMPLATE = str(ROOT / "template.fc3.yml")
GBK_COMMENT = "# 规则名称: 公共读禁止\n".encode("gbk")


@pytest.fixture
def gbk_template(tmp_path: Path) -> str:
    """The shipped template with a Chinese comment saved as GBK, as a Windows editor may."""
    path = tmp_path / "template.yml"
    path.write_bytes(GBK_COMMENT + (ROOT / "template.yml").read_bytes())
    return str(path)


@pytest.mark.parametrize(
    "argv",
    [
        ["invoke", "-f", SEED_STREAM],
        ["doctor"],
        ["backfill", "--rule-id", "cr-0001"],
        ["remote-invoke", "-f", SEED_STREAM],
        ["sweep"],
    ],
    ids=["invoke", "doctor", "backfill", "remote-invoke", "sweep"],
)
def test_a_template_that_is_not_utf8_is_one_line_naming_it_exit_2(
    capsys: pytest.CaptureFixture[str],
    as_caller: FakeCredentials,
    gbk_template: str,
    argv: list[str],
) -> None:
    code, out, err = outcome([*argv, "-t", gbk_template], capsys)
    assert (code, out) == (2, "")
    line = one_line(err)
    assert gbk_template in line
    assert "is not UTF-8 text" in line


@pytest.mark.parametrize(
    "argv",
    [["doctor"], ["backfill", "--rule-id", "cr-0001"], ["remote-invoke", "-f", SEED_STREAM]],
    ids=["doctor", "backfill", "remote-invoke"],
)
def test_outside_the_clone_the_missing_template_points_to_t(
    capsys: pytest.CaptureFixture[str],
    as_caller: FakeCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # as after `pip install .`, anywhere but the clone
    code, _, err = outcome(argv, capsys)
    assert code == 2
    assert "pass -t PATH/template.yml" in one_line(err)


# -- network failures in plain words ----------------------------------------------------------

REFUSED = "ossEndpointOverride=http://127.0.0.1:1"  # port 1: nothing listens
LIBRARY_WORDS = ("Max retries", "NewConnectionError", "Pool(", "urllib3", "object at 0x")


def test_a_refused_connection_to_oss_says_so_with_the_host(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials
) -> None:
    code, _, err = outcome(
        [*("invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--oss", "real"), "--env", REFUSED],
        capsys,
    )
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert "cannot reach 127.0.0.1:1: connection refused" in last
    for words in LIBRARY_WORDS:
        assert words not in err


def test_oss_whose_name_does_not_resolve_is_named_with_its_host(
    capsys: pytest.CaptureFixture[str], as_caller: FakeCredentials
) -> None:
    """The offline fixture: every name but loopback fails to resolve, as without DNS."""
    code, out, err = outcome(["invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--oss", "real"], capsys)
    assert code == 1
    result = json.loads(out)
    assert (
        f"cannot reach {BUCKET}.oss-{REGION}.aliyuncs.com: the name does not resolve"
        in (result["reason"])
    )
    for words in LIBRARY_WORDS:
        assert words not in err


def test_remote_invoke_on_fc2_without_network_tries_once_and_says_one_line(
    capsys: pytest.CaptureFixture[str],
    as_caller: FakeCredentials,
    unreachable: list[float],
) -> None:
    """Each connection attempt may take the whole connect timeout (5 s) without a network:
    one attempt, no urllib3 retry warning, keeps the promise of one line within 5 s."""
    argv = ["remote-invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--account-id", "1234"]
    code, out, err = outcome(argv, capsys)
    assert (code, out) == (1, "")
    assert one_line(err).startswith("resource-repair: cannot reach 1234.ap-southeast-1.fc")
    assert unreachable == [5]


# -- what the log says is what happens ---------------------------------------------------------


def test_invoke_with_an_endpoint_override_sends_to_that_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = OssBackend()
    backend.create_bucket(BUCKET, REGION, "public-read")
    with fake_oss_server(backend) as server:
        to = f"ossEndpointOverride={server.url}"
        code, out, err = outcome(
            [*("invoke", "-t", TEMPLATE, "-f", SEED_STREAM, "--env", "dryRun=false"), "--env", to],
            capsys,
        )
    assert (code, json.loads(out)["outcome"]) == (0, "remediated")
    assert backend.acl_of(BUCKET) == "private"  # the server the log names did the work
    assert f"the function's requests go to {server.url}" in err


def fake_oss_lines(host: str, *buckets: str) -> tuple[int, str]:
    """Run fake-oss on ``host`` until it has said where it serves; its exit code and stderr."""
    out, err, stop = io.StringIO(), io.StringIO(), threading.Event()
    result: list[Any] = []

    def serve() -> None:
        try:
            result.append(fake_oss.serve(host, 0, list(buckets), 0, 0, False, out, err, stop))
        except Exception as exc:
            result.append(exc)
            stop.set()

    thread = threading.Thread(target=serve)
    thread.start()
    for _ in range(100):
        if result or "fake OSS on" in err.getvalue():
            break
        stop.wait(0.05)
    stop.set()
    thread.join(5)
    code = result[0] if isinstance(result[0], int) else 2
    return code, err.getvalue() + (str(result[0]) if not isinstance(result[0], int) else "")


def test_fake_oss_on_every_address_advises_an_override_invoke_accepts() -> None:
    code, err = fake_oss_lines("0.0.0.0")  # noqa: S104 - what the user typed
    assert code == 0
    advice = err.split("set ossEndpointOverride=", 1)[1].split()[0]
    assert advice.startswith("http://127.0.0.1:")
    from resource_repair.settings import Settings

    assert Settings.from_env({"ossEndpointOverride": advice}).endpoint_override == advice


def test_fake_oss_on_a_host_that_does_not_resolve_fails_without_a_reachability_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = outcome(["fake-oss", "--host", "notahost", "--port", "0"], capsys)
    assert code == 2
    assert "cannot listen on notahost:0" in one_line(err)


def test_fake_oss_refuses_a_bucket_given_twice(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "fake-oss",
        "--port",
        "0",
        "--bucket",
        "demo-bucket",
        "--bucket",
        "demo-bucket:cn-hangzhou",
    ]
    code, _, err = outcome(argv, capsys)
    assert code == 2
    assert "--bucket demo-bucket is given twice" in one_line(err)


def test_fake_oss_says_which_key_it_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["fake-oss", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "only the built-in test key is accepted" in text
    assert "--env ossEndpointOverride=URL` signs with" in text
    _, err = fake_oss_lines("127.0.0.1")
    assert f"key id {DEFAULT_CREDENTIALS.access_key_id}" in err


# -- the smaller ones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--bucket", "My_Bucket", "--region", "ap-southeast-1"], "--bucket"),
        (["--bucket", "my-bucket", "--region", "hangzhou"], "--region"),
    ],
)
def test_event_refuses_a_bucket_or_region_oss_cannot_have(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], words: str
) -> None:
    target = tmp_path / "event.json"
    code, _, err = outcome(["event", *argv, "-o", str(target)], capsys)
    assert code == 2
    assert one_line(err).startswith(f"resource-repair: error: {words}:")
    assert not target.exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_log_level_is_read_in_any_case(
    capsys: pytest.CaptureFixture[str], where: str, tmp_path: Path
) -> None:
    args = ["event", "--bucket", "my-bucket", "--region", "cn-hangzhou"]
    argv = ["--log-level", "debug", *args] if where == "before" else [*args, "--log-level", "debug"]
    code, out, _ = outcome(argv, capsys)
    assert (code, len(out.splitlines())) == (0, 1)


def test_an_unknown_option_is_the_commands_own_error_with_a_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = outcome(["backfill", "--rule-id", "cr-1", "--dry-run"], capsys)
    assert code == 2
    line = one_line(err)
    assert line.startswith("resource-repair backfill: error: unrecognized arguments: --dry-run")
    assert "a dry run is the default; --apply writes" in line
    assert "(see resource-repair backfill --help)" in line


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ],
)
@pytest.mark.parametrize("command", [["whoami"], ["invoke", "-f", SEED_STREAM, "--oss", "real"]])
def test_one_key_variable_of_two_is_named_as_the_missing_one(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    present: str,
    missing: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(present, "something")
    code, _, err = outcome([*command, "-t", TEMPLATE] if "invoke" in command else command, capsys)
    assert code == 2
    assert f"{present} is set but {missing} is not" in one_line(err)


def test_an_aggregator_id_that_is_none_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str], sts: StsBackend
) -> None:
    argv = ["backfill", "-t", TEMPLATE, "--rule-name", "r", "--aggregator-id", "not-an-id"]
    code, _, err = outcome(argv, capsys)
    assert code == 2
    assert "--aggregator-id 'not-an-id' is not an account group id" in one_line(err)
    assert sts.calls == []


def every_option(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        found += [(f"{name} {a.option_strings[0]}", a) for a in sub._actions if a.option_strings]
    return found


def test_every_option_of_every_command_is_explained_by_help() -> None:
    """restore --endpoint, backfill --config-endpoint, --sts-endpoint ... are what tests and
    the README's local runs use: each says what it accepts."""
    hidden = [
        name
        for name, action in every_option(cli._parser())
        if action.help in (None, argparse.SUPPRESS)
    ]
    assert hidden == []
    options = dict(every_option(cli._parser()))
    for name in ("restore --endpoint", "backfill --config-endpoint", "whoami --sts-endpoint"):
        assert "loopback only" in str(options[name].help)


def test_the_files_the_examples_write_are_ignored_by_git() -> None:
    names = ["event.json", "event.txt", "fake-oss.url", "fake-cloud.env", "report.jsonl"]
    done = subprocess.run(  # noqa: S603 - git, on our own clone
        ["git", "check-ignore", *names],  # noqa: S607 - git from PATH, as make test finds it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.split() == names


served, keys = interrupt.served, interrupt.keys  # fakes with three remediated buckets


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("no-such-bucket", "--bucket no-such-bucket: {report} holds no audit record of it"),
        ("Not_A_Bucket", "--bucket: 'Not_A_Bucket' is not a valid OSS bucket name"),
    ],
)
def test_restore_of_a_bucket_not_in_the_report_says_so_and_exits_2(
    served: interrupt.Served,
    keys: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    says: str,
) -> None:
    report = interrupt.remediated_report(served, tmp_path, capsys)
    argv = ["restore", "--report", str(report), "--bucket", name, "--endpoint", served.oss[7:]]
    argv += ["--sts-endpoint", served.sts]
    code, out, err = outcome(argv, capsys)
    assert (code, out) == (2, "")
    assert says.format(report=report) in one_line(err)


@pytest.mark.unforeseen_error
def test_an_error_nobody_foresaw_is_one_line_and_debug_shows_where(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from resource_repair.tools.commands import whoami

    def broken(args: argparse.Namespace) -> int:
        raise TypeError(f"a surprise from a library quoting {DEFAULT_CREDENTIALS.security_token}")

    monkeypatch.setattr(whoami, "run", broken)
    for key, value in fc_environment().items():  # the keys the command would have used
        monkeypatch.setenv(key, value)
    assert cli.main(["whoami"]) == 1
    err = capsys.readouterr().err
    [line] = err.splitlines()
    assert line.startswith("resource-repair: internal error (TypeError): a surprise")
    assert DEFAULT_CREDENTIALS.security_token not in err
    with caplog.at_level(logging.DEBUG):
        assert cli.main(["--log-level", "DEBUG", "whoami"]) == 1
    assert "Traceback" in caplog.text  # asked for: where it happened
    assert "a surprise from a library" in caplog.text
    assert DEFAULT_CREDENTIALS.security_token not in caplog.text
