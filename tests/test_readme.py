"""The README's runnable examples, run as a new user would paste them: in order, in one
shell, from a copy of the clone, against the fakes. A change that breaks an example (a flag
renamed, a file used before the step that creates it) fails here, not on a user's screen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- runnable -->"
BLOCK = re.compile(r"^" + re.escape(MARK) + r"\n```sh\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def runnable_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_every_marked_block_is_a_shell_block() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(MARK) == len(runnable_blocks()) >= 3


def test_the_runnable_examples_run_in_order_without_a_traceback(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    # What the examples read from the clone, and the environment `make demo` builds.
    (clone / "tests").symlink_to(ROOT / "tests")
    (clone / "template.yml").write_bytes((ROOT / "template.yml").read_bytes())
    (clone / ".venv-3.10").symlink_to(Path(sys.executable).parent.parent)
    script = "set -euo pipefail\n" + "\n".join(runnable_blocks()) + "\nwait\n"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ALIBABA_CLOUD_", "ALIYUN_")) and key != "VIRTUAL_ENV"
    }
    environment["PATH"] = os.defpath  # only what the README's own PATH step adds
    done = subprocess.run(  # noqa: S603 - our own script, from our README
        ["/bin/bash", "-c", script],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output
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
    # Config's own call: registered, then the array remediated after Config confirmed it.
    assert "created remedy" in done.stdout
    [call] = [line for line in done.stdout.splitlines() if '"form": "config-remediation"' in line]
    assert '"outcome": "remediated"' in call
    assert '"bucket": "team-share"' in call
    assert not (clone / ".resource-repair-setup.json").exists()
    assert (clone / "event.txt").exists()
