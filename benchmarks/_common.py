"""Helpers the benchmarks share: fakes in their own processes, a loopback-only guard, and
readings of memory, date and machine."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import platform
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"


@contextlib.contextmanager
def fake_oss_server(*args: str) -> Iterator[str]:
    """``resource-repair fake-oss`` in a child process, so it does not share our GIL."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "resource_repair", "fake-oss", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def fake_clouds(buckets: int, latency_ms: float, qps_limit: int | None = None) -> Iterator[Any]:
    """``_fake_clouds.py`` in a child process: its JSON line (``oss``, ``config``, ``rule_id``)."""
    limit = [] if qps_limit is None else [str(qps_limit)]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            str(ROOT / "benchmarks" / "_fake_clouds.py"),
            str(buckets),
            str(latency_ms),
            *limit,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse, in this process, any connection or name lookup that is not for loopback, so
    that a setting the benchmark did not foresee (a notification topic, say) can never send
    a request to a real endpoint. Yields the list of hosts refused, for the printout."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    refused: list[str] = []

    def is_loopback(host: object) -> bool:
        if host in ("localhost", b"localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            refused.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"benchmark: {host!r} is not loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            refused.append(str(address[0]))
            raise ConnectionRefusedError(111, f"benchmark: {address[0]!r} is not loopback")
        real_connect(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    try:
        yield refused
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]


def server_state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/_fake/state", timeout=10) as reply:  # noqa: S310 - loopback
        state: dict[str, Any] = json.loads(reply.read())
    return state


def rss_mib() -> float:
    """Resident memory now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def now_utc() -> str:
    """When a run was made, for the printed figures."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]
