"""Files the operator names on the command line are read to a bound and refused in one line.

A path may name ``/dev/zero``, a huge log or a YAML file whose aliases expand to billions of
values. Each case runs the command as a user would, in a process whose memory is capped at
1 GiB, so that reading without a bound shows as a traceback, not as a machine out of memory.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
TEMPLATE = (ROOT / "template.yml").read_text(encoding="utf-8")
EVENT = str(ROOT / "tests" / "events" / "noncompliance-oss-stream.txt")
MEMORY_CAP = 1024 * 1024 * 1024


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD")}
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "resource_repair", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=environment,
        preexec_fn=_capped,
        check=False,
    )


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["invoke", "-f", EVENT, "-t", "/dev/zero"],
        ["sweep", "-t", "/dev/zero"],
        ["doctor", "-t", "/dev/zero"],
        ["backfill", "-t", "/dev/zero", "--rule-name", "rule"],
        ["remote-invoke", "-f", EVENT, "-t", "/dev/zero"],
    ],
    ids=lambda command: command[0],
)
def test_an_endless_template_is_refused(command: list[str]) -> None:
    result = run(*command)
    assert_refused_in_one_line(result, "template /dev/zero", "larger than")


def test_an_endless_event_file_is_refused() -> None:
    result = run("invoke", "-f", "/dev/zero")
    assert_refused_in_one_line(result, "event file /dev/zero", "larger than")


def test_an_endless_report_is_refused_before_anything_is_restored() -> None:
    result = run("restore", "--report", "/dev/zero")
    assert_refused_in_one_line(result, "/dev/zero", "larger than")


def test_a_report_line_longer_than_any_record_is_passed_over(tmp_path: Path) -> None:
    report = tmp_path / "report.jsonl"
    report.write_text("x" * (3 * 1024 * 1024) + "\n", encoding="utf-8")
    result = run("restore", "--report", str(report))
    assert "Traceback" not in result.stderr
    assert "no resource_repair audit record" in result.stderr
    assert "1 line(s) passed over" in result.stderr


def _template(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEMPLATE
    path = tmp_path / "template.yml"
    path.write_text(TEMPLATE.replace(old, new, 1), encoding="utf-8")
    return path


# Ten levels of ten aliases each: 10^10 values once expanded, 30 lines of YAML.
LAUGHS = "laughs:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 10)
)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("timeout: ", "timeout: .inf #", "timeout"),
        ("timeout: ", "timeout: [1] #", "timeout"),
        ("timeout: ", "timeout: 0 #", "timeout"),
        (
            "environmentVariables:",
            "environmentVariables: [a]\n        old:",
            "environmentVariables",
        ),
        ("handler: ", "loop: &loop [*loop]\n        handler: ", "nests deeper"),
        ("handler: ", LAUGHS.replace("\n", "\n        ") + "handler: ", "aliases"),
    ],
    ids=[
        "infinite-timeout",
        "list-timeout",
        "zero-timeout",
        "list-environment",
        "self-alias",
        "laughs",
    ],
)
def test_a_template_of_the_wrong_shape_is_refused_by_name(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    # Not load_template in this process: without the bound, the laughs fill the machine.
    path = _template(tmp_path, old, new)
    result = run("invoke", "-f", EVENT, "-t", str(path))
    assert_refused_in_one_line(result, reason)
