"""A burst of deliveries through one warm handler against the fake OSS over loopback.

Prints deliveries per second, p50/p99 latency, the TCP connections the function opened,
and resident memory before and after. Each delivery names a different public bucket, so
each costs the full read / write / read back.

    python benchmarks/burst.py [--deliveries 10000] [--latency-ms 1]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Iterator

sys.path.insert(0, os.path.dirname(__file__))

from _common import EVENTS, fake_oss_server, machine, percentile, rss_mib, server_state
from resource_repair.testing import fc_environment


def deliveries(count: int) -> Iterator[bytes]:
    """STREAM deliveries for bench-000000..., made one at a time so memory stays ours."""
    template = json.loads((EVENTS / "noncompliance-oss-plain.json").read_text())
    qualifier = template["evaluationResultIdentifier"]["evaluationResultQualifier"]
    for index in range(count):
        qualifier["resourceId"] = qualifier["resourceName"] = f"bench-{index:06d}"
        yield base64.b64encode(json.dumps(template).encode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=1.0)
    args = parser.parse_args()

    with fake_oss_server(
        "--public-buckets", str(args.deliveries), "--latency-ms", str(args.latency_ms)
    ) as url:
        os.environ.update(
            prepareRuleName="test-oss-bucket-public-read-prohibited",
            ossEndpointOverride=url,
        )
        os.environ.update(fc_environment())  # the fake's registered role keys
        import index
        from resource_repair.testing import fc_context

        context = fc_context("python3.12")
        events = deliveries(args.deliveries)
        # Warm: the first delivery pays for imports and the first connection.
        assert json.loads(index.handler(next(events), context))["outcome"] == "remediated"
        rss_start = rss_mib()
        latencies = []
        failures = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        for event in events:
            begun = time.perf_counter()
            if json.loads(index.handler(event, context))["outcome"] != "remediated":
                failures += 1
            latencies.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        rss_end = rss_mib()
        state = server_state(url)

    latencies.sort()
    floor_ms = 3 * args.latency_ms
    print(
        f"burst: {len(latencies) + 1} deliveries, {args.latency_ms:g} ms injected per OSS request ({machine()})"
    )
    print(
        f"  throughput       {len(latencies) / elapsed:8.1f} deliveries/s (one warm instance, sequential)"
    )
    print(
        f"  latency p50      {percentile(latencies, 0.50) * 1000:8.2f} ms   (floor: 3 requests x latency = {floor_ms:g} ms)"
    )
    print(f"  latency p99      {percentile(latencies, 0.99) * 1000:8.2f} ms")
    print(
        f"  function CPU     {cpu / len(latencies) * 1000:8.2f} ms per delivery (the rest is waiting on OSS)"
    )
    print(
        f"  TCP connections  {int(state['connections']) - 1:8d}      (the function's; target 1, the sample opened one per delivery)"
    )
    print(f"  OSS requests     {state['requests']!s:>8}      {state['operations']}")
    print(f"  RSS start / end  {rss_start:8.1f} / {rss_end:.1f} MiB")
    print(f"  not remediated   {failures:8d}")


if __name__ == "__main__":
    main()
