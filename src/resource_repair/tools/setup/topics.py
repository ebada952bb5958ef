"""The SMQ topics setup needs (the delivery topic, failureTopic, remediationTopic) and the
subscriptions --notify-email and --notify-url ask for, on the failure topic."""

from __future__ import annotations

import functools
import hashlib
from urllib.parse import urlsplit

from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.plan import CREATE, FOUND, Setup, Step, failure_step

_FIX = "check the key's SMQ permissions (docs/deploying.md, setup's permissions) and run again."


def plan_topics(setup: Setup) -> list[Step]:
    steps: list[Step] = []
    request = setup.request
    missing: set[str] = set()
    for topic in request.topics():
        try:
            exists = setup.smq.topic_exists(topic)
        except CheckError as exc:
            steps.append(failure_step("topic", exc, _FIX))
            continue
        if exists:
            made = " (created by setup)" if topic in setup.record.topics() else ""
            steps.append(Step(FOUND, "topic", f"{topic} in {setup.region}{made}"))
        else:
            missing.add(topic)
            steps.append(
                Step(
                    CREATE,
                    "topic",
                    f"{topic} in {setup.region}",
                    action=functools.partial(_create_topic, setup, topic),
                )
            )
    failure = request.settings.notify.failure_topic
    for kind, address in (("mail", request.notify_email), ("url", request.notify_url)):
        if address is None or failure is None:
            continue
        endpoint = f"mail:directmail:{address}" if kind == "mail" else address
        name = subscription_name(kind, endpoint)
        address = address if kind == "mail" else shown_url(address)
        try:
            existing = [] if failure in missing else setup.smq.subscriptions(failure)
        except CheckError as exc:
            steps.append(failure_step("subscribe", exc, _FIX))
            continue
        if name in existing:
            steps.append(Step(FOUND, "subscribe", f"{address} to {failure} ({name})"))
            continue
        steps.append(
            Step(
                CREATE,
                "subscribe",
                f"{address} to {failure} ({name})",
                action=functools.partial(_subscribe, setup, failure, name, endpoint),
            )
        )
    return steps


def shown_url(url: str) -> str:
    """A webhook as printed: without user, password or query, where tokens live."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" + ("?..." if parts.query else "")


def subscription_name(kind: str, endpoint: str) -> str:
    """One name per endpoint: the same address twice is the same subscription."""
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:12]
    return f"resource-repair-{kind}-{digest}"


def _create_topic(setup: Setup, topic: str) -> str | None:
    try:
        setup.smq.create_topic(topic)
    except CheckError as exc:
        if exc.code != "TopicAlreadyExist":
            raise
        # Made by someone else since the plan read it, with other attributes: used as it
        # is, and not marked, so teardown leaves it.
        return f"{topic} already exists with other attributes: used as it is, not marked"
    setup.record.add_topic(topic)
    return None


def _subscribe(setup: Setup, topic: str, name: str, endpoint: str) -> str | None:
    setup.smq.subscribe(topic, name, endpoint)
    setup.record.add_subscription(topic, name)
    return None
