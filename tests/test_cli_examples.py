"""Every command's --help ends with one example, and each works on a fresh clone: run as a
new user would paste it, from a copy of the clone, with only the venv on PATH."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import pytest

from resource_repair import cli
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.sts import mock_sts
from resource_repair.tools import command_help
from tests import test_cli_edges as edges
from tests.conftest import run_as_a_new_user
from tests.test_cli_edges import CALLER, outcome

as_caller = edges.as_caller  # a fixture: the caller's keys in the environment

ROOT = Path(__file__).resolve().parents[1]


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def example_lines(name: str) -> list[str]:
    """The example at the end of ``resource-repair NAME --help``, as the user sees it."""
    text = commands()[name].format_help()
    _, _, example = text.rpartition("\nexample (")
    assert example, f"{name} --help ends with no example"
    return [line.strip() for line in example.splitlines()[1:] if line.strip()]


def test_every_command_has_an_example_at_the_end_of_its_help() -> None:
    for name in commands():
        assert example_lines(name), name
        assert example_lines(name)[-1] in " ".join(commands()[name].format_help().split()[-60:])


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a fresh clone has where the examples run: its files and `make demo`'s venv."""
    where = tmp_path_factory.mktemp("clone")
    (where / "tests").symlink_to(ROOT / "tests")
    for name in ("template.yml", "template.fc3.yml"):
        (where / name).write_bytes((ROOT / name).read_bytes())
    (where / ".venv-3.10").symlink_to(Path(sys.executable).parent.parent)
    return where


@pytest.mark.parametrize(
    "name", sorted(set(command_help.EXAMPLES) - set(command_help.EXAMPLE_NEEDS))
)
def test_the_example_works_on_a_fresh_clone(name: str, clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    work.mkdir()
    for entry in clone.iterdir():
        (work / entry.name).symlink_to(entry.resolve())
    run_as_a_new_user(
        "\n".join(example_lines(name)),
        cwd=work,
        path=f"{work / '.venv-3.10' / 'bin'}:{os.defpath}",
        timeout=120,
    )


def test_the_remote_invoke_example_invokes_the_deployed_function(
    as_caller: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It needs a deployment: the fake FC API stands for one."""
    monkeypatch.chdir(ROOT)
    [line] = example_lines("remote-invoke")
    with mock_sts() as sts, mock_fc_api() as fc:
        sts.register(CALLER)
        fc.credentials[CALLER.access_key_id] = CALLER
        fc.deploy(
            "resource_repair",
            "oss_repair_acl_trigger",
            lambda payload: FunctionAnswer(b'{"status": "success"}'),
        )
        code, out, _ = outcome(shlex.split(line)[1:], capsys)
    assert (code, out.strip()) == (0, '{"status": "success"}')
    assert isinstance(fc, FcApiBackend)
    assert len(fc.invocations) == 1
