"""The behaviours a mutation run (docs/evidence/mutation.md) found no test noticing: the bounds
on files the tools read, what they print of text from outside, aliyun CLI profiles beside a
fake STS, and Ctrl-C's lines. Each test fails with its mutant (mutation/mutants.py) planted."""

from __future__ import annotations

import io
import json
import logging
import signal
from pathlib import Path

import pytest

from resource_repair.cli import main
from resource_repair.delivery import MAX_EVENT_BYTES
from resource_repair.testing.fc3_api import Fc3ApiBackend
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer
from resource_repair.tools import restore_records
from resource_repair.tools.interruption import FinishInHand
from resource_repair.tools.restore_records import read_changes
from resource_repair.tools.template import TemplateError, load_template
from resource_repair.tools.terminal import LINE_CHARS, shown_block, shown_line
from tests.conftest import EVENTS, deploy_event_function
from tests.test_cli_interrupt import ExitedError, ctrl_c_twice, no_exit  # noqa: F401
from tests.test_cloud_credentials import config_text as _config_text
from tests.test_cloud_credentials import run as run_cli
from tests.test_remote_invoke_output import HOSTILE, TEMPLATES, TOKEN

ROOT = Path(__file__).parent.parent
TEMPLATE_PATH = ROOT / "template.yml"
TEMPLATE = TEMPLATE_PATH.read_text(encoding="utf-8")
EVENT = str(EVENTS / "noncompliance-oss-stream.txt")


# -- terminal.py: what is shown of a line, and of a block ------------------------------------


def test_a_line_of_exactly_the_limit_is_shown_whole() -> None:
    assert shown_line("x" * LINE_CHARS) == "x" * LINE_CHARS


def test_a_block_with_windows_line_ends_is_shown_as_lines() -> None:
    # A function's log tail or answer written with CRLF: the lines, no \x0d at each end.
    assert shown_block("first line\r\nsecond line\r\n") == "first line\nsecond line\n"


# -- file_bounds.py and its users --------------------------------------------------------------


def test_a_report_of_short_lines_past_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bound holds for a report of ordinary lines, not only for one overlong line: a
    report larger than MAX_REPORT (here made small) is refused before anything is read."""
    monkeypatch.setattr(restore_records, "MAX_REPORT", 1000)
    report = tmp_path / "report.jsonl"
    report.write_text("not a record\n" * 200, encoding="utf-8")
    assert main(["restore", "--report", str(report)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "larger than 1000 bytes: not read" in line


def test_a_report_whose_last_line_has_no_line_end_is_read_to_its_end(tmp_path: Path) -> None:
    """An export cut without a final newline (or a record pasted into a file) is still read:
    its last record is not taken for a line too long to read."""
    record = (ROOT / "tests/restore_logs/backfill-report.jsonl").read_text(encoding="utf-8")
    report = tmp_path / "report.jsonl"
    report.write_text(record.rstrip("\n"), encoding="utf-8")
    [changes] = read_changes(report)
    assert (changes.bucket, changes.region) == ("config-snapshot", "ap-southeast-1")


def test_an_event_past_the_functions_limit_reaches_the_function_to_be_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """invoke reads an event file past what the function accepts, so that the function's own
    refusal of an oversized event can be tried locally."""
    event = tmp_path / "event.txt"
    event.write_bytes(b"x" * (MAX_EVENT_BYTES + 1))
    code = main(["invoke", "-t", str(TEMPLATE_PATH), "-f", str(event)])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["outcome"] == "invalid_event"
    assert f"more than the {MAX_EVENT_BYTES} accepted" in result["reason"]


# -- template.py: a template's shape -----------------------------------------------------------


def _template(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEMPLATE
    path = tmp_path / "template.yml"
    path.write_text(TEMPLATE.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("timeout: 60", "timeout: true", "timeout True is not a whole number of seconds"),
        ("timeout: 60", "timeout: 86401", "timeout 86401 is outside 1 to 86400 seconds"),
        (
            "handler: index.handler",
            "loop: &loop {again: *loop}\n        handler: index.handler",
            "nests deeper than 50 levels",
        ),
    ],
    ids=["boolean-timeout", "timeout-past-a-day", "self-mapping"],
)
def test_a_template_fc_would_not_take_is_refused_by_name(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    with pytest.raises(TemplateError, match=reason):
        load_template(_template(tmp_path, old, new))


def test_the_longest_timeout_fc_allows_is_read(tmp_path: Path) -> None:
    assert load_template(_template(tmp_path, "timeout: 60", "timeout: 86400")).timeout == 86_400


# -- cloud_credentials.py: a profile beside a fake STS, a file that is not JSON ----------------


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("mode", ["EcsRamRole", "ChainableRamRoleArn", "CloudSSO"])
def test_every_profile_that_asks_a_service_is_refused_beside_a_fake_sts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], mode: str
) -> None:
    profile = {
        "name": "elsewhere",
        "mode": mode,
        "access_key_id": "LTAIProfileKeyIdDoNotLog01",
        "access_key_secret": "ProfileSecretDoNotLog0123456",
        "ram_role_name": "resource-repair",
        "source_profile": "elsewhere",
    }
    _config_text(tmp_path, monkeypatch, json.dumps({"profiles": [profile]}))
    argv = ["whoami", "--profile", "elsewhere", "--sts-endpoint", "127.0.0.1:9"]
    code, out, err = run_cli(argv, capfd)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert f"(mode {mode})" in line
    assert "--sts-endpoint" in line


def test_a_cli_config_that_is_not_json_is_said_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    _config_text(tmp_path, monkeypatch, '{"profiles": [{"name": "dev",')
    code, out, err = run_cli(["whoami", "--profile", "dev"], capfd)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "config.json is not JSON" in line


# -- remote.py: a function that raised, fc2's own error logs -----------------------------------

# The FC 3.0 SDK's signer calls datetime.utcnow(), deprecated in Python 3.12: its concern.
_FC3_SIGNER_WARNING = pytest.mark.filterwarnings(
    "ignore:datetime.datetime.utcnow:DeprecationWarning:alibabacloud_tea_openapi"
)


@_FC3_SIGNER_WARNING
@pytest.mark.usefixtures("function_env")
def test_the_answer_of_a_function_that_raised_is_shown_escaped(
    capsys: pytest.CaptureFixture[str], fc: tuple[int, FcApiBackend | Fc3ApiBackend]
) -> None:
    version, backend = fc

    def raised(payload: bytes) -> FunctionAnswer:
        answer = json.dumps({"errorMessage": HOSTILE}, ensure_ascii=False)
        return FunctionAnswer(answer.encode(), error_type="UnhandledInvocationError")

    deploy_event_function(backend, raised)
    code = main(["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT])
    captured = capsys.readouterr()
    assert code == 1
    shown = captured.out + captured.err
    assert "all fine" in shown
    assert TOKEN not in shown
    for control in ("\x1b", "\r", "\x07", "\u202e"):
        assert control not in shown


@_FC3_SIGNER_WARNING
@pytest.mark.usefixtures("function_env")
def test_fc2s_own_dump_of_a_refused_invocation_is_not_logged(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    fc: tuple[int, FcApiBackend | Fc3ApiBackend],
) -> None:
    """fc2 logs every refused request on the root logger, headers and all: the command's own
    line says what failed, and what the user's terminal would show of the logs holds none of
    fc2's lines."""
    version, backend = fc
    backend.invocation_error = (403, "InvalidSecurityToken", "refused")
    caplog.set_level(logging.INFO)
    assert main(["remote-invoke", "-t", TEMPLATES[version], "-f", EVENT]) == 1
    capsys.readouterr()
    from_fc2 = [r for r in caplog.records if "fc2" in Path(r.pathname).parts]
    assert from_fc2 == []


# -- interruption.py: Ctrl-C's lines -----------------------------------------------------------


@pytest.mark.usefixtures("no_exit")
def test_the_abort_line_names_every_bucket_of_a_sweep_in_hand() -> None:
    """A sweep with many workers holds many buckets, each name up to 63 characters: the one
    line names them all, and how to read their state, past the 1,000 characters of a line
    from outside."""
    names = [f"bucket-{n:02d}-" + "x" * 52 + " (cn-hangzhou)" for n in range(24)]
    err = io.StringIO()
    with FinishInHand(err, read_state="a dry run") as stop:
        for name in names:
            assert stop.run_kept(name, lambda: "remediated") is not None
        with pytest.raises(ExitedError, match="130"):
            ctrl_c_twice()
    _, aborted = err.getvalue().splitlines()
    for name in names:
        assert name in aborted
    assert aborted.endswith("Read the state with: a dry run")


@pytest.mark.usefixtures("no_exit")
def test_an_abort_with_only_finished_buckets_in_hand_says_it_aborted() -> None:
    err = io.StringIO()
    with FinishInHand(err, read_state="a dry run") as stop:
        assert stop.run_kept("first-bucket (cn-hangzhou)", lambda: "remediated") is not None
        with pytest.raises(ExitedError, match="130"):
            ctrl_c_twice()
    _, aborted = err.getvalue().splitlines()
    assert aborted.startswith(
        "aborted after first-bucket (cn-hangzhou) was finished but not recorded"
    )


class _InterruptedWrite(io.FileIO):
    """A file whose first write is interrupted by Ctrl-C: the handler runs while the buffered
    stream above it is inside that write, as when a command writes an audit line."""

    interrupted = False

    def write(self, data: object) -> int:
        if not self.interrupted:
            self.interrupted = True
            signal.raise_signal(signal.SIGINT)  # handled here, before this write goes on
        return super().write(data)  # type: ignore[arg-type]


def test_ctrl_c_in_the_middle_of_a_write_to_the_same_stream_is_said(tmp_path: Path) -> None:
    path = tmp_path / "stderr.txt"
    raw = _InterruptedWrite(path, "w")
    err = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
    with err, FinishInHand(err, read_state="a dry run") as stop:
        for _ in stop.taking(["first-bucket (cn-hangzhou)"], str):
            err.write('INFO resource_repair.audit: {"bucket": "first-bucket"}\n')
            err.flush()
    assert stop.requested
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("interrupted: finishing the bucket(s) in hand first (first-")
    assert lines[1].startswith("INFO resource_repair.audit: ")
