"""``resource-repair fake-cloud``: the fakes of Config, SMQ, STS, RAM and OSS (and FC's API,
for the functions ``--function`` names as deployed) served over loopback from one command,
so that setup, invoke, backfill and doctor can be tried without an account. It prints the
settings to use (shell ``export`` lines) and, when stopped, what each fake holds.

The fake Config evaluates a rule when it is created, as Config does: every public bucket
of the fake OSS becomes a NON_COMPLIANT result of that rule.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import signal
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from resource_repair.testing.config import ConfigBackend, FakeRule
from resource_repair.testing.config.server import fake_config_server
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, handle_fc_read
from resource_repair.testing.http_server import FakeHttpServer
from resource_repair.testing.identities import DEFAULT_CREDENTIALS
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from resource_repair.testing.oss import OssBackend
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.testing.ram import RamBackend, handle_ram_request
from resource_repair.testing.sts import StsBackend, fake_sts_server
from resource_repair.tools.fake_oss import FakeOssUsageError, parse_buckets

PUBLIC_ACLS = frozenset({"public-read", "public-read-write"})


class FakeCloud:
    """The five fakes' state, wired as the services are: Config evaluates OSS's buckets."""

    def __init__(self, buckets: Sequence[str], functions: Sequence[str] = ()) -> None:
        specs = parse_buckets(buckets)  # every mistake before a port
        deployed = [parse_function(spec) for spec in functions]
        self.oss = OssBackend()
        for name, region, acl in specs:
            self.oss.create_bucket(name, region, acl)
        self.config = ConfigBackend()
        self.config.on_rule_created = self._evaluate
        self.mns = MnsBackend()
        self.sts = StsBackend()
        self.sts.register(DEFAULT_CREDENTIALS)
        self.ram = RamBackend()
        self.ram.add_role("AliyunServiceRoleForConfig")  # made when Config is activated
        self.fc = FcApiBackend()
        for service, function in deployed:  # as `s deploy` would leave them (GetFunction)
            self.fc.deploy(service, function, lambda _: FunctionAnswer(b"{}"))

    def add_rule(self, reference: str) -> FakeRule:
        """A rule built on oss-bucket-public-read-prohibited, named (or, for a ``cr-``
        reference, with the id) ``reference``, evaluated at once as Config does."""
        rule_id = reference if reference.startswith("cr-") else None
        rule = self.config.add_rule(reference, rule_id=rule_id)
        self._evaluate(rule)
        return rule

    def _evaluate(self, rule: FakeRule) -> None:
        by_region: dict[str, list[str]] = defaultdict(list)
        with self.oss.lock:
            for bucket in self.oss.buckets.values():
                if bucket.acl in PUBLIC_ACLS:
                    by_region[bucket.region].append(bucket.name)
        for region, names in by_region.items():
            self.config.add_results(rule, names, region)

    def summary(self) -> str:
        buckets = ", ".join(f"{b.name} {b.acl}" for b in self.oss.buckets.values()) or "none"
        topics = ", ".join(sorted(self.mns.topics)) or "none"
        rules = ", ".join(r.name for r in self.config.rules.values()) or "none"
        channels = ", ".join(c.channel_id for c in self.config.delivery_channels) or "none"
        remediations = ", ".join(r.remediation_id for r in self.config.remediations) or "none"
        return (
            f"buckets: {buckets}; topics: {topics}; Config rules: {rules};"
            f" delivery channels: {channels}; Config remediations: {remediations}"
        )


def serve(
    host: str,
    buckets: Sequence[str],
    out: TextIO,
    err: TextIO,
    stop: threading.Event | None = None,
    *,
    functions: Sequence[str] = (),
    rules: Sequence[str] = (),
) -> int:
    cloud = FakeCloud(buckets, functions)
    for name in rules:
        cloud.add_rule(name)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():  # signals reach only that one
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as servers:
        oss = servers.enter_context(fake_oss_server(cloud.oss, host))
        config = servers.enter_context(fake_config_server(cloud.config, host))
        mns = servers.enter_context(fake_mns_server(cloud.mns, host))
        sts = servers.enter_context(fake_sts_server(cloud.sts, host))
        ram = servers.enter_context(_fake_ram_server(cloud.ram, host))
        fc = servers.enter_context(_fake_fc_server(cloud.fc, host))
        settings = {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_CREDENTIALS.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_CREDENTIALS.access_key_secret,
            "ALIBABA_CLOUD_SECURITY_TOKEN": DEFAULT_CREDENTIALS.security_token,
            "ossEndpointOverride": oss.url,
            "mnsEndpointOverride": mns.url,
            "FAKE_STS": _host_port(sts.url),
            "FAKE_CONFIG": _host_port(config.url),
            "FAKE_FC": _host_port(fc.url),
            "FAKE_RAM": _host_port(ram.url),
        }
        for name, value in settings.items():
            print(f"export {name}={shlex.quote(value)}", file=out, flush=True)
        print(
            "fake cloud: Config, SMQ, STS, RAM and OSS on loopback; `. ` the lines above, then"
            " pass --sts-endpoint $FAKE_STS --config-endpoint $FAKE_CONFIG (and setup"
            " --ram-endpoint $FAKE_RAM, --fc-endpoint $FAKE_FC); never in production",
            file=err,
            flush=True,
        )
        stop.wait()
    print(f"fake cloud stopped: {cloud.summary()}", file=err, flush=True)
    return 0


def _host_port(url: str) -> str:
    return url.removeprefix("http://")


def _fake_ram_server(backend: RamBackend, host: str) -> FakeHttpServer:
    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return handle_ram_request(backend, method, url, body)

    def state() -> dict[str, Any]:
        return {"calls": len(backend.calls)}

    return FakeHttpServer(respond, state, host, 0)


def _fake_fc_server(backend: FcApiBackend, host: str) -> FakeHttpServer:
    def respond(
        method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, reply, text = handle_fc_read(backend, method, url, headers)
        return status, reply, text.encode()

    def state() -> dict[str, Any]:
        return {"reads": len(backend.reads)}

    return FakeHttpServer(respond, state, host, 0)


def parse_function(spec: str) -> tuple[str, str]:
    """``SERVICE/FUNCTION``, as FC 2.0 names a function; a usage error otherwise."""
    service, _, function = spec.partition("/")
    pattern = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
    if not (pattern.fullmatch(service) and pattern.fullmatch(function)):
        raise FakeOssUsageError(f"--function {spec[:80]!r} is not SERVICE/FUNCTION")
    return service, function
