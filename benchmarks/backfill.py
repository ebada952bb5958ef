"""Backfill throughput and memory against fake OSS and Config servers with real latency.

For each concurrency level, a fresh set of fakes holds N public, non-compliant buckets and
``resource-repair backfill --apply`` makes them private in its own process. Printed: buckets
per second, the wall time against the ideal (requests per bucket x latency x buckets /
concurrency), and the backfill process's peak memory, at two sizes to show it is flat.

    python benchmarks/backfill.py [--buckets 10000] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from _common import ROOT, machine
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
    fakes = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            str(ROOT / "benchmarks" / "_fake_clouds.py"),
            str(buckets),
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fakes.stdout is not None
        where = json.loads(fakes.stdout.readline())
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
    finally:
        fakes.terminate()
        fakes.wait(timeout=30)
    summary = " ".join(done.stdout.split()[2:])
    if done.returncode != 0:
        raise SystemExit(f"backfill failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, float(done.stderr.strip().splitlines()[-1]), summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buckets", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument(
        "--sequential-buckets", type=int, default=500, help="the slow runs use fewer"
    )
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    print(
        f"backfill --apply, {args.latency_ms:g} ms per request injected, {REQUESTS_PER_BUCKET} OSS requests per bucket ({machine()})"
    )
    print(
        f"  {'buckets':>7} {'concurrency':>11} {'buckets/s':>10} {'wall s':>8} {'ideal s':>8} {'peak MiB':>9}  outcomes"
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
            f"  {buckets:>7} {concurrency:>11} {buckets / elapsed:>10.1f} {elapsed:>8.1f} {ideal:>8.1f} {peak:>9.1f}  {summary}"
        )


if __name__ == "__main__":
    main()
