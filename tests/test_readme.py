"""The README's and docs/' runnable examples, run as a new user would paste them: in order,
in one shell, from a copy of the clone, against the fakes. A change that breaks an example (a
flag renamed, a file used before the step that creates it) fails here, not on a user's
screen."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from resource_repair import cli
from tests.conftest import run_as_a_new_user

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- runnable -->"
BLOCK = re.compile(r"^" + re.escape(MARK) + r"\n```sh\n(.*?)\n```", re.MULTILINE | re.DOTALL)
# The pages with runnable examples, in the order a reader meets them (and they build on
# each other: the README puts the command on PATH).
PAGES = ("README.md", "docs/fakes.md", "docs/operating.md", "docs/evidence.md")


def every_page() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def runnable_blocks(page: str) -> list[str]:
    return BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))


def test_every_marked_block_is_a_shell_block_on_a_page_that_is_run() -> None:
    marked = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8").count(MARK)
        for path in every_page()
    }
    assert {page for page, count in marked.items() if count} == set(PAGES)
    for page in PAGES:
        assert marked[page] == len(runnable_blocks(page)) >= 1, page


def test_the_readme_is_a_front_door_listing_every_command() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    table = re.findall(r"^\| \[`([a-z-]+)`\]\(", text, re.MULTILINE)
    assert sorted(table) == sorted(commands.choices)


def test_the_runnable_examples_run_in_order_without_a_traceback(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    # What the examples read from the clone, and the environment `make demo` builds.
    for name in ("tests", "benchmarks"):
        (clone / name).symlink_to(ROOT / name)
    (clone / "template.yml").write_bytes((ROOT / "template.yml").read_bytes())
    (clone / ".venv-3.10").symlink_to(Path(sys.executable).parent.parent)
    blocks = [block for page in PAGES for block in runnable_blocks(page)]
    # Only what the README's own PATH step adds.
    done = run_as_a_new_user("\n".join(blocks), cwd=clone, path=os.defpath, timeout=240)
    # The fake-oss example really remediated through the server it started.
    assert '"outcome": "remediated"' in done.stdout
    assert (clone / "event.json").exists()
    # The fake-cloud example went from nothing to every bucket private and back to nothing.
    assert "nothing to change: everything is in place" in done.stdout
    assert (
        "fake cloud stopped: buckets: shop-site private, old-downloads private,"
        " team-share private; topics: none; Config rules: none; delivery channels: none;"
        " Config remediations: none"
    ) in done.stderr
    assert not (clone / ".resource-repair-setup.json").exists()
    assert (clone / "event.txt").exists()
    # The sweep by hand made its public bucket private.
    assert "fake cloud after the sweep: buckets: shop-site private" in done.stderr
    # The flood benchmark's settings, with the clone's Python.
    assert "usage: flood.py" in done.stdout
