"""Cold start: a fresh interpreter imports the handler and serves one delivery.

For an ignored message (most of what a shared topic carries) and for one that remediates,
each in new processes, with peak memory. For comparison, the sample imports oss2 and
aliyunsdkcore before it looks at a message; that import time is a lower bound of its cold
start for every message, ignored or not.

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

from _common import EVENTS, ROOT, fake_oss_server, machine
from resource_repair.testing import fc_environment

PROBE = r"""
import json, resource, sys, time
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

SAMPLE_IMPORTS = """
import base64, binascii, logging, os
import oss2
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
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
    body: str, args: list[str], env: dict[str, str], runs: int, code: Path
) -> tuple[float, float]:
    seconds, peaks = [], []
    for _ in range(runs):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(
        os.environ,
        prepareRuleName="test-oss-bucket-public-read-prohibited",
        PYTHONDONTWRITEBYTECODE="1",
        **fc_environment(),  # the fake's registered keys
    )
    code = deployed_code(Path(tempfile.mkdtemp(prefix="resource-repair-cold-")))
    ignored = str(EVENTS / "change-notification-oss-stream.txt")
    remediating = str(EVENTS / "noncompliance-oss-stream.txt")
    sample_s, sample_mib = measure(SAMPLE_IMPORTS, [], env, args.runs, code)
    ignored_s, ignored_mib = measure(HANDLER, [ignored, "ignored"], env, args.runs, code)
    with fake_oss_server("--bucket", "config-snapshot:ap-southeast-1:public-read") as url:
        # Each run makes the bucket private; later runs then read an already private bucket,
        # which costs one request less. Both pay the full import.
        env["ossEndpointOverride"] = url
        remediate_s, remediate_mib = measure(HANDLER, [remediating, "remediated"], env, 1, code)
        again_s, again_mib = measure(
            HANDLER, [remediating, "already_private"], env, args.runs, code
        )
    shutil.rmtree(code.parent)

    print(
        f"cold start, median of {args.runs} fresh interpreters, deployed code compiled each time ({machine()})"
    )
    print(
        f"  sample: imports alone (lower bound)  {sample_s * 1000:7.1f} ms   peak {sample_mib:5.1f} MiB"
    )
    print(
        f"  ignored message                      {ignored_s * 1000:7.1f} ms   peak {ignored_mib:5.1f} MiB"
        f"   ({ignored_s / sample_s:.2f} of the sample's; target <= 0.33)"
    )
    print(
        f"  remediating message (one run)        {remediate_s * 1000:7.1f} ms   peak {remediate_mib:5.1f} MiB"
    )
    print(
        f"  already-private message              {again_s * 1000:7.1f} ms   peak {again_mib:5.1f} MiB"
    )


if __name__ == "__main__":
    main()
