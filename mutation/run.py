"""Plant each mutant in a scratch copy of the tree and run the tests that should notice it.

The working tree is never touched: the files git knows of are copied once, each mutant is
written into the copy and undone after its run, and the copy's ``src`` comes first on
``PYTHONPATH`` so that the pytest plugin and every import load the mutated code, not an
editable install of the clone.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mutation.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parent.parent
# Seconds one mutant's tests may take; a mutant that makes the tests hang counts as noticed
# (a test run that never ends is a failing one), but the run must end.
TIMEOUT = 600


class StaleMutantError(Exception):
    """A mutant's original text is not in the code once: the list must follow the code."""


def planted(source: str, mutant: Mutant) -> str:
    """``source`` with the mutant planted; the original text must occur exactly once."""
    count = source.count(mutant.before)
    if count != 1:
        raise StaleMutantError(
            f"{mutant.name}: the text to mutate occurs {count} times in {mutant.path}"
        )
    return source.replace(mutant.before, mutant.after)


def run_tests(scratch: Path, tests: Sequence[str]) -> bool:
    """Whether ``tests`` pass in the scratch copy (a run that outlasts TIMEOUT does not)."""
    env = {**os.environ, "PYTHONPATH": str(scratch / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and test files
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=scratch,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return completed.returncode == 0


def run_one(scratch: Path, mutant: Mutant) -> tuple[bool, float]:
    """Whether the tests noticed the mutant, and how long they took."""
    target = scratch / mutant.path
    original = target.read_text(encoding="utf-8")
    target.write_text(planted(original, mutant), encoding="utf-8")
    started = time.monotonic()
    try:
        noticed = not run_tests(scratch, mutant.tests)
    finally:
        target.write_text(original, encoding="utf-8")
    return noticed, time.monotonic() - started


def copy_tree(into: Path) -> Path:
    """A copy of every file git knows of (tracked, or new and not ignored): the tests read
    the templates, the README and their recorded samples, not only src and tests."""
    scratch = into / "tree"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted and not yet committed is still listed
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    return scratch


def check_all(mutants: Sequence[Mutant]) -> None:
    """Raise if any mutant no longer matches the code (cheap: no test is run)."""
    for mutant in mutants:
        planted((ROOT / mutant.path).read_text(encoding="utf-8"), mutant)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mutation",
        description="Plant realistic one-line bugs in the safety code and see whether the "
        "tests notice each one.",
        epilog="Example: python -m mutation --only restore",
    )
    parser.add_argument("--only", default="", help="run only mutants whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if args.only in m.name]
    try:
        check_all(mutants)
    except StaleMutantError as exc:
        print(f"mutation: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for mutant in mutants:
            print(f"{mutant.name}: {mutant.path}")
        return 0
    print(
        f"# {len(mutants)} mutants, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
        f" UTC, {platform.node() or 'this machine'} ({platform.platform()},"
        f" {os.cpu_count()} CPUs), Python {platform.python_version()}"
    )
    began = time.monotonic()
    killed: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    survivors = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        scratch = copy_tree(Path(tmp))
        # A test that fails without any mutant would count every mutant as noticed.
        baseline = list(dict.fromkeys(test for mutant in mutants for test in mutant.tests))
        if baseline and not run_tests(scratch, baseline):
            print(
                "mutation: the named tests fail on the unmutated code; fix that first:\n  "
                + " ".join(baseline),
                file=sys.stderr,
            )
            return 2
        for mutant in mutants:
            noticed, seconds = run_one(scratch, mutant)
            total[mutant.path] += 1
            killed[mutant.path] += noticed
            if not noticed:
                survivors.append(mutant)
            print(f"{'killed  ' if noticed else 'SURVIVED'} {seconds:6.1f}s  {mutant.name}")
            sys.stdout.flush()
    print("\n| module | mutants | killed | kill rate |\n|---|---|---|---|")
    for path in sorted(total):
        print(f"| {path} | {total[path]} | {killed[path]} | {killed[path] / total[path]:.0%} |")
    overall = sum(killed.values()) / max(1, sum(total.values()))
    print(
        f"\nkilled {sum(killed.values())} of {sum(total.values())} ({overall:.0%})"
        f" in {time.monotonic() - began:.0f} s"
    )
    for mutant in survivors:
        print(f"survived: {mutant.name} ({mutant.path}): {mutant.why}")
    return 1 if survivors else 0
