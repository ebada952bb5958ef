"""A setup plan: one line per thing to create, change or remove, and per thing found in
place; each change carries the call that makes it. The plan is built by reads only."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from resource_repair.rpc import CONNECT_TIMEOUT
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.doctor.transports import (
    CONFIG_VERSION,
    RAM_DOMAIN,
    RAM_VERSION,
    RpcClient,
)
from resource_repair.tools.setup.marks import Record, record_path
from resource_repair.tools.setup.request import SetupRequest
from resource_repair.tools.smq import Smq

# What a line says. CHANGE lines carry an action; FAIL lines stop --apply before it starts.
CREATE, REMOVE, FOUND, WARN, NOTE, FAIL = "create", "remove", "found", "warn", "note", "FAIL"
CHANGES = (CREATE, REMOVE)


@dataclasses.dataclass(frozen=True)
class Step:
    kind: str
    thing: str
    text: str
    action: Callable[[], str | None] | None = None
    """The call that makes the change, for CREATE and REMOVE; it may return what happened
    instead, when that is not what the line planned."""
    fix: str = ""

    def line(self) -> str:
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{self.kind:<6} {self.thing:<9} {self.text}{tail}"


class Setup:
    """The request, the account and the clients every part of the plan reads through."""

    def __init__(self, request: SetupRequest, account: str) -> None:
        from resource_repair.config_api import SITES
        from resource_repair.smq import mns_endpoint

        self.request = request
        self.account = account
        self.region = request.region
        self.aggregator_id = request.aggregator_id
        credentials = request.credentials
        self.config = RpcClient(
            credentials,
            request.config_endpoint or f"config.{SITES[request.site]}.aliyuncs.com",
            CONFIG_VERSION,
            SITES[request.site],
            plain_http=request.config_endpoint is not None,
        )
        self.ram = RpcClient(
            credentials,
            request.ram_endpoint or RAM_DOMAIN,
            RAM_VERSION,
            "cn-hangzhou",  # RAM is global
            plain_http=request.ram_endpoint is not None,
        )
        self.smq = Smq(request.mns_endpoint or mns_endpoint(account, self.region), credentials)
        self.record = Record(record_path(request.template_path), account, self.region)

    def trigger_subscriptions(self) -> list[str] | None:
        """Subscriptions to the delivery topic that setup did not make: the function's
        trigger is one (FC subscribes the function to the topic) while it is deployed.
        Empty when the topic does not exist; None when SMQ could not say."""
        topic = self.request.topic
        try:
            present = self.smq.subscriptions(topic)
        except CheckError as exc:
            return [] if exc.code == "TopicNotExist" else None
        ours = set(self.record.subscriptions(topic))
        return [name for name in present if name not in ours]

    def config_call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """A Config call, its ``Aggregate`` form (AggregatorId added) for an account group."""
        if self.aggregator_id:
            return self.config.call(
                action.replace("Config", "AggregateConfig", 1),
                {**params, "AggregatorId": self.aggregator_id},
            )
        return self.config.call(action, params)

    def topic_arn(self, topic: str) -> str:
        return f"acs:mns:{self.region}:{self.account}:/topics/{topic}"

    def counting_client(self) -> Any:
        """The Config client the sweep uses, for counting what Config already reports."""
        from resource_repair.config_api import ConfigClient
        from resource_repair.retry import Deadline, RetryPolicy

        return ConfigClient(
            self.request.credentials,
            self.request.site,
            endpoint=self.request.config_endpoint,
            policy=RetryPolicy(max_attempts=2, request_timeout=float(CONNECT_TIMEOUT + 10)),
            deadline=Deadline(60),
        )


def failure_step(thing: str, exc: CheckError, fix: str) -> Step:
    return Step(FAIL, thing, str(exc), fix=fix)
