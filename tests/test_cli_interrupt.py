"""Ctrl-C: one line and exit 130 from every command; a command that writes to buckets
finishes the buckets in hand first, and a second Ctrl-C aborts at once, naming them."""

from __future__ import annotations

import contextlib
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
from resource_repair.testing.oss.models import Fault
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.sts import fake_sts_server
from resource_repair.tools.fake_cloud import FakeCloud
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
    process: list[subprocess.Popen[str]] = []

    def ctrl_c_twice(backend: object) -> None:
        os.kill(process[0].pid, signal.SIGINT)
        time.sleep(0.5)
        os.kill(process[0].pid, signal.SIGINT)
        time.sleep(20)  # the write hangs: only an abort ends the command in time

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c_twice))
    started = time.monotonic()
    process.append(
        subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "resource_repair", *served.backfill_apply()],
            cwd=tmp_path,
            env={**os.environ, **KEYS},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    _, err = process[0].communicate(timeout=60)
    assert process[0].returncode == 130
    assert time.monotonic() - started < 15
    assert "Traceback" not in err
    assert "aborted while " in err
    assert "(ap-southeast-1) was in hand" in err
    assert "its state is not known" in err


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


def test_ctrl_c_during_a_sweep_apply_starts_no_further_bucket(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep works on four buckets at once and has more queued: Ctrl-C lets those in
    hand finish and drops the queued ones."""
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

    def on_interrupt(signum: int, frame: object) -> None:
        handled.set()
        raise KeyboardInterrupt

    monkeypatch.setattr("resource_repair.tools.fake_cloud.FakeCloud", Cloud)
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        buckets = [f"bucket-{n:02d}" for n in range(12)]
        argv = ["sweep", "-t", TEMPLATE, "--apply", *(f"--bucket={b}" for b in buckets)]
        code, out, err = outcome(argv, capsys)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (code, out) == (130, "")
    assert err.strip().splitlines()[-1] == "resource-repair: interrupted"
    writes = [c for c in made[0].oss.calls if c.operation == "PutBucketAcl"]
    # The buckets in hand (one per worker) finish; the queued ones never start.
    assert 1 <= len(writes) <= SWEEP_CONCURRENCY < len(buckets)


def test_a_second_ctrl_c_in_restore_names_the_bucket_and_what_it_was_to_do(
    served: Served, keys: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = remediated_report(served, tmp_path, capsys)
    process: list[subprocess.Popen[str]] = []

    def ctrl_c_twice(backend: object) -> None:
        os.kill(process[0].pid, signal.SIGINT)
        time.sleep(0.5)
        os.kill(process[0].pid, signal.SIGINT)
        time.sleep(20)

    served.cloud.oss.faults.append(Fault(1, "PutBucketAcl", action=ctrl_c_twice))
    argv = ["restore", "--report", str(report), "--apply", "--endpoint", served.oss[7:]]
    argv += ["--sts-endpoint", served.sts]
    started = time.monotonic()
    process.append(
        subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "resource_repair", *argv],
            cwd=tmp_path,
            env={**os.environ, **KEYS},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    _, err = process[0].communicate(timeout=60)
    assert process[0].returncode == 130
    assert time.monotonic() - started < 15
    assert "(it was to set the ACL back from private to public-read)" in err
    assert f"resource-repair restore --report {report} --bucket NAME" in err


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
