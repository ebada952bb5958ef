"""Backfill throughput and memory against fake OSS and Config servers with real latency.

For each concurrency level, a fresh set of fakes holds N public, non-compliant buckets and
``resource-repair backfill --apply`` makes them private in its own process. Printed: the wall
time as a ratio to the floor this benchmark names, the ideal 4 x latency x N / c (each bucket
costs 4 OSS requests: one read in the dry pass, then read, write and read back; c buckets at
once), buckets per second, and the backfill process's peak memory at two sizes, to show that
it is flat. There is no sample figure: the sample has no backfill.

    python benchmarks/backfill.py [--buckets 5000] [--sequential-buckets 300] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from _common import ROOT, fake_clouds, ratio, run_header
from resource_repair.testing import DEFAULT_ACCOUNT_ID, fc_environment

# One read in the dry pass; read, write, read back in the applying pass.
REQUESTS_PER_BUCKET = 4

RUN = """
import resource, sys
from resource_repair.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)
sys.exit(code)
"""


def backfill(buckets: int, concurrency: int, latency_ms: float) -> tuple[float, float, str]:
    """Wall seconds, peak MiB and the printed summary of one ``backfill --apply``."""
    with fake_clouds(buckets, latency_ms) as where:
        env = {**os.environ, **fc_environment()}  # the fakes' registered keys
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-c",
                RUN,
                "--log-level",
                "ERROR",
                "backfill",
                "-t",
                str(ROOT / "template.yml"),
                "--rule-id",
                where["rule_id"],
                # The fake's account: without it the caller's identity is asked of real STS.
                "--account-id",
                DEFAULT_ACCOUNT_ID,
                "--apply",
                "--max-changes",
                str(buckets),
                "--concurrency",
                str(concurrency),
                "--config-endpoint",
                where["config"].removeprefix("http://"),
                "--env",
                f"ossEndpointOverride={where['oss']}",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        elapsed = time.perf_counter() - started
    summary = " ".join(done.stdout.split()[2:])
    if done.returncode != 0:
        raise SystemExit(f"backfill failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, float(done.stderr.strip().splitlines()[-1]), summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buckets", type=int, default=5_000, help="for the concurrent runs")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="injected per request")
    parser.add_argument(
        "--sequential-buckets", type=int, default=300, help="the slow runs use fewer"
    )
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    print(
        run_header(
            f"backfill --apply: {args.latency_ms:g} ms injected per OSS and Config request,"
            f" {REQUESTS_PER_BUCKET} OSS requests per bucket; fakes in their own process"
        )
    )
    print(
        f"  {'buckets':>7} {'concurrency':>11} {'ideal s':>8} {'wall s':>8} {'wall/ideal':>10}"
        f" {'buckets/s':>10} {'peak MiB':>9}  outcomes"
    )
    runs = [
        (args.sequential_buckets, 1),
        (args.sequential_buckets, 4),
        (args.buckets, 16),
        (args.buckets, 64),
        (args.buckets // 5, 64),
    ]
    for buckets, concurrency in runs:
        elapsed, peak, summary = backfill(buckets, concurrency, args.latency_ms)
        ideal = REQUESTS_PER_BUCKET * latency * buckets / concurrency
        print(
            f"  {buckets:>7} {concurrency:>11} {ideal:>8.1f} {elapsed:>8.1f}"
            f" {ratio(elapsed, ideal):>10} {buckets / elapsed:>10.1f} {peak:>9.1f}  {summary}",
            flush=True,
        )
    print("  (seconds, buckets/s and MiB are this machine's; wall/ideal is the figure to compare)")


if __name__ == "__main__":
    main()
