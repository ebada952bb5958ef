"""Helpers the benchmarks share: fakes in their own processes, a loopback-only guard, and
readings of memory, date and machine."""

from __future__ import annotations

import base64
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


def run_header(title: str) -> str:
    """The first lines every benchmark prints: what it measured, when, and on what, with the
    load average so that a reader can tell when other work shared the cores."""
    memory = "unknown memory"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.0f} GiB"
                break
    load = "n/a"
    with contextlib.suppress(OSError, AttributeError):
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{title}\n"
        f"  date     {now_utc()}\n"
        f"  machine  {machine()}, {memory}\n"
        f"  load     {load} (1, 5, 15 min) at the start; absolute times are this machine's"
    )


def ratio(value: float, baseline: float) -> str:
    """``value`` as a multiple of ``baseline``, the form every benchmark prints figures in."""
    if baseline <= 0 or baseline != baseline:
        return "n/a"
    return f"{value / baseline:.2f}x"


# The sample (the function Alibaba Cloud's tutorial publishes), ported so that a benchmark can
# measure it doing the same work as ours in the same run. Its behaviour is kept: base64 only,
# json.loads without a guard, the rule compared by name, the ACL written without reading it
# first, and a new oss2.Bucket (so a new session and connection) per delivery. The one change:
# the endpoint comes from ``ossEndpointOverride``, which must be set, so that the port can
# only ever reach the loopback fake (the original builds http://oss-<region>.aliyuncs.com).
SAMPLE_PORT = '''
import base64
import binascii
import json
import logging
import os

import oss2
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

log = logging.getLogger()


def target(event):
    """(region, bucket) when the sample would remediate; None when it ignores the message;
    "fail" when it gives up. Raises where the sample raised (json.loads on bad input)."""
    log.info("delivery: %s", event)
    if not event:
        return "fail"
    try:
        body = base64.b64decode(event)
    except binascii.Error:
        log.exception("not base64")
        return "fail"
    if not body:
        return "fail"
    message = json.loads(body)
    if not message or "evaluationResultIdentifier" not in message:
        return None
    identifier = message.get("evaluationResultIdentifier")
    if "evaluationResultQualifier" not in identifier:
        return None
    qualifier = identifier.get("evaluationResultQualifier")
    if "configRuleName" not in qualifier:
        return None
    if qualifier.get("configRuleName") != os.environ.get("prepareRuleName"):
        return None
    if "resourceId" not in qualifier or "regionId" not in qualifier:
        return None
    region, bucket = qualifier.get("regionId"), qualifier.get("resourceId")
    return (region, bucket) if region and bucket else None


def handler(event, context):
    found = target(event)
    if not isinstance(found, tuple):
        return found
    region, bucket = found
    try:
        keys = context.credentials
        auth = oss2.StsAuth(keys.access_key_id, keys.access_key_secret, keys.security_token)
        oss2.Bucket(auth, os.environ["ossEndpointOverride"], bucket).put_bucket_acl(
            oss2.BUCKET_ACL_PRIVATE
        )
    except Exception:
        log.exception("remediation failed")
        return "fail"
    return None
'''


def sample_module() -> Any:
    """The sample's port as a module, for benchmarks that run it in their own process."""
    import types

    module = types.ModuleType("sample_index")
    exec(compile(SAMPLE_PORT, "sample_index.py", "exec"), module.__dict__)  # noqa: S102 - our own text
    return module


def stream_delivery(bucket: str) -> bytes:
    """The recorded non-compliance message for ``bucket``, as a STREAM delivery carries it."""
    message = json.loads((EVENTS / "noncompliance-oss-plain.json").read_text())
    qualifier = message["evaluationResultIdentifier"]["evaluationResultQualifier"]
    qualifier["resourceId"] = qualifier["resourceName"] = bucket
    return base64.b64encode(json.dumps(message).encode())
