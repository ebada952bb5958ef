"""Config's delivery to the topic: setup's own SMQ channel (non-compliance on, change
notifications off, buckets only). A channel setup did not create is never changed; one of
someone else's that already delivers to the topic is reported (a duplicate message is
harmless to the function, which reads the ACL before it writes)."""

from __future__ import annotations

import json
from typing import Any

from resource_repair.tools.doctor.answers import as_list
from resource_repair.tools.doctor.delivery import BUCKET_TYPE, same_topic_arn
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.marks import CHANNEL_NAME, DESCRIPTION, channel_is_marked
from resource_repair.tools.setup.plan import CREATE, FAIL, FOUND, NOTE, Setup, Step

# CreateConfigDeliveryChannel's documentation: at most 5 channels per account.
MAX_CHANNELS = 5
CONDITION = json.dumps(
    [{"filterType": "ResourceType", "values": [BUCKET_TYPE], "multiple": True}],
    separators=(",", ":"),
)


def channels(setup: Setup) -> list[dict[str, Any]]:
    answer = setup.config_call("ListConfigDeliveryChannels", {})
    return [c for c in as_list(answer.get("DeliveryChannels")) if isinstance(c, dict)]


def plan_delivery(setup: Setup) -> list[Step]:
    topic = setup.request.topic
    arn = setup.topic_arn(topic)
    try:
        existing = channels(setup)
    except CheckError as exc:
        return [
            Step(
                FAIL,
                "delivery",
                str(exc),
                fix="give the caller config:ListConfigDeliveryChannels and run again.",
            )
        ]
    ours = [
        c
        for c in existing
        if channel_is_marked(c) and same_topic_arn(c.get("DeliveryChannelTargetArn"), arn)
    ]
    if ours:
        return [
            Step(
                FOUND,
                "delivery",
                f"{ours[0].get('DeliveryChannelId')} to {topic} (created by setup)",
            )
        ]
    steps = [
        Step(
            NOTE,
            "delivery",
            f"{c.get('DeliveryChannelId')} ({c.get('DeliveryChannelName') or 'no name'}), not"
            f" setup's, already delivers to {topic}: left as it is; each result then arrives"
            " twice, which the function takes in its stride.",
        )
        for c in existing
        if same_topic_arn(c.get("DeliveryChannelTargetArn"), arn)
    ]
    if len(existing) >= MAX_CHANNELS:
        names = ", ".join(
            f"{c.get('DeliveryChannelId')} ({c.get('DeliveryChannelName') or 'no name'})"
            for c in existing
        )
        steps.append(
            Step(
                FAIL,
                "delivery",
                f"Config allows {MAX_CHANNELS} delivery channels and the account has"
                f" {len(existing)}: {names}.",
                fix="delete one you no longer need in Config's console (setup never changes"
                " a channel it did not create), then run again.",
            )
        )
        return steps
    steps.append(
        Step(
            CREATE,
            "delivery",
            f"channel {CHANNEL_NAME} to {topic}: non-compliance results of {BUCKET_TYPE}"
            " only, no change notifications",
            action=lambda: _create(setup, arn),
        )
    )
    return steps


def _create(setup: Setup, arn: str) -> str | None:
    setup.config_call(
        "CreateConfigDeliveryChannel",
        {
            "DeliveryChannelName": CHANNEL_NAME,
            "Description": DESCRIPTION,
            "DeliveryChannelType": "MNS",
            "DeliveryChannelTargetArn": arn,
            "NonCompliantNotification": "true",
            "ConfigurationItemChangeNotification": "false",
            "ConfigurationSnapshot": "false",
            "DeliveryChannelCondition": CONDITION,
        },
    )
    return None
