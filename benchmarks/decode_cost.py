"""CPU cost of decoding and classifying one delivery, for each delivery form.

python benchmarks/decode_cost.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from _common import EVENTS, machine
from resource_repair.delivery import decode_delivery
from resource_repair.message import classify_message

CASES = {
    "stream (base64)": "noncompliance-oss-stream.txt",
    "attrs": "noncompliance-oss-attrs.json",
    "json envelope": "noncompliance-oss-json-envelope.json",
    "plain": "noncompliance-oss-plain.json",
    "ignored change notification": "change-notification-oss-stream.txt",
    "hostile: 50,000-deep nesting": "hostile-deeply-nested-plain.json",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20_000)
    args = parser.parse_args()
    print(f"decode + classify, CPU time per delivery over {args.repeat} runs ({machine()})")
    for label, name in CASES.items():
        event = (EVENTS / name).read_bytes().strip()
        repeat = args.repeat if "hostile" not in label else max(1, args.repeat // 100)
        started = time.process_time()
        for _ in range(repeat):
            with contextlib.suppress(ValueError):  # the hostile case is refused, by design
                classify_message(decode_delivery(event).message)
        per = (time.process_time() - started) / repeat
        print(f"  {label:30s} {per * 1e6:9.1f} us   ({len(event):,} bytes)")


if __name__ == "__main__":
    main()
