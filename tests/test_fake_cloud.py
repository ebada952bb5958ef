"""``resource-repair fake-cloud``: one command serves Config, SMQ, STS, RAM and OSS on
loopback, prints the settings, and says what the fakes hold when it stops."""

from __future__ import annotations

import io
import shlex
import shutil
import threading
import time
from pathlib import Path

import pytest

from resource_repair import cli
from resource_repair.tools.fake_cloud import serve

ROOT = Path(__file__).resolve().parents[1]


def test_setup_runs_against_the_served_fakes_and_the_fakes_say_what_they_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err, stop = io.StringIO(), io.StringIO(), threading.Event()
    server = threading.Thread(
        target=serve, args=("127.0.0.1", ["site:ap-southeast-1:public-read"], out, err, stop)
    )
    server.start()
    try:
        for _ in range(200):
            if "FAKE_RAM" in out.getvalue():
                break
            time.sleep(0.05)
        settings = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in out.getvalue().splitlines()
        )
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        shutil.copy(ROOT / "template.yml", tmp_path / "template.yml")
        fakes = ["--sts-endpoint", settings["FAKE_STS"], "--config-endpoint"]
        fakes += [settings["FAKE_CONFIG"], "--ram-endpoint", settings["FAKE_RAM"]]
        argv = ["setup", "-t", str(tmp_path / "template.yml"), *fakes]
        assert cli.main([*argv, "--apply"]) == 0
        assert cli.main(argv) == 0
        plan = capsys.readouterr().out
        # Config evaluated the new rule against the fake OSS's public bucket.
        assert "Config reports 1 bucket non-compliant (site)" in plan
    finally:
        stop.set()
        server.join(10)
    assert "topics: SMQTestConfig, resource-repair-failures" in err.getvalue()
    assert "Config rules: test-oss-bucket-public-read-prohibited" in err.getvalue()


def test_a_function_that_is_not_service_slash_function_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["fake-cloud", "--function", "no-slash"]) == 2
    assert "is not SERVICE/FUNCTION" in capsys.readouterr().err
