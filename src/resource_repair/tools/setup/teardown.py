"""``setup --teardown``: remove what setup created, and nothing else. A topic others
subscribe to (the function's trigger, while it is deployed) is refused unless --force."""

from __future__ import annotations

import functools

from resource_repair.tools.doctor.delivery import same_topic_arn
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.delivery import channels
from resource_repair.tools.setup.marks import channel_is_marked, rule_is_marked
from resource_repair.tools.setup.plan import FAIL, FOUND, REMOVE, WARN, Setup, Step
from resource_repair.tools.setup.remediation import plan_remediation_teardown
from resource_repair.tools.setup.rules import lookup_rule

_FIX = "check the key's permissions (docs/deploying.md, setup's permissions) and run again."


def plan_teardown(setup: Setup) -> list[Step]:
    # Remediations before their rules: a rule's deletion may take its remediation along.
    remediations = plan_remediation_teardown(setup)
    steps = [*_channels(setup), *remediations, *_rules(setup), *_topics(setup)]
    deployed = setup.trigger_subscriptions()
    if deployed and any(step.action for step in steps):
        steps.insert(
            0,
            Step(
                WARN,
                "functions",
                f"{setup.request.topic} still has subscriptions setup did not make"
                f" ({', '.join(deployed)}): the functions appear deployed, and stop hearing"
                f" of new public buckets once this is gone; s remove -t"
                f" {setup.request.template_path} removes them.",
            ),
        )
    return steps


def _channels(setup: Setup) -> list[Step]:
    try:
        found = channels(setup)
    except CheckError as exc:
        return [Step(FAIL, "delivery", str(exc), fix=_FIX)]
    steps = []
    # Setup's own channel to this deployment's topic only: another deployment in the
    # account (another template, region or topic) has a channel marked the same way, and
    # its function would stop hearing of public buckets.
    arn = setup.topic_arn(setup.request.topic)
    for channel in found:
        if not channel_is_marked(channel) or not same_topic_arn(
            channel.get("DeliveryChannelTargetArn"), arn
        ):
            continue
        channel_id = str(channel.get("DeliveryChannelId"))
        steps.append(
            Step(
                REMOVE,
                "delivery",
                f"channel {channel_id} to {channel.get('DeliveryChannelTargetArn')}",
                action=functools.partial(_delete_channel, setup, channel_id),
            )
        )
    return steps


def _delete_channel(setup: Setup, channel_id: str) -> str | None:
    setup.config_call("DeleteConfigDeliveryChannel", {"DeliveryChannelId": channel_id})
    return None


def _rules(setup: Setup) -> list[Step]:
    steps = []
    for entry in setup.request.settings.rule_references:
        try:
            rule = lookup_rule(setup, entry)
        except CheckError as exc:
            steps.append(Step(FAIL, "rule", str(exc), fix=_FIX))
            continue
        if rule is None:
            continue
        name, rule_id = rule.get("ConfigRuleName"), str(rule.get("ConfigRuleId"))
        if not rule_is_marked(rule):
            steps.append(Step(FOUND, "rule", f"{name} ({rule_id}) is not setup's: kept"))
            continue
        steps.append(
            Step(
                REMOVE,
                "rule",
                f"{name} ({rule_id})",
                action=functools.partial(_delete_rule, setup, rule_id),
            )
        )
    return steps


def _delete_rule(setup: Setup, rule_id: str) -> str | None:
    answer = setup.config_call("DeleteConfigRules", {"ConfigRuleIds": rule_id})
    items = (answer.get("OperateRuleResult") or {}).get("OperateRuleItemList") or []
    for item in items:
        if isinstance(item, dict) and item.get("Success") is False:
            raise CheckError(f"DeleteConfigRules {rule_id}: {item.get('ErrorCode')}")
    return None


def _topics(setup: Setup) -> list[Step]:
    record = setup.record
    steps: list[Step] = []
    # This template's topics only: the record, beside the template, may also hold those of
    # another template in the same folder (template.yml and template.fc3.yml, or a stage's).
    wanted = setup.request.topics()
    made = [topic for topic in record.topics() if topic in wanted]
    subscribed = {t for t in wanted if record.subscriptions(t)}
    for topic in dict.fromkeys([*made, *sorted(subscribed)]):
        ours = record.subscriptions(topic)
        try:
            present = setup.smq.subscriptions(topic)
        except CheckError as exc:
            if exc.code == "TopicNotExist":
                record.remove_topic(topic)  # gone already: nothing left to remove
                for name in ours:
                    record.remove_subscription(topic, name)
                continue
            steps.append(Step(FAIL, "topic", str(exc), fix=_FIX))
            continue
        steps += [
            Step(
                REMOVE,
                "subscribe",
                f"{name} from {topic}",
                action=functools.partial(_unsubscribe, setup, topic, name),
            )
            for name in ours
            if name in present
        ]
        if topic not in record.topics():
            continue
        others = [name for name in present if name not in ours]
        if others and not setup.request.force:
            steps.append(
                Step(
                    FAIL,
                    "topic",
                    f"{topic} has subscriptions setup did not create ({', '.join(others)}): the"
                    " function's trigger is one while the functions are deployed.",
                    fix=f"remove the functions first (s remove -t {setup.request.template_path}),"
                    " or pass --force to delete the topic with them.",
                )
            )
            continue
        if others:
            steps.append(
                Step(
                    WARN,
                    "topic",
                    f"{topic}: --force deletes it with subscriptions setup did not create"
                    f" ({', '.join(others)}); a deployed function's trigger stops receiving.",
                )
            )
        steps.append(
            Step(
                REMOVE,
                "topic",
                f"{topic} in {setup.region}",
                action=functools.partial(_delete_topic, setup, topic),
            )
        )
    return steps


def _unsubscribe(setup: Setup, topic: str, name: str) -> str | None:
    setup.smq.unsubscribe(topic, name)
    setup.record.remove_subscription(topic, name)
    return None


def _delete_topic(setup: Setup, topic: str) -> str | None:
    setup.smq.delete_topic(topic)
    setup.record.remove_topic(topic)
    return None
