"""Serve a fake OSS and a fake Config API holding N public, non-compliant buckets.

    python benchmarks/_fake_clouds.py BUCKETS LATENCY_MS [QPS_LIMIT]

Prints one JSON line (the two URLs and the rule id), then serves until terminated. Run in
its own process so that the code being measured does not share its memory or its GIL.
With QPS_LIMIT the fake OSS answers at most that many requests per second and 503
MetaOperationQpsLimitExceeded beyond (``OssBackend.qps_limit``).
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

CREATED = "2023-01-01T00:00:00.000Z"


def main() -> None:
    buckets, latency_ms = int(sys.argv[1]), float(sys.argv[2])
    qps_limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    oss, config = OssBackend(qps_limit=qps_limit), ConfigBackend()
    oss.latency = config.latency = latency_ms / 1000
    rule = config.add_rule("test-oss-bucket-public-read-prohibited")
    names = [f"bench-{index:06d}" for index in range(buckets)]
    for name in names:
        # Created well before any evaluation that reports them, as in real life.
        oss.create_bucket(name, "ap-southeast-1", "public-read", creation_date=CREATED)
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
