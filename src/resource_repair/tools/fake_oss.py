"""``resource-repair fake-oss``: serve the fake OSS over HTTP until interrupted."""

from __future__ import annotations

import ipaddress
import json
import signal
import threading
from collections.abc import Sequence
from typing import TextIO

from resource_repair.errors import InvalidEventError, ResourceRepairError
from resource_repair.settings import ENDPOINT_OVERRIDE, ENDPOINT_OVERRIDE_ALLOW_PRIVATE
from resource_repair.testing.identities import DEFAULT_CREDENTIALS
from resource_repair.testing.oss import OssBackend
from resource_repair.testing.oss.models import ACLS
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.validation import check_bucket_name, check_region_id


class FakeOssUsageError(ResourceRepairError):
    """A bucket description or address the server cannot use (exit code 2)."""


def parse_bucket(spec: str) -> tuple[str, str, str]:
    """``name[:region[:acl]]``, region defaulting to ap-southeast-1 and ACL to public-read."""
    name, _, rest = spec.partition(":")
    region, _, acl = rest.partition(":")
    acl = acl or "public-read"
    region = region or "ap-southeast-1"
    if acl not in ACLS:
        raise FakeOssUsageError(
            f"--bucket {spec!r} is not NAME[:REGION[:ACL]]"
            f" with ACL one of {', '.join(sorted(ACLS))}"
        )
    try:  # held to OSS's own rules: the fake must not accept what OSS would refuse
        check_bucket_name(name)
        check_region_id(region)
    except InvalidEventError as exc:
        raise FakeOssUsageError(f"--bucket {spec!r}: {exc}") from None
    return name, region, acl


def parse_buckets(specs: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every ``--bucket``, each name once: a repeated name would silently replace the
    first, and the run would not have the bucket the user described."""
    parsed = [parse_bucket(spec) for spec in specs]
    seen: set[str] = set()
    for name, _, _ in parsed:
        if name in seen:
            raise FakeOssUsageError(f"--bucket {name} is given twice; each bucket once")
        seen.add(name)
    return parsed


def override_advice(url: str, host: str) -> str:
    """The ``ossEndpointOverride`` to give ``invoke`` for a server at ``url``, as the
    function's settings accept it: loopback, or a private address with
    ossEndpointOverrideAllowPrivate=true; a public address never (signed requests in clear)."""
    port = url.rsplit(":", 1)[1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"set {ENDPOINT_OVERRIDE}=http://127.0.0.1:{port} (never in production)"
    if address.is_unspecified or address.is_loopback:
        # Every address of this machine, loopback included: loopback is the one the
        # function's settings accept without more.
        return f"set {ENDPOINT_OVERRIDE}=http://127.0.0.1:{port} (never in production)"
    if address.is_private and address.version == 4:
        return (
            f"set {ENDPOINT_OVERRIDE}={url} and {ENDPOINT_OVERRIDE_ALLOW_PRIVATE}=true"
            " (a fake on the Docker host; never in production)"
        )
    return (
        f"{ENDPOINT_OVERRIDE} cannot name {host} (signed requests would cross the network in"
        f" clear); from this machine set {ENDPOINT_OVERRIDE}=http://127.0.0.1:{port}"
    )


def serve(
    host: str,
    port: int,
    buckets: Sequence[str],
    public_buckets: int,
    latency_ms: float,
    trust_any_key: bool,
    out: TextIO,
    err: TextIO,
    stop: threading.Event | None = None,
    *,
    qps_limit: int | None = None,
) -> int:
    specs = parse_buckets(buckets)  # every mistake before the port is bound
    backend = OssBackend(qps_limit=qps_limit)
    backend.latency = latency_ms / 1000
    backend.verify_signatures = not trust_any_key
    for name, region, acl in specs:
        backend.create_bucket(name, region, acl)
    for index in range(public_buckets):
        backend.create_bucket(f"bench-{index:06d}", "ap-southeast-1", "public-read")
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():  # signals reach only that one
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    with fake_oss_server(backend, host, port) as server:
        # Said once the address is bound: a host that does not resolve fails before.
        if not _is_loopback(host):
            print(f"warning: serving on {host}, reachable from other machines", file=err)
        print(server.url, file=out, flush=True)
        keys = (
            "any key is accepted"
            if trust_any_key
            else "only the built-in test key is accepted (key id"
            f" {DEFAULT_CREDENTIALS.access_key_id}, which `invoke` signs with;"
            " --trust-any-key for your own)"
        )
        print(
            f"fake OSS on {server.url}: {override_advice(server.url, host)}; {keys}",
            file=err,
            flush=True,
        )
        stop.wait()
        seen = {"connections": server.connections, **server.state()}
        print(
            f"fake OSS stopped: {json.dumps(seen)}",
            file=err,
        )
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
