"""CPU cost of decoding and classifying one delivery, for each delivery form, against the
sample doing the same work in the same process.

The sample's work on a delivery is base64, json.loads and a few key lookups (its port is in
``_common.SAMPLE_PORT``). On a STREAM delivery it does what ours does, so each form's cost is
shown as a ratio to the sample decoding the STREAM non-compliance delivery, and, where the
sample can read that same body, to the sample on it. The other forms the sample cannot read:
what it does with them is printed instead.

    python benchmarks/decode_cost.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(__file__))

from _common import EVENTS, ratio, run_header, sample_module
from resource_repair.delivery import decode_delivery
from resource_repair.message import classify_message

BASELINE = "noncompliance-oss-stream.txt"
CASES = {
    "STREAM (base64)": BASELINE,
    "STREAM with attributes": "noncompliance-oss-attrs.json",
    "JSON envelope": "noncompliance-oss-json-envelope.json",
    "plain JSON": "noncompliance-oss-plain.json",
    "ignored change notification": "change-notification-oss-stream.txt",
    "hostile: 50,000-deep nesting": "hostile-deeply-nested-plain.json",
}


def ours(event: bytes) -> None:
    with contextlib.suppress(ValueError):  # the hostile case is refused, by design
        classify_message(decode_delivery(event).message)


def cpu_per_call(work: Callable[[bytes], object], event: bytes, repeat: int) -> float:
    started = time.process_time()
    for _ in range(repeat):
        work(event)
    return (time.process_time() - started) / repeat


def sample_reads(target: Callable[[bytes], object], event: bytes) -> str | None:
    """None when the sample reads ``event`` as a message; else what it does with it."""
    try:
        found = target(event)
    except Exception as error:  # the sample did not guard json.loads
        return f"raises {type(error).__name__}"
    return "gives up (fail)" if found == "fail" else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20_000, help="runs per form")
    args = parser.parse_args()
    # The sample compares the message's rule name with this; the recorded events carry it.
    os.environ["prepareRuleName"] = "test-oss-bucket-public-read-prohibited"  # noqa: SIM112
    # Where the sample gives up it logs a traceback; keep it off the printout.
    logging.getLogger().addHandler(logging.NullHandler())
    target = sample_module().target

    print(run_header("decode + classify: CPU time per delivery, ours and the sample's port"))
    baseline_event = (EVENTS / BASELINE).read_bytes().strip()
    baseline = cpu_per_call(target, baseline_event, args.repeat)
    print(f"  baseline: the sample on a STREAM delivery, {baseline * 1e6:.1f} us on this machine")
    print(
        f"  {'form':30s} {'ours us':>8} {'x sample STREAM':>16} "
        f"{'sample, same body':>28} {'x sample same':>14}  bytes"
    )
    for label, name in CASES.items():
        event = (EVENTS / name).read_bytes().strip()
        repeat = args.repeat if "hostile" not in label else max(1, args.repeat // 100)
        mine = cpu_per_call(ours, event, repeat)
        refused = sample_reads(target, event)
        if refused is None:
            theirs = cpu_per_call(target, event, repeat)
            same, versus = f"{theirs * 1e6:.1f} us", ratio(mine, theirs)
        else:
            same, versus = refused, "-"
        print(
            f"  {label:30s} {mine * 1e6:8.1f} {ratio(mine, baseline):>16} "
            f"{same:>28} {versus:>14}  {len(event):,}"
        )


if __name__ == "__main__":
    main()
