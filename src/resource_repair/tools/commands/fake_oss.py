"""``resource-repair fake-oss``: serve the fake OSS over HTTP, for ossEndpointOverride and
the benchmarks."""

from __future__ import annotations

import argparse
import sys

from resource_repair.tools.commands.exits import UsageError
from resource_repair.tools.commands.options import count, latency, port, qps

NAME = "fake-oss"
HELP = "serve the fake OSS over HTTP (for ossEndpointOverride)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port, default=9000, help="0 picks a free port")
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:REGION[:ACL]]",
        help="a bucket to serve (region ap-southeast-1, ACL public-read unless given);"
        " repeat for more",
    )
    parser.add_argument(
        "--public-buckets",
        type=count,
        default=0,
        metavar="N",
        help="add N public buckets bench-000000... in ap-southeast-1",
    )
    parser.add_argument(
        "--latency-ms", type=latency, default=0.0, help="delay every answer this long"
    )
    parser.add_argument(
        "--trust-any-key",
        action="store_true",
        help="accept requests signed with any key: your own with `invoke --oss real`, or a"
        " benchmark's. Without it only the built-in test key is accepted, which `invoke"
        " --env ossEndpointOverride=URL` signs with and `fake-cloud` exports",
    )
    parser.add_argument(
        "--qps-limit",
        type=qps,
        default=None,
        metavar="Q",
        help="answer at most Q requests a second, 503 MetaOperationQpsLimitExceeded beyond"
        " (default: no limit)",
    )


def run(args: argparse.Namespace) -> int:
    from resource_repair.tools.fake_oss import serve

    try:
        return serve(
            args.host,
            args.port,
            args.bucket,
            args.public_buckets,
            args.latency_ms,
            args.trust_any_key,
            sys.stdout,
            sys.stderr,
            qps_limit=args.qps_limit,
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
