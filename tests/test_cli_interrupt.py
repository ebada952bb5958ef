"""Ctrl-C: one line and exit 130 from every command; a command that writes to buckets
finishes the buckets in hand first, and a second Ctrl-C aborts at once, naming them."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from resource_repair.testing import DEFAULT_CREDENTIALS
from resource_repair.testing.config.server import fake_config_server
from resource_repair.testing.oss.models import Fault, OssBackend
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.sts import fake_sts_server
from resource_repair.tools.audit_lines import read_audit_lines
from resource_repair.tools.fake_cloud import FakeCloud
from resource_repair.tools.interruption import FinishInHand
from tests.test_cli_edges import outcome

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = str(ROOT / "template.yml")
SEED = str(ROOT / "tests/events/noncompliance-oss-stream.txt")
RULE = "test-oss-bucket-public-read-prohibited"
BUCKETS = ("first-bucket", "second-bucket", "third-bucket")
KEYS = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_CREDENTIALS.access_key_id,
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_CREDENTIALS.access_key_secret,
    "ALIBABA_CLOUD_SECURITY_TOKEN": DEFAULT_CREDENTIALS.security_token,
}


@dataclass
class Served:
    cloud: FakeCloud
    oss: str
    config: str
    sts: str

    def backfill_apply(self) -> list[str]:
        return [
            "backfill",
            "-t",
            TEMPLATE,
            "--rule-name",
            RULE,
            "--apply",
            "--concurrency",
            "1",
            "--env",
            "dryRun=false",
            "--env",
            f"ossEndpointOverride={self.oss}",
            "--sts-endpoint",
            self.sts,
            "--config-endpoint",
            self.config,
        ]


@pytest.fixture
def served() -> Iterator[Served]:
    cloud = FakeCloud(list(BUCKETS))
    cloud.add_rule(RULE)
    with contextlib.ExitStack() as servers:
        oss = servers.enter_context(fake_oss_server(cloud.oss))
        config = servers.enter_context(fake_config_server(cloud.config))
        sts = servers.enter_context(fake_sts_server(cloud.sts))
        yield Served(cloud, oss.url, config.url[len("http://") :], sts.url[len("http://") :])


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("prepareRuleName", raising=False)


def private(cloud: FakeCloud) -> list[str]:
    return sorted(b.name for b in cloud.oss.buckets.values() if b.acl == "private")


def test_backfill_apply_finishes_the_bucket_in_hand_then_stops(
    served: Served, keys: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C arrives as the first write is sent: that bucket is written and read back,
    no other bucket is touched, and the command ends with 130 and its summary."""

    def ctrl_c(backend: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c))
    code, out, err = outcome(served.backfill_apply(), capsys)
    assert code == 130
    assert "Traceback" not in err
    assert private(served.cloud) == [served.cloud.oss.calls[-1].bucket]
    writes = [c for c in served.cloud.oss.calls if c.operation == "PutBucketAcl"]
    assert len(writes) == 1
    # The write was read back: a read of that bucket came after it.
    last = served.cloud.oss.calls[-1]
    assert last.operation != "PutBucketAcl"
    assert last.bucket == writes[0].bucket
    assert "interrupted: finishing the bucket(s) in hand first" in err
    assert "stopped by Ctrl-C: the buckets in hand were finished" in err
    assert out.splitlines()[1].split() == ["remediated", "1"]


def test_a_second_ctrl_c_aborts_at_once_naming_the_bucket_in_hand(
    served: Served, tmp_path: Path
) -> None:
    aside: list[Aside] = []
    served.cloud.oss.faults.append(
        Fault(1, "PutBucketAcl", action=lambda backend: aside[0].ctrl_c_twice())
    )
    aside.append(run_aside(served.backfill_apply(), tmp_path, KEYS))
    code, err = aside[0].end()
    assert code == 130
    assert "Traceback" not in err
    [aborted] = [line for line in err.splitlines() if line.startswith("aborted")]
    assert aborted.startswith("aborted while ")
    assert "(ap-southeast-1) was in hand" in aborted
    assert "its state is not known" in aborted


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A loopback port that accepts connections and never answers; the event is set once
    a client connected."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])
                connected.set()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", connected
    finally:
        listener.close()
        for connection in held:
            connection.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["whoami", "--sts-endpoint", "{address}"],
        ["doctor", "-t", TEMPLATE, "--sts-endpoint", "{address}"],
        ["backfill", "-t", TEMPLATE, "--rule-id", "cr-1", "--sts-endpoint", "{address}"],
        [*("invoke", "-t", TEMPLATE, "-f", SEED, "--oss", "real", "--env"), "{override}"],
    ],
    ids=["whoami", "doctor", "backfill", "invoke"],
)
def test_ctrl_c_while_waiting_for_an_answer_is_one_line_and_exit_130(
    tmp_path: Path, argv: list[str]
) -> None:
    with silent_server() as (address, connected):
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "resource_repair"]
            + [
                a.format(address=address, override=f"ossEndpointOverride=http://{address}")
                for a in argv
            ],
            cwd=tmp_path,
            env={**os.environ, **KEYS},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert connected.wait(30)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err.strip().splitlines()[-1] == "resource-repair: interrupted"
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err


def test_ctrl_c_during_remote_invoke_is_one_line_and_exit_130(
    keys: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FC API cannot be pointed at loopback: Ctrl-C comes while fc2 sends."""
    import fc2

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fc2.Client, "invoke_function", interrupted)
    argv = ["remote-invoke", "-t", TEMPLATE, "--account-id", "1234", "-e", "{}"]
    code, out, err = outcome(argv, capsys)
    assert (code, out, err) == (130, "", "resource-repair: interrupted\n")


def remediated_report(served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Every bucket made private by a backfill, and its audit lines in a report."""
    report = tmp_path / "report.jsonl"
    code, _, _ = outcome([*served.backfill_apply(), "--report", str(report)], capsys)
    assert code == 0
    assert private(served.cloud) == sorted(BUCKETS)
    return report


def test_restore_apply_finishes_the_bucket_in_hand_then_stops(
    served: Served, keys: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = remediated_report(served, tmp_path, capsys)
    served.cloud.oss.calls.clear()

    def ctrl_c(backend: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c))
    argv = ["restore", "--report", str(report), "--apply", "--endpoint", served.oss[7:]]
    argv += ["--sts-endpoint", served.sts]
    code, out, err = outcome(argv, capsys)
    assert code == 130
    assert "Traceback" not in err
    writes = [c for c in served.cloud.oss.calls if c.operation == "PutBucketAcl"]
    [restored] = [b.name for b in served.cloud.oss.buckets.values() if b.acl == "public-read"]
    assert [w.bucket for w in writes] == [restored]
    # Read back after the write, and said so; no other bucket was touched.
    assert served.cloud.oss.calls[-1].bucket == restored
    assert served.cloud.oss.calls[-1].operation != "PutBucketAcl"
    assert f"{restored} (ap-southeast-1): restored" in out
    assert "stopped by Ctrl-C: the buckets in hand were finished" in err


def written(backend: OssBackend) -> set[str]:
    return {c.bucket or "" for c in backend.calls if c.operation == "PutBucketAcl"}


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The audit lines logged, as the command prints them on stderr (its log format)."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.name == "resource_repair.audit"
    ]


def undoable(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The buckets restore would find a remediation of in the audit lines logged."""
    records = read_audit_lines(audit_lines(caplog)).records
    return sorted(r["bucket"] for r in records if r["outcome"] == "remediated")


def test_ctrl_c_during_a_sweep_apply_records_every_write_and_starts_no_further_bucket(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep works on four buckets at once and has more queued: Ctrl-C lets those in
    hand finish, their audit lines included (restore undoes only what those record), and
    drops the queued ones."""
    from resource_repair.sweep import SWEEP_CONCURRENCY

    made: list[FakeCloud] = []
    sent, handled = threading.Event(), threading.Event()

    def ctrl_c(backend: object) -> None:
        # To the main thread, where Python runs signal handlers: sent to the process, the
        # signal may land in a worker and wait until the main thread next wakes.
        sent.set()
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        handled.wait(10)

    def hold_until_handled(backend: object) -> None:
        # Once Ctrl-C is sent, no request is answered before the main thread has seen it,
        # however loaded the machine: what starts afterwards is what the sweep started.
        if sent.is_set():
            handled.wait(10)

    class Cloud(FakeCloud):
        def __init__(self, buckets: list[str]) -> None:
            super().__init__(buckets)
            made.append(self)
            self.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c))
            self.oss.faults.append(Fault(10**6, action=hold_until_handled))

    heard = FinishInHand._on_interrupt

    def on_interrupt(self: FinishInHand, signum: int, frame: object) -> None:
        heard(self, signum, None)
        handled.set()

    def interrupted(signum: int, frame: object) -> None:
        handled.set()  # (the sweep without a Ctrl-C handler of its own)
        raise KeyboardInterrupt

    monkeypatch.setattr(FinishInHand, "_on_interrupt", on_interrupt)
    monkeypatch.setattr("resource_repair.tools.fake_cloud.FakeCloud", Cloud)
    previous = signal.signal(signal.SIGINT, interrupted)
    caplog.set_level(logging.INFO, "resource_repair.audit")
    try:
        buckets = [f"bucket-{n:02d}" for n in range(12)]
        argv = ["sweep", "-t", TEMPLATE, "--apply", *(f"--bucket={b}" for b in buckets)]
        code, out, err = outcome(argv, capsys)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 130
    assert "Traceback" not in err
    changed = sorted(written(made[0].oss))
    # Every bucket written can be put back: its audit line was logged before the exit.
    assert undoable(caplog) == changed
    # The buckets in hand (one per worker) finish; the queued ones never start.
    assert 1 <= len(changed) <= SWEEP_CONCURRENCY < len(buckets)
    assert "stopped by Ctrl-C: the buckets in hand were finished" in err
    result = json.loads(out)
    assert result["complete"] is False
    # Stopped by the operator, not short of time: no advice to raise the timeout.
    assert result["reason"].startswith("stopped by Ctrl-C; incomplete: ")
    assert "timeout" not in result["reason"]


def run_aside(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> Aside:
    """``resource-repair argv`` in a process of its own, its stderr in a file."""
    err = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "resource_repair", *argv],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdout=(tmp_path / "stdout.txt").open("w", encoding="utf-8"),  # a file: buffered
        stderr=err,
        text=True,
    )
    return Aside(process, tmp_path / "stderr.txt")


@dataclass
class Aside:
    process: subprocess.Popen[str]
    stderr: Path

    def said(self, text: str) -> bool:
        return text in self.stderr.read_text(encoding="utf-8")

    def ctrl_c_twice(self) -> None:
        """Ctrl-C, and Ctrl-C again once the first was heard (two at once would be one:
        the kernel keeps one pending SIGINT); then, as a write that hangs, wait until the
        process is gone (only an abort ends it before 60 s)."""
        self.process.send_signal(signal.SIGINT)
        for _ in range(3000):  # ~30 s
            if self.said("interrupted: finishing the bucket(s) in hand first"):
                break
            time.sleep(0.01)
        self.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(60)
        # The fake drops the connection without a word (an answer to a process that is
        # gone would print a BrokenPipeError traceback into whichever test runs then).
        raise ConnectionAbortedError("the command is gone")

    def end(self) -> tuple[int, str]:
        code = self.process.wait(90)
        return code, self.stderr.read_text(encoding="utf-8")


def test_a_second_ctrl_c_in_a_sweep_aborts_at_once_naming_the_buckets_in_hand(
    served: Served, tmp_path: Path
) -> None:
    """One bucket's write hangs; the other two are written. A second Ctrl-C ends the sweep
    at once, in one line; of every bucket written, restore finds an audit line or that line
    names it."""
    aside: list[Aside] = []
    hung: list[str] = []

    def ctrl_c_twice(backend: OssBackend) -> None:
        for _ in range(3000):  # ~30 s: the other buckets' writes, which do not hang
            if len(written(backend)) == len(BUCKETS) - 1:
                break
            time.sleep(0.01)
        hung.extend(set(BUCKETS) - written(backend))
        aside[0].ctrl_c_twice()

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c_twice))
    overrides = [f"configEndpointOverride={served.config}", f"ossEndpointOverride={served.oss}"]
    argv = ["sweep", "-t", TEMPLATE, "--apply", *(f"--env={o}" for o in overrides)]
    aside.append(run_aside(argv, tmp_path))
    code, err = aside[0].end()
    assert code == 130
    assert "Traceback" not in err
    [aborted] = [line for line in err.splitlines() if line.startswith("aborted")]
    [stuck] = hung
    assert f"aborted while {stuck} (ap-southeast-1) was in hand" in aborted or (
        f" {stuck} (ap-southeast-1) (" in aborted and "buckets were in hand" in aborted
    )
    assert "state is not known" in aborted
    assert aborted.endswith("Read the state with: resource-repair sweep without --apply")
    records = read_audit_lines(err.splitlines()).records
    audited = {r["bucket"] for r in records if r["outcome"] == "remediated"}
    for bucket in set(BUCKETS) - {stuck}:
        assert bucket in audited or f"{bucket} (ap-southeast-1)" in aborted


def test_a_second_ctrl_c_in_restore_names_the_bucket_and_what_it_was_to_do(
    served: Served, keys: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = remediated_report(served, tmp_path, capsys)
    aside: list[Aside] = []
    served.cloud.oss.faults.append(
        Fault(1, "PutBucketAcl", action=lambda backend: aside[0].ctrl_c_twice())
    )
    argv = ["restore", "--report", str(report), "--apply", "--endpoint", served.oss[7:]]
    argv += ["--sts-endpoint", served.sts]
    aside.append(run_aside(argv, tmp_path, KEYS))
    code, err = aside[0].end()
    assert code == 130
    assert "Traceback" not in err
    [aborted] = [line for line in err.splitlines() if line.startswith("aborted")]
    assert "(it was to set the ACL back from private to public-read)" in aborted
    assert f"resource-repair restore --report {report} --bucket NAME" in aborted


def test_a_second_ctrl_c_in_restore_keeps_the_lines_of_the_buckets_already_put_back(
    served: Served, keys: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout to a file is block-buffered, and the abort ends the process at once."""
    report = remediated_report(served, tmp_path, capsys)
    aside: list[Aside] = []
    writes: list[str] = []

    def on_write(backend: object) -> None:
        writes.append("PutBucketAcl")
        if len(writes) == 2:  # the first bucket is put back; the second hangs
            aside[0].ctrl_c_twice()

    served.cloud.oss.faults.append(Fault(2, "PutBucketAcl", action=on_write))
    argv = ["restore", "--report", str(report), "--apply", "--endpoint", served.oss[7:]]
    argv += ["--sts-endpoint", served.sts]
    aside.append(run_aside(argv, tmp_path, KEYS))
    code, _ = aside[0].end()
    assert code == 130
    [restored] = [b.name for b in served.cloud.oss.buckets.values() if b.acl == "public-read"]
    said = (tmp_path / "stdout.txt").read_text(encoding="utf-8")
    assert f"{restored} (" in said  # its line, "restored", was written before the abort
    assert "restored" in said


def _interrupt_a_worker(prefix: str) -> None:
    """SIGINT to a worker thread named ``prefix``..., as the kernel may choose for Ctrl-C."""
    for _ in range(500):
        workers = [t for t in threading.enumerate() if t.name.startswith(prefix)]
        if workers and workers[0].ident is not None:
            signal.pthread_kill(workers[0].ident, signal.SIGINT)
            return
        time.sleep(0.01)


def _heard_while_running(wait: Callable[[Callable[[], None]], object], worker: str) -> bool:
    """Whether the main thread, inside ``wait(call)``, ran its Ctrl-C handler while ``call``
    (which waits up to 20 s) was still running, the signal having gone to ``worker``."""
    released, ended = threading.Event(), threading.Event()
    heard: list[bool] = []

    def call() -> None:
        released.wait(20)
        ended.set()

    def on_interrupt(signum: int, frame: object) -> None:
        heard.append(not ended.is_set())
        released.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        threading.Thread(target=_interrupt_a_worker, args=(worker,), daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            _then_linger(wait, call)
    finally:
        signal.signal(signal.SIGINT, previous)
        released.set()
    return heard == [True]


def _then_linger(wait: Callable[[Callable[[], None]], object], call: Callable[[], None]) -> None:
    wait(call)
    time.sleep(1)  # a handler held back until the call ended runs here at the latest


def test_ctrl_c_given_to_the_thread_of_a_bounded_call_is_heard_before_the_call_ends() -> None:
    """whoami, doctor and every STS or Config call wait for a call running in a thread of its
    own: Ctrl-C must not wait for that call's own timeout."""
    from resource_repair.cutoff import run_within

    assert _heard_while_running(lambda call: run_within(30, call, "AssumeRole"), "cutoff-")


def test_ctrl_c_given_to_a_sweep_worker_is_heard_while_its_bucket_is_in_hand() -> None:
    from resource_repair.listed_buckets import bounded_map

    def sweep(call: Callable[[], None]) -> None:
        list(bounded_map(lambda bucket: call(), ["first-bucket", "second-bucket"], 1))

    assert _heard_while_running(sweep, "bucket")


@pytest.mark.parametrize("entry", [1, 2], ids=["taking-a-bucket", "letting-it-go"])
def test_ctrl_c_while_the_main_thread_holds_the_list_of_buckets_in_hand_is_heard(
    entry: int,
) -> None:
    """The Ctrl-C handler runs in the main thread, between any two of its steps: also while
    that thread itself holds the lock of the list of buckets in hand (to take a bucket in
    hand, or to let it go). The handler must not wait for that lock: it would wait for
    ever, and Ctrl-C would hang the command instead of stopping it."""
    err = io.StringIO()
    stop = FinishInHand(err, read_state="a dry run")
    held = stop._lock  # the lock itself, whatever kind: entered as the code enters it
    entries: list[int] = []

    class InterruptedInside:
        def __enter__(self) -> None:
            if not held.acquire(timeout=5):
                raise AssertionError("the Ctrl-C handler waited for a lock its thread holds")
            entries.append(1)
            if len(entries) == entry:
                signal.raise_signal(signal.SIGINT)  # handled before this thread goes on

        def __exit__(self, *exc: object) -> None:
            held.release()

    with stop:
        stop._lock = InterruptedInside()  # type: ignore[assignment]
        for _ in stop.taking(["first-bucket", "second-bucket"], str):
            pass
    assert stop.requested
    assert "interrupted: finishing the bucket(s) in hand first" in err.getvalue()


def an_event_of_first_bucket(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    event = str(tmp_path / "event.txt")
    argv = ["event", "--bucket", "first-bucket", "--region", "ap-southeast-1", "-o", event]
    assert outcome(argv, capsys)[0] == 0
    return event


def test_ctrl_c_during_an_invoke_that_writes_finishes_the_bucket_and_logs_its_audit_line(
    served: Served,
    keys: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``invoke --oss real`` with dryRun false writes: Ctrl-C as it writes lets the bucket
    be written, read back and its audit line logged (what restore undoes), then exit 130."""
    event = an_event_of_first_bucket(tmp_path, capsys)

    def ctrl_c(backend: object) -> None:
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c))
    caplog.set_level(logging.INFO, "resource_repair.audit")
    argv = ["invoke", "-t", TEMPLATE, "-f", event, "--oss", "real", "--env", "dryRun=false"]
    code, out, err = outcome([*argv, "--env", f"ossEndpointOverride={served.oss}"], capsys)
    assert undoable(caplog) == ["first-bucket"]
    assert code == 130
    assert "Traceback" not in err
    assert json.loads(out)["outcome"] == "remediated"
    assert private(served.cloud) == ["first-bucket"]
    assert "stopped by Ctrl-C: first-bucket (ap-southeast-1) was finished first" in err


def test_a_second_ctrl_c_in_an_invoke_that_writes_names_the_bucket(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = an_event_of_first_bucket(tmp_path, capsys)
    aside: list[Aside] = []
    served.cloud.oss.faults.append(
        Fault(1, "PutBucketAcl", action=lambda backend: aside[0].ctrl_c_twice())
    )
    argv = ["invoke", "-t", TEMPLATE, "-f", event, "--oss", "real", "--env", "dryRun=false"]
    argv += ["--env", f"ossEndpointOverride={served.oss}"]
    aside.append(run_aside(argv, tmp_path, KEYS))
    code, err = aside[0].end()
    assert code == 130
    assert "Traceback" not in err
    [aborted] = [line for line in err.splitlines() if line.startswith("aborted")]
    assert aborted.startswith("aborted while first-bucket (ap-southeast-1) was in hand")
    assert aborted.endswith("the same resource-repair invoke with --env dryRun=true (a dry run)")


def test_a_second_ctrl_c_in_backfill_leaves_every_write_in_its_report(
    served: Served, tmp_path: Path
) -> None:
    """The second bucket's write hangs; a second Ctrl-C ends the process at once, without
    emptying its buffers: the first bucket's record must already be in the report (or, if
    the abort came before it could be, the one line names that bucket)."""
    aside: list[Aside] = []
    before: list[str] = []

    def ctrl_c_twice_at_the_second_write(backend: OssBackend) -> None:
        if written(backend):
            before.extend(written(backend))
            aside[0].ctrl_c_twice()

    served.cloud.oss.faults.append(
        Fault(2, "PutBucketAcl", action=ctrl_c_twice_at_the_second_write)
    )
    report = tmp_path / "report.jsonl"
    aside.append(run_aside([*served.backfill_apply(), "--report", str(report)], tmp_path, KEYS))
    code, err = aside[0].end()
    assert code == 130
    assert "Traceback" not in err
    [aborted] = [line for line in err.splitlines() if line.startswith("aborted")]
    records = read_audit_lines(report.read_text(encoding="utf-8").splitlines()).records
    in_report = {r["bucket"] for r in records if r["outcome"] == "remediated"}
    [first] = before
    assert first in in_report or f"{first} (ap-southeast-1) was finished" in aborted


class ExitedError(Exception):
    """What os._exit raises under no_exit."""


@pytest.fixture
def no_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    """os._exit raises instead, so that the test goes on after a second Ctrl-C."""

    def exit_(code: int) -> None:
        raise ExitedError(code)

    monkeypatch.setattr(os, "_exit", exit_)


def ctrl_c_twice() -> None:
    """Two Ctrl-C in the main thread, as the handler hears them."""
    signal.raise_signal(signal.SIGINT)
    signal.raise_signal(signal.SIGINT)


@pytest.mark.usefixtures("no_exit")
def test_the_abort_is_one_line_naming_every_bucket_in_hand_and_what_is_known_of_it() -> None:
    """Two buckets being worked on and one finished whose record is not yet written (a
    sweep's or backfill's record is written by the main thread after the work)."""
    err = io.StringIO()
    with FinishInHand(err, read_state="a dry run") as stop:
        kept = stop.run_kept("first-bucket (cn-hangzhou)", lambda: "remediated")
        assert kept is not None
        with pytest.raises(ExitedError, match="130"):
            stop.run(
                "second-bucket (cn-hangzhou)",
                lambda: stop.run("third-bucket (cn-beijing)", ctrl_c_twice),
            )
    interrupted, aborted = err.getvalue().splitlines()
    assert interrupted.startswith("interrupted: finishing the bucket(s) in hand first (first-")
    assert aborted.startswith("aborted while 2 buckets were in hand: second-bucket (cn-hangzhou)")
    assert ", third-bucket (cn-beijing) (" in aborted
    assert "s in): their writes may or may not have been made" in aborted
    assert (
        "their state is not known; first-bucket (cn-hangzhou) was finished but not recorded"
        " (no audit record says what was changed, so restore cannot undo it). Read the state"
        " with: a dry run"
    ) in aborted


@pytest.mark.usefixtures("no_exit")
def test_the_lines_of_ctrl_c_show_a_bucket_name_escaped_and_reach_a_real_stream(
    tmp_path: Path,
) -> None:
    """A name from a message or a listing cannot steer the terminal; the lines are written
    to the stream's file descriptor (the handler may interrupt a write to the same stream)."""

    path = tmp_path / "stderr.txt"
    with (
        path.open("w", encoding="utf-8") as err,
        FinishInHand(err, read_state="a dry run") as stop,
        pytest.raises(ExitedError, match="130"),
    ):
        stop.run("evil\x1b[2J\rbucket (cn-hangzhou)", ctrl_c_twice)
    interrupted, aborted = path.read_text(encoding="utf-8").splitlines()
    for line in (interrupted, aborted):
        assert "\x1b" not in line
        assert "\r" not in line
        assert "evil\\x1b[2J" in line
