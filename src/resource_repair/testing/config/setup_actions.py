"""The fake Config's answers to what ``resource-repair setup`` writes and reads: the
recorder's status, rules created and deleted, delivery channels created and deleted, for
an account and for an account group (the ``Aggregate`` calls), with Config's error codes.

Kept apart from models.py, which answers the reads of the sweep and backfill.

Codes: ``ConfigRuleNotExists`` and ``MissingAggregatorId`` are the ones the fake already
answered; the codes for a sixth delivery channel (``DeliveryChannelNumExceedLimit``) and a
duplicate rule name (``ConfigRuleNameAlreadyExists``) are not in the copies of Config's
documentation available to us, so setup never relies on them: it counts the channels and
looks the name up before it creates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from resource_repair.testing.config.models import (
    BUCKET_TYPE,
    ConfigBackend,
    ConfigServiceError,
    FakeDeliveryChannel,
    FakeRule,
    aggregator_of,
)
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID

# CreateConfigRule's scope parameters that narrow a rule, kept as given.
SCOPE_PARAMETERS = (
    "RegionIdsScope",
    "ResourceGroupIdsScope",
    "TagKeyScope",
    "TagValueScope",
    "ExcludeResourceIdsScope",
    "ResourceIdsScope",
)


def dispatch_setup_action(
    backend: ConfigBackend, action: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """One of setup's actions; 404 ``InvalidAction.NotFound`` for any other."""
    handlers = {
        "GetConfigurationRecorder": _recorder,
        "CreateConfigRule": _create_rule,
        "CreateAggregateConfigRule": _create_rule,
        "GetConfigRule": _get_rule,
        "GetAggregateConfigRule": _get_rule,
        "ListAggregateConfigRules": _list_aggregate_rules,
        "DeleteConfigRules": _delete_rules,
        "DeleteAggregateConfigRules": _delete_rules,
        "CreateConfigDeliveryChannel": _create_channel,
        "CreateAggregateConfigDeliveryChannel": _create_channel,
        "ListAggregateConfigDeliveryChannels": _list_aggregate_channels,
        "DeleteConfigDeliveryChannel": _delete_channel,
        "DeleteAggregateConfigDeliveryChannel": _delete_channel,
    }
    handler = handlers.get(action)
    if handler is None:
        raise ConfigServiceError(
            404, "InvalidAction.NotFound", f"Specified api {action} is not found."
        )
    return handler(backend, params)


def _recorder(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ConfigurationRecorder": {
            "ConfigurationRecorderStatus": backend.recorder_status,
            "ResourceTypes": [BUCKET_TYPE],
        }
    }


def _create_rule(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    name = params.get("ConfigRuleName", "")
    identifier = params.get("SourceIdentifier", "")
    if not name or not identifier or params.get("SourceOwner") != "ALIYUN":
        raise ConfigServiceError(
            400,
            "MissingParameter",
            "ConfigRuleName, SourceOwner and SourceIdentifier are mandatory for this action.",
        )
    try:
        tags = tuple(
            (str(tag["Key"]), str(tag.get("Value", "")))
            for tag in json.loads(params.get("Tag") or "[]")
        )
    except (ValueError, TypeError, KeyError):
        raise ConfigServiceError(400, "InvalidParameter.Tag", "The Tag is invalid.") from None
    with backend.lock:
        if any(r.name == name and r.aggregator_id == aggregator_id for r in backend.rules.values()):
            raise ConfigServiceError(
                400, "ConfigRuleNameAlreadyExists", f"The ConfigRule {name} already exists."
            )
        rule = backend.add_rule(name, aggregator_id=aggregator_id)
        rule.source_identifier = identifier
        rule.resource_types = params.get("ResourceTypesScope", "")
        rule.risk_level = int(params.get("RiskLevel") or 1)
        rule.description = params.get("Description", "")
        rule.trigger_types = params.get("ConfigRuleTriggerTypes", "")
        rule.tags = tags
        rule.scope = {k: params[k] for k in SCOPE_PARAMETERS if params.get(k)}
    if backend.on_rule_created is not None:
        backend.on_rule_created(rule)  # Config evaluates a new rule at once
    return {"ConfigRuleId": rule.rule_id}


def _rule(backend: ConfigBackend, params: Mapping[str, str]) -> FakeRule:
    aggregator_id = aggregator_of(params)
    rule = backend.rules.get(params.get("ConfigRuleId", ""))
    if rule is None or rule.aggregator_id != aggregator_id:
        raise ConfigServiceError(400, "ConfigRuleNotExists", "The ConfigRule does not exist.")
    return rule


def _get_rule(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    return {"ConfigRule": _render_rule(_rule(backend, params))}


def _render_rule(rule: FakeRule) -> dict[str, Any]:
    types = [t for t in rule.resource_types.split(",") if t]
    return {
        "ConfigRuleId": rule.rule_id,
        "ConfigRuleName": rule.name,
        "ConfigRuleArn": f"acs:config::{DEFAULT_ACCOUNT_ID}:rule/{rule.rule_id}",
        "ConfigRuleState": rule.state,
        "Description": rule.description,
        "RiskLevel": rule.risk_level,
        "ConfigRuleTriggerTypes": rule.trigger_types,
        "ResourceTypesScope": rule.resource_types,
        "SourceIdentifier": rule.source_identifier,
        "Source": {"Identifier": rule.source_identifier, "Owner": "ALIYUN"},
        "Scope": {"ComplianceResourceTypes": types},
        "Tags": [{"Key": k, "Value": v} for k, v in rule.tags],
        **rule.scope,
    }


def _list_aggregate_rules(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    """Paged and filtered by name as ListConfigRules is: the sweep and backfill look an
    account group's rules up with it."""
    aggregator_id = aggregator_of(params)
    page = max(1, int(params.get("PageNumber") or 1))
    size = min(100, max(1, int(params.get("PageSize") or 10)))
    name = params.get("ConfigRuleName") or params.get("Keyword") or ""
    with backend.lock:
        rules = [
            r for r in backend.rules.values() if r.aggregator_id == aggregator_id and name in r.name
        ]
    return {
        "ConfigRules": {
            "ConfigRuleList": [_render_rule(r) for r in rules[(page - 1) * size : page * size]],
            "PageNumber": page,
            "PageSize": size,
            "TotalCount": len(rules),
        }
    }


def _delete_rules(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    items = []
    with backend.lock:
        for rule_id in filter(None, params.get("ConfigRuleIds", "").split(",")):
            rule = backend.rules.get(rule_id)
            if rule is None or rule.aggregator_id != aggregator_id:
                items.append(
                    {"ConfigRuleId": rule_id, "Success": False, "ErrorCode": "ConfigRuleNotExists"}
                )
                continue
            del backend.rules[rule_id]
            backend.results = [e for e in backend.results if e.rule_id != rule_id]
            items.append({"ConfigRuleId": rule_id, "Success": True, "ErrorCode": ""})
    return {"OperateRuleResult": {"OperateRuleItemList": items}}


def _truth(params: Mapping[str, str], key: str) -> bool:
    return params.get(key, "").lower() == "true"


def _create_channel(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    kind = params.get("DeliveryChannelType", "")
    target = params.get("DeliveryChannelTargetArn", "")
    if kind not in ("OSS", "MNS", "SLS") or not target:
        raise ConfigServiceError(
            400,
            "Invalid.DeliveryChannelType",
            "DeliveryChannelType and DeliveryChannelTargetArn are mandatory for this action.",
        )
    with backend.lock:
        owned = [c for c in backend.delivery_channels if c.aggregator_id == aggregator_id]
        if len(owned) >= backend.max_delivery_channels:
            raise ConfigServiceError(
                400,
                "DeliveryChannelNumExceedLimit",
                f"The number of delivery channels exceeds the limit of"
                f" {backend.max_delivery_channels}.",
            )
        channel = FakeDeliveryChannel(
            f"cdc-{uuid.uuid4().hex[:20]}",
            target,
            kind,
            non_compliant_notification=_truth(params, "NonCompliantNotification"),
            condition=params.get("DeliveryChannelCondition", ""),
            name=params.get("DeliveryChannelName", ""),
            description=params.get("Description", ""),
            change_notification=_truth(params, "ConfigurationItemChangeNotification"),
            aggregator_id=aggregator_id,
        )
        backend.delivery_channels.append(channel)
    return {"DeliveryChannelId": channel.channel_id}


def _list_aggregate_channels(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_of(params)
    return backend.list_delivery_channels(params)


def _delete_channel(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    wanted = params.get("DeliveryChannelId", "")
    with backend.lock:
        for channel in backend.delivery_channels:
            if channel.channel_id == wanted and channel.aggregator_id == aggregator_id:
                backend.delivery_channels.remove(channel)
                return {"DeliveryChannelId": wanted}
    raise ConfigServiceError(
        400, "DeliveryChannelNotExists", "The delivery channel does not exist."
    )
