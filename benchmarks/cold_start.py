"""Cold start: a fresh interpreter imports the function and serves one delivery, ours and
the sample's, in the same run.

Each case runs in new processes, with the deployed code compiled from source each time (FC's
code directory is read-only), and is printed as a ratio to the sample serving the same
message: an ignored message (most of what a shared topic carries), and a remediating one
against the fake OSS over loopback. The sample is the port in ``_common.SAMPLE_PORT``,
deployed as its own ``index.py``; it imports oss2 and aliyunsdkcore before it looks at any
message.

    python benchmarks/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from _common import (
    EVENTS,
    ROOT,
    SAMPLE_PORT,
    fake_oss_server,
    ratio,
    run_header,
    stream_delivery,
)
from resource_repair.credentials import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN
from resource_repair.testing import fc_environment

PROBE = r"""
import json, os, resource, sys, time
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

HANDLER = """
import index
class Context:  # python3.12's shape, built without importing our test doubles
    request_id = "cold"; region = "ap-southeast-1"; account_id = "1698272328540001"
result = json.loads(index.handler(open(sys.argv[1], "rb").read().strip(), Context()))
assert result["outcome"] == sys.argv[2], result
"""

SAMPLE_HANDLER = f"""
import index
class Keys:  # python3.10's context.credentials, the only place the sample looks
    access_key_id = os.environ["{ACCESS_KEY_ID}"]
    access_key_secret = os.environ["{ACCESS_KEY_SECRET}"]
    security_token = os.environ["{SECURITY_TOKEN}"]
class Context:
    credentials = Keys()
result = index.handler(open(sys.argv[1], "rb").read().strip(), Context())
assert result is None, result  # the sample returns None both when it acts and when it ignores
"""


def deployed_code(into: Path) -> Path:
    """src/ as `s deploy` uploads it: without what src/.fcignore names, no __pycache__.
    FC's code directory is read-only, so every cold start compiles our modules again."""
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / "src" / ".fcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    code = into / "code"
    shutil.copytree(
        ROOT / "src",
        code,
        ignore=lambda folder, names: [
            n
            for n in names
            if any(
                fnmatch.fnmatch(str(Path(folder, n).relative_to(ROOT / "src")), p)
                or fnmatch.fnmatch(n, p)
                for p in ignored
            )
        ],
    )
    return code


def measure(
    body: str, runs: list[list[str]], env: dict[str, str], code: Path
) -> tuple[float, float]:
    """Median seconds and peak MiB of ``body`` in one fresh interpreter per entry of ``runs``
    (that run's arguments)."""
    seconds, peaks = [], []
    for args in runs:
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", PROBE.format(body=body), *args],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=code,
        )
        reading = json.loads(done.stdout.strip().splitlines()[-1])
        seconds.append(reading["seconds"])
        peaks.append(reading["peak_mib"])
    return statistics.median(seconds), max(peaks)


def sample_code(into: Path) -> Path:
    """The sample's port as FC would hold it: one ``index.py`` at the root, no bytecode."""
    code = into / "sample"
    code.mkdir()
    (code / "index.py").write_text(SAMPLE_PORT, encoding="utf-8")
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per case")
    args = parser.parse_args()
    print(run_header(f"cold start: median of {args.runs} fresh interpreters per case"))
    env = dict(
        os.environ,
        prepareRuleName="test-oss-bucket-public-read-prohibited",
        PYTHONDONTWRITEBYTECODE="1",
        **fc_environment(),  # the fake's registered keys
    )
    work = Path(tempfile.mkdtemp(prefix="resource-repair-cold-"))
    ours, sample = deployed_code(work), sample_code(work)
    ignored = [[str(EVENTS / "change-notification-oss-stream.txt")]] * args.runs
    # Each remediating run names a bucket of its own, so that every run finds it public.
    events = []
    for index in range(2 * args.runs):
        events.append(work / f"bench-{index:06d}.txt")
        events[-1].write_bytes(stream_delivery(f"bench-{index:06d}"))
    ours_runs = [[str(event), "remediated"] for event in events[: args.runs]]
    sample_runs = [[str(event)] for event in events[args.runs :]]
    # Bucket 0 again: made private by ours above, so ours reads it and stops.
    again_runs = [[str(events[0]), "already_private"]] * args.runs

    # One unmeasured run of each first, so that neither pays for a cold page cache.
    measure(SAMPLE_HANDLER, ignored[:1], env, sample)
    measure(HANDLER, [[*ignored[0], "ignored"]], env, ours)
    rows = []
    sample_ignored = measure(SAMPLE_HANDLER, ignored, env, sample)
    rows.append(
        (
            "ignored message (change notification)",
            measure(HANDLER, [[*run, "ignored"] for run in ignored], env, ours),
            sample_ignored,
            "target <= 0.33",
        )
    )
    with fake_oss_server("--public-buckets", str(2 * args.runs)) as url:
        env["ossEndpointOverride"] = url
        sample_remediating = measure(SAMPLE_HANDLER, sample_runs, env, sample)
        rows.append(
            (
                "remediating message (public bucket)",
                measure(HANDLER, ours_runs, env, ours),
                sample_remediating,
                "ours reads, writes, reads back; the sample writes",
            )
        )
        rows.append(
            (
                "already-private bucket",
                measure(HANDLER, again_runs, env, ours),
                sample_remediating,
                "ours reads only; the sample writes anyway",
            )
        )
    shutil.rmtree(work)

    print(
        f"  {'case':38s} {'ours ms':>8} {'sample ms':>10} {'ours/sample':>12} "
        f"{'ours MiB':>9} {'sample MiB':>11}  note"
    )
    for label, (mine_s, mine_mib), (theirs_s, theirs_mib), note in rows:
        print(
            f"  {label:38s} {mine_s * 1000:8.1f} {theirs_s * 1000:10.1f} "
            f"{ratio(mine_s, theirs_s):>12} {mine_mib:9.1f} {theirs_mib:11.1f}  {note}"
        )
    print("  (ms and MiB are this machine's; the ratio is the figure to compare)")


if __name__ == "__main__":
    main()
