"""Serve a fake OSS and a fake Config API holding N public, non-compliant buckets.

Prints one JSON line (the two URLs and the rule id), then serves until terminated. Run in
its own process so that the backfill being measured does not share it memory or its GIL.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from resource_repair.testing.config import ConfigBackend
from resource_repair.testing.config.server import fake_config_server
from resource_repair.testing.oss import OssBackend
from resource_repair.testing.oss.server import fake_oss_server


def main() -> None:
    buckets, latency_ms = int(sys.argv[1]), float(sys.argv[2])
    oss, config = OssBackend(), ConfigBackend()
    oss.latency = config.latency = latency_ms / 1000
    rule = config.add_rule("test-oss-bucket-public-read-prohibited")
    names = [f"bench-{index:06d}" for index in range(buckets)]
    for name in names:
        oss.create_bucket(name, "ap-southeast-1", "public-read")
    config.add_results(rule, names)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake_oss_server(oss) as oss_server, fake_config_server(config) as config_server:
        print(
            json.dumps(
                {"oss": oss_server.url, "config": config_server.url, "rule_id": rule.rule_id}
            ),
            flush=True,
        )
        stop.wait()


if __name__ == "__main__":
    main()
