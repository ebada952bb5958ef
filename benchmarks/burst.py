"""A burst of deliveries through one warm handler against the fake OSS over loopback, and the
sample's port through the same fake in the same run.

Each delivery names a different public bucket, so each costs ours the full read / write /
read back: three OSS requests. The figures are shown against that floor (3 requests x the
injected latency, and its inverse for throughput). The sample does less (one write, no read)
and so is not the same work: it is shown against its own floor (1 request x latency), with
the connections it opens, and the CPU each OSS request costs both.

    python benchmarks/burst.py [--deliveries 5000] [--sample-deliveries 500] [--latency-ms 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from _common import (
    fake_oss_server,
    loopback_only,
    percentile,
    ratio,
    rss_mib,
    run_header,
    sample_module,
    server_state,
    stream_delivery,
)
from resource_repair.testing import fc_context, fc_environment

OURS_REQUESTS, SAMPLE_REQUESTS = 3, 1


def bucket(index: int) -> str:
    return f"bench-{index:06d}"  # the names ``fake-oss --public-buckets`` creates


def run(
    handler: Callable[[bytes, Any], object],
    buckets: Iterable[int],
    context: Any,
    done: Callable[[object], bool],
) -> tuple[list[float], float, float, int]:
    """Sorted latencies, wall and CPU seconds, and how many deliveries did not end in ``done``."""
    latencies, failures = [], 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for index in buckets:
        event = stream_delivery(bucket(index))  # made one at a time, so memory stays ours
        begun = time.perf_counter()
        result = handler(event, context)
        latencies.append(time.perf_counter() - begun)
        failures += not done(result)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return sorted(latencies), elapsed, cpu, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=5_000, help="through our handler")
    parser.add_argument(
        "--sample-deliveries", type=int, default=500, help="through the sample's port"
    )
    parser.add_argument("--latency-ms", type=float, default=1.0, help="injected per request")
    args = parser.parse_args()
    n, m, latency = args.deliveries, args.sample_deliveries, args.latency_ms / 1000
    print(
        run_header(
            f"burst: {n:,} deliveries through one warm instance, sequential;"
            f" {args.latency_ms:g} ms injected per OSS request"
        )
    )
    with (
        fake_oss_server(
            "--public-buckets", str(n + m + 1), "--latency-ms", str(args.latency_ms)
        ) as url,
        loopback_only() as refused,
    ):
        os.environ.update(
            prepareRuleName="test-oss-bucket-public-read-prohibited",
            ossEndpointOverride=url,
        )
        os.environ.update(fc_environment())  # the fake's registered role keys
        import index

        def remediated(result: object) -> bool:
            return json.loads(str(result))["outcome"] == "remediated"

        # Warm: the first delivery pays for imports and the first connection.
        context = fc_context("python3.12")
        assert remediated(index.handler(stream_delivery(bucket(0)), context))
        rss_start = rss_mib()
        ours = run(index.handler, range(1, n), context, remediated)
        rss_end = rss_mib()
        after_ours = server_state(url)

        sample = sample_module()
        sample_context = fc_context("python3.10")  # the sample reads context.credentials
        assert sample.handler(stream_delivery(bucket(n)), sample_context) is None
        before_sample = server_state(url)
        theirs = run(sample.handler, range(n + 1, n + 1 + m), sample_context, lambda r: r is None)
        after_sample = server_state(url)

    latencies, elapsed, cpu, failures = ours
    floor = OURS_REQUESTS * latency
    print(f"  ours ({len(latencies):,} timed after one warm-up; floor = 3 requests x latency)")
    print(
        f"    throughput      {len(latencies) / elapsed:8.1f} /s on this machine"
        f" = {ratio(len(latencies) / elapsed, 1 / floor)} of the floor's {1 / floor:.0f} /s"
    )
    for label, fraction in (("p50", 0.50), ("p99", 0.99)):
        value = percentile(latencies, fraction)
        print(
            f"    latency {label}     {value * 1000:8.2f} ms on this machine"
            f" = {ratio(value, floor)} the floor ({floor * 1000:g} ms)"
        )
    print(
        f"    TCP connections {int(after_ours['connections']) - 1:8d}"
        f"      opened by the function in all (the reading's own one taken away)"
    )
    print(f"    OSS requests    {after_ours['requests']!s:>8}      {after_ours['operations']}")
    print(f"    RSS start / end {rss_start:8.1f} / {rss_end:.1f} MiB")
    print(f"    not remediated  {failures:8d}")

    s_latencies, s_elapsed, s_cpu, s_failures = theirs
    s_floor = SAMPLE_REQUESTS * latency
    # Each server_state() reading is one connection of its own: take the second one away.
    opened = int(after_sample["connections"]) - int(before_sample["connections"]) - 1
    print(f"  the sample ({len(s_latencies):,} timed; its floor = 1 request x latency)")
    for label, fraction in (("p50", 0.50), ("p99", 0.99)):
        value = percentile(s_latencies, fraction)
        print(
            f"    latency {label}     {value * 1000:8.2f} ms on this machine"
            f" = {ratio(value, s_floor)} its floor ({s_floor * 1000:g} ms)"
        )
    print(
        f"    TCP connections {opened:8d}      for {len(s_latencies):,} deliveries"
        f" ({opened / len(s_latencies):.2f} per delivery)"
    )
    print(f"    failed          {s_failures:8d}")
    ours_per_request = cpu / len(latencies) / OURS_REQUESTS
    sample_per_request = s_cpu / len(s_latencies) / SAMPLE_REQUESTS
    print(
        f"  CPU per OSS request: ours {ours_per_request * 1000:.2f} ms, the sample"
        f" {sample_per_request * 1000:.2f} ms on this machine"
        f" = {ratio(ours_per_request, sample_per_request)} the sample's"
    )
    print(
        f"  CPU per delivery: ours {cpu / len(latencies) * 1000:.2f} ms,"
        f" the sample {s_cpu / len(s_latencies) * 1000:.2f} ms (not the same work)"
    )
    if refused:
        print(f"  refused non-loopback connections: {len(refused)} ({sorted(set(refused))[:5]})")
    print(f"  wall: ours {elapsed:.1f} s, the sample {s_elapsed:.1f} s")


if __name__ == "__main__":
    main()
