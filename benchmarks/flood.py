"""A flood of deliveries through K function instances against an OSS that throttles, then
the sweep.

N deliveries, each naming a different public bucket, wait in a queue as FC's asynchronous
invocations do. K threads, each one FC instance with its own FC-shaped context, take them in
turn and call ``index.handler``. The fake OSS runs in its own process over loopback and
admits at most Q requests per second, answering 503 MetaOperationQpsLimitExceeded beyond
(``OssBackend.qps_limit``). When the handler raises, the delivery is retried as FC retries
it: up to ``maxAsyncRetryAttempts`` times (read from template.yml), after FC's backoff, behind
the deliveries already waiting; a delivery that still raises is given up, which in
production sends it to the failure destination. Then the timer's function runs:
``index.sweep`` lists the rule's NON_COMPLIANT results from the fake Config API (one per
delivered bucket, as if Config had not re-evaluated yet) and makes private whatever is
still public. If one run leaves a bucket public, the next ticks run, up to ``--sweeps``.

Printed: deliveries remediated on the first delivery, after FC's retries, and given up; the
public buckets left after the sweep (must be 0); and the total time against the floor of
3N/Q seconds, the time OSS needs to admit three requests per bucket at Q per second.
Notifications to the template's topics go to a fake MNS on loopback and are counted; any
other connection that is not to loopback is refused.

    python benchmarks/flood.py [--deliveries 5000] [--instances K] [--qps 100]
                               [--latency-ms 20] [--retry-scale 1] [--sweeps 3]
                               [--env NAME=VALUE] [--quick]

K defaults to the event function's on-demand instance cap in template.yml (the post-deploy
``fc ondemand put --max``).
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import dataclasses
import heapq
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, os.path.dirname(__file__))

from _common import EVENTS, ROOT, fake_clouds, loopback_only, machine, now_utc, server_state
from resource_repair.testing import fc_context, fc_environment
from resource_repair.testing.config import mock_config_api
from resource_repair.testing.context import Context310, ContextFunction
from resource_repair.tools.template import resolve_variables

# The rule of the recorded event and of the template's default ``ruleName``.
RULE_ID = "cr-610ad6e0007300a80001"
RULE_NAME = "test-oss-bucket-public-read-prohibited"
REGION = "ap-southeast-1"
PUBLIC = ("public-read", "public-read-write")

# FC documents one backoff for its asynchronous retries: the first 0.5 s after the failure,
# then intervals doubling (1 s, 2 s, 4 s, ...). It does not document a different schedule
# for function errors (what the handler raises), so this one is assumed for them too.
FC_FIRST_RETRY_SECONDS = 0.5
SWEEP_DEFAULT_TIMEOUT = 600
# Instances when the template sets no cap: FC's own limit per account and region is far
# higher (100 or more), so this is a modest uncapped flood.
UNCAPPED_INSTANCES = 32
_CAP = re.compile(r"ondemand put\b[^\"]*--max\s+(\d+)")


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What the template says about the two functions, variables resolved."""

    max_retries: int
    event_timeout: int
    instance_cap: int | None
    """The event function's on-demand instance cap, if the template sets one."""
    sweep_timeout: int
    environment: dict[str, str]
    sweep_environment: dict[str, str]
    sweep_in_template: bool


def read_template(path: Path) -> Deployment:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    variables = document.get("vars") or {}
    functions: dict[str, dict[str, Any]] = {}
    caps: dict[str, int] = {}
    for service in (document.get("services") or {}).values():
        if isinstance(service, dict) and service.get("component") == "fc":
            entry = resolve_variables(service, variables)
            function = (entry.get("props") or {}).get("function") or {}
            handler = str(function.get("handler"))
            functions[handler] = function
            # The cap is set by a post-deploy `fc ondemand put ... --max N`.
            found = _CAP.search(json.dumps(entry.get("actions") or {}))
            if found:
                caps[handler] = int(found[1])
    event = functions["index.handler"]
    sweep = functions.get("index.sweep") or {}
    return Deployment(
        # FC's default when asyncConfiguration leaves it out is 3.
        max_retries=int((event.get("asyncConfiguration") or {}).get("maxAsyncRetryAttempts", 3)),
        event_timeout=int(event.get("timeout", 60)),
        instance_cap=caps.get("index.handler"),
        # The sweep's own default when the template does not set it.
        sweep_timeout=int(sweep.get("timeout", SWEEP_DEFAULT_TIMEOUT)),
        environment={str(k): str(v) for k, v in (event.get("environmentVariables") or {}).items()},
        sweep_environment={
            str(k): str(v) for k, v in (sweep.get("environmentVariables") or {}).items()
        },
        sweep_in_template=bool(sweep),
    )


@dataclasses.dataclass
class Delivery:
    bucket: str
    body: bytes
    request_id: str
    retries: int = 0
    """FC's retries so far; 0 on the first delivery."""


def deliveries(count: int) -> list[Delivery]:
    """STREAM deliveries for bench-000000..., stamped now: the evaluation comes after the
    buckets were created, as it would in real life."""
    template = json.loads((EVENTS / "noncompliance-oss-plain.json").read_text())
    identifier = template["evaluationResultIdentifier"]
    qualifier = identifier["evaluationResultQualifier"]
    now_ms = int(time.time() * 1000)
    identifier["orderingTimestamp"] = template["configRuleInvokedTimestamp"] = now_ms
    template["resultRecordedTimestamp"] = template["notificationCreationTime"] = now_ms
    made = []
    for index in range(count):
        name = f"bench-{index:06d}"
        qualifier["resourceId"] = qualifier["resourceName"] = name
        body = base64.b64encode(json.dumps(template).encode())
        made.append(Delivery(name, body, str(uuid.uuid4())))
    return made


class AsyncQueue:
    """FC's asynchronous invocation queue, as far as this benchmark needs it: deliveries
    come out in the order they became deliverable, a retry only after its backoff."""

    def __init__(self, pending: Iterable[Delivery]) -> None:
        self._order = itertools.count()
        start = time.monotonic()
        self._heap = [(start, next(self._order), delivery) for delivery in pending]
        heapq.heapify(self._heap)
        self._busy = 0
        self._changed = threading.Condition()

    def take(self) -> Delivery | None:
        """The next deliverable delivery, waiting for one; None once nothing is left."""
        with self._changed:
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    self._busy += 1
                    return heapq.heappop(self._heap)[2]
                if not self._heap and not self._busy:
                    return None
                self._changed.wait(self._heap[0][0] - now if self._heap else None)

    def finished(self, delivery: Delivery, retry_after: float | None = None) -> None:
        with self._changed:
            self._busy -= 1
            if retry_after is not None:
                entry = (time.monotonic() + retry_after, next(self._order), delivery)
                heapq.heappush(self._heap, entry)
            self._changed.notify_all()


@dataclasses.dataclass
class Tally:
    returned: collections.Counter[tuple[bool, str]] = dataclasses.field(
        default_factory=collections.Counter
    )
    """(on the first delivery?, outcome) of every delivery that returned."""
    given_up: int = 0
    invocations: int = 0
    raised: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


def instance(
    handler: Callable[[bytes, object], str],
    queue: AsyncQueue,
    tally: Tally,
    deployment: Deployment,
    retry_scale: float,
) -> None:
    """One FC instance: one invocation at a time, as FC runs them by default."""
    while (delivery := queue.take()) is not None:
        # FC keeps the request id of an asynchronous invocation across its retries.
        context = fc_context(
            "python3.10", timeout=deployment.event_timeout, request_id=delivery.request_id
        )
        try:
            outcome = json.loads(handler(delivery.body, context))["outcome"]
        except Exception as exc:  # FC retries whatever the function raises
            with tally.lock:
                tally.invocations += 1
                tally.raised[type(exc).__name__] += 1
                if delivery.retries >= deployment.max_retries:
                    tally.given_up += 1
                    queue.finished(delivery)
                    continue
            backoff = FC_FIRST_RETRY_SECONDS * 2**delivery.retries * retry_scale
            delivery.retries += 1
            queue.finished(delivery, backoff)
            continue
        with tally.lock:
            tally.invocations += 1
            tally.returned[(delivery.retries == 0, outcome)] += 1
        queue.finished(delivery)


def public_buckets(state: dict[str, Any]) -> int:
    return sum(int(state["acls"].get(acl, 0)) for acl in PUBLIC)


def flood(args: argparse.Namespace, deployment: Deployment, pending: list[Delivery]) -> Tally:
    """Every delivery through K instances until each returned or FC gave it up."""
    import index

    queue, tally = AsyncQueue(pending), Tally()
    threads = [
        threading.Thread(
            target=instance,
            args=(index.handler, queue, tally, deployment, args.retry_scale),
            name=f"fc-instance-{number}",
        )
        for number in range(args.instances)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def sweep_context(deployment: Deployment) -> Context310:
    base = fc_context("python3.10", timeout=deployment.sweep_timeout)
    assert isinstance(base, Context310)
    function = ContextFunction(
        name="oss_repair_acl_sweep", handler="index.sweep", timeout=deployment.sweep_timeout
    )
    return dataclasses.replace(base, function=function)


@contextlib.contextmanager
def notification_topics(environment: dict[str, str]) -> Iterator[Callable[[], dict[str, int]]]:
    """A fake MNS on loopback for the topics the template names (if any), so that
    notifications are counted instead of refused; yields a reading of messages per topic."""
    topics = [environment.get(name, "").strip() for name in ("failureTopic", "remediationTopic")]
    topics = [topic for topic in topics if topic]
    if not topics:
        yield dict
        return
    from resource_repair.testing.mns import MnsBackend, fake_mns_server

    backend = MnsBackend()
    for topic in topics:
        backend.create_topic(topic)
    with fake_mns_server(backend) as server:
        os.environ.update(mnsEndpointOverride=server.url)
        try:
            yield lambda: {topic: len(backend.messages(topic)) for topic in topics}
        finally:
            backend.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument(
        "--instances",
        type=int,
        help=f"K concurrent FC instances (default: the template's cap, else {UNCAPPED_INSTANCES})",
    )
    parser.add_argument("--qps", type=int, default=100, help="Q: OSS requests admitted per second")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per OSS request")
    parser.add_argument(
        "--retry-scale", type=float, default=1.0, help="multiplies FC's retry intervals"
    )
    parser.add_argument(
        "--sweeps", type=int, default=3, help="timer runs at most, until nothing is public"
    )
    parser.add_argument("--quick", action="store_true", help="300 deliveries at 50 requests/s")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yml")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of both functions other than the template's (repeatable)",
    )
    args = parser.parse_args()
    if min(args.deliveries, args.qps, args.instances or 1, args.sweeps) < 1:
        parser.error("--deliveries, --qps, --instances and --sweeps must be at least 1")
    if any("=" not in item for item in args.env):
        parser.error("--env takes NAME=VALUE")
    deployment = read_template(args.template)
    overrides = dict(item.partition("=")[::2] for item in args.env)
    deployment.environment.update(overrides)
    deployment.sweep_environment.update(overrides)
    if args.quick:
        args.deliveries, args.qps = 300, 50
    if args.instances:
        args.instances_source = "--instances"
    elif deployment.instance_cap:
        args.instances, args.instances_source = deployment.instance_cap, "the template's cap"
    else:
        args.instances, args.instances_source = UNCAPPED_INSTANCES, "no cap in the template"
    pending = deliveries(args.deliveries)
    names = [delivery.bucket for delivery in pending]
    n, floor = args.deliveries, 3 * args.deliveries / args.qps
    # Quiet: thousands of audit lines and retry warnings would drown the figures.
    logging.basicConfig(level=logging.ERROR)

    with (
        loopback_only() as refused,
        fake_clouds(args.deliveries, args.latency_ms, args.qps) as fakes,
        notification_topics({**deployment.environment, **deployment.sweep_environment}) as sent,
    ):
        oss = fakes["oss"]
        os.environ.update(deployment.environment)
        os.environ.update(fc_environment(), ossEndpointOverride=oss)
        # Each FC instance has its own connection pool; these threads share one, so it
        # must hold a connection per instance (oss2's default is 10).
        import oss2

        oss2.defaults.connection_pool_size = max(oss2.defaults.connection_pool_size, args.instances)
        started = time.perf_counter()
        tally = flood(args, deployment, pending)
        elapsed = time.perf_counter() - started
        state = server_state(oss)
        print_flood(args, deployment, tally, elapsed, state, sent())

        import index

        sweep = getattr(index, "sweep", None)
        where = "template.yml" if deployment.sweep_in_template else "not in template.yml yet"
        print(f"sweep: index.sweep, timeout {deployment.sweep_timeout} s ({where})")
        if sweep is None:
            sys.exit("  index.sweep does not exist yet")
        os.environ.update(deployment.sweep_environment)
        # The worst case for the sweep: Config has not re-evaluated any bucket yet.
        with mock_config_api() as config:
            rule = config.add_rule(RULE_NAME, rule_id=RULE_ID)
            config.add_results(rule, names, region=REGION)
            for run in range(1, args.sweeps + 1):
                # FC 2.0's timer trigger event.
                timer = json.dumps({"triggerTime": now_utc(), "triggerName": "sweep"}).encode()
                began = time.perf_counter()
                answer = sweep(timer, sweep_context(deployment))
                took = time.perf_counter() - began
                elapsed += took
                before, state = state, server_state(oss)
                summary = json.loads(answer) if isinstance(answer, (str, bytes)) else answer
                print_sweep(run, summary, took, before, state, config.operations())
                if run == 1:
                    after_one, first_total = public_buckets(state), elapsed
                if not public_buckets(state):
                    break
        notes = sent()
    if notes:
        print(f"notifications       {json.dumps(notes)} (fake MNS)")
    if refused:
        print(f"refused non-loopback connections: {len(refused):,} ({sorted(set(refused))[:5]})")
    left = public_buckets(state)
    print(f"public buckets left {after_one:,} after one sweep (must be 0), {left:,} after {run}")
    print(f"floor 3N/Q          {floor:,.1f} s (N={n:,}, Q={args.qps})")
    print(f"flood + one sweep   {first_total:,.1f} s = {first_total / floor:.2f} x the floor")
    print(f"flood + {run} sweep(s) {elapsed:,.1f} s = {elapsed / floor:.2f} x the floor")
    if left:
        sys.exit(1)


def print_flood(
    args: argparse.Namespace,
    deployment: Deployment,
    tally: Tally,
    seconds: float,
    state: dict[str, Any],
    notes: dict[str, int],
) -> None:
    n, floor = args.deliveries, 3 * args.deliveries / args.qps
    intervals = ", ".join(
        f"{FC_FIRST_RETRY_SECONDS * 2**i * args.retry_scale:g} s"
        for i in range(deployment.max_retries)
    )
    first = {o: c for (on_first, o), c in tally.returned.items() if on_first}
    later = {o: c for (on_first, o), c in tally.returned.items() if not on_first}
    print(
        f"flood: {n:,} deliveries, {args.instances} instances ({args.instances_source}),"
        f" OSS admits {args.qps} requests/s,"
        f" {args.latency_ms:g} ms per request ({now_utc()}; {machine()})"
    )
    if args.env:
        print(f"  settings beyond the template: {', '.join(args.env)}")
    print(
        f"  FC retries          up to {deployment.max_retries} (maxAsyncRetryAttempts), after"
        f" {intervals} (FC's documented backoff x {args.retry_scale:g})"
    )
    rows = [
        ("remediated on the first delivery", first.pop("remediated", 0), ""),
        ("remediated after FC retries", later.pop("remediated", 0), ""),
        (
            "private on an FC retry",
            later.pop("already_private", 0),
            "an earlier attempt's write stuck; its read-back was throttled",
        ),
        ("given up (to the failure destination)", tally.given_up, ""),
    ]
    rows += [(f"{o} on the first delivery", c, "") for o, c in sorted(first.items())]
    rows += [(f"{o} after FC retries", c, "") for o, c in sorted(later.items())]
    for label, count, note in rows:
        print(f"  {label:<40}{count:>7,}{'   (' + note + ')' if note else ''}")
    raised = ", ".join(f"{name} {count:,}" for name, count in sorted(tally.raised.items()))
    print(
        f"  invocations         {tally.invocations:,} ({tally.invocations / n:.2f} per delivery;"
        f" raised: {raised or 'none'})"
    )
    throttled = int(state["throttled"])
    print(
        f"  OSS requests        {int(state['requests']) - throttled:,} admitted,"
        f" {throttled:,} refused (503 MetaOperationQpsLimitExceeded)"
    )
    if notes:
        print(f"  notifications       {json.dumps(notes)} (fake MNS)")
    print(f"  public after it     {public_buckets(state):,}")
    print(f"  time                {seconds:,.1f} s = {seconds / floor:.2f} x 3N/Q = {floor:,.1f} s")
    sys.stdout.flush()


def print_sweep(
    run: int,
    summary: dict[str, Any],
    seconds: float,
    before: dict[str, Any],
    after: dict[str, Any],
    config_calls: list[str],
) -> None:
    throttled = int(after["throttled"]) - int(before["throttled"])
    requests = int(after["requests"]) - int(before["requests"])
    listing = ", ".join(f"{a} {c}" for a, c in sorted(collections.Counter(config_calls).items()))
    print(
        f"  run {run}: {summary.get('status')}, complete={summary.get('complete')},"
        f" {json.dumps(summary.get('outcomes'), sort_keys=True)}"
    )
    print(
        f"         {seconds:,.1f} s; OSS {requests - throttled:,} admitted, {throttled:,} refused;"
        f" Config so far: {listing}; public after it: {public_buckets(after):,}"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
