"""The fake Config's remediations and one resource's results: what ``setup
--config-remediation`` registers and removes, and what the function asks when Config
invokes it (config_remediation.py). For an account and for an account group.

Shapes as Config's documentation of 2020-09-07 gives them (CreateRemediation's parameters,
ListRemediations' ``Remediations``); the error code for a second remediation of one rule is
not in the copies available to us (``RemediationAlreadyExists`` here), so setup never relies
on it: it lists the rule's remediations before it creates one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from resource_repair.testing.config.models import (
    ConfigBackend,
    ConfigServiceError,
    FakeRemediation,
    FakeRule,
    _render,
    aggregator_of,
)
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID

INVOKE_TYPES = ("MANUAL_EXECUTION", "AUTO_EXECUTION", "NON_EXECUTION", "NOT_CONFIG")


def add_remediation(backend: ConfigBackend, rule: FakeRule, template_id: str) -> FakeRemediation:
    """Someone's remediation of ``rule`` (setting the scene)."""
    remediation = FakeRemediation(
        f"crr-{uuid.uuid4().hex[:20]}", rule.rule_id, template_id, aggregator_id=rule.aggregator_id
    )
    with backend.lock:
        backend.remediations.append(remediation)
    return remediation


def remediation_action(
    action: str,
) -> Callable[[ConfigBackend, Mapping[str, str]], dict[str, Any]] | None:
    """The handler of one of these actions, or None."""
    return _HANDLERS.get(action)


def _create(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    rule = backend.rules.get(params.get("ConfigRuleId", ""))
    if rule is None or rule.aggregator_id != aggregator_id:
        raise ConfigServiceError(400, "ConfigRuleNotExists", "The ConfigRule does not exist.")
    kind, template = params.get("RemediationType", ""), params.get("RemediationTemplateId", "")
    invoke = params.get("InvokeType", "")
    if kind not in ("OOS", "FC") or not template or invoke not in INVOKE_TYPES:
        raise ConfigServiceError(
            400,
            "InvalidParameter",
            "RemediationType, RemediationTemplateId and InvokeType are mandatory and valid.",
        )
    with backend.lock:
        if any(r.rule_id == rule.rule_id for r in backend.remediations):
            raise ConfigServiceError(
                400, "RemediationAlreadyExists", "The rule already has a remediation."
            )
        remediation = FakeRemediation(
            f"crr-{uuid.uuid4().hex[:20]}",
            rule.rule_id,
            template,
            invoke,
            kind,
            params.get("SourceType", ""),
            params.get("Params", ""),
            aggregator_id,
        )
        backend.remediations.append(remediation)
    return {"RemediationId": remediation.remediation_id}


def _list(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    wanted = set(filter(None, params.get("ConfigRuleIds", "").split(",")))
    with backend.lock:
        found = [
            r
            for r in backend.remediations
            if r.aggregator_id == aggregator_id and (not wanted or r.rule_id in wanted)
        ]
    return {
        "Remediations": [
            {
                "RemediationId": r.remediation_id,
                "ConfigRuleId": r.rule_id,
                "RemediationTemplateId": r.template_id,
                "RemediationType": r.remediation_type,
                "RemediationSourceType": r.source_type,
                "InvokeType": r.invoke_type,
                "Params": r.params,
                "AccountId": int(DEFAULT_ACCOUNT_ID),
                **({"AggregatorId": r.aggregator_id} if r.aggregator_id else {}),
            }
            for r in found
        ]
    }


def _delete(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    aggregator_id = aggregator_of(params)
    results = []
    with backend.lock:
        for wanted in filter(None, params.get("RemediationIds", "").split(",")):
            match = [
                r
                for r in backend.remediations
                if r.remediation_id == wanted and r.aggregator_id == aggregator_id
            ]
            for remediation in match:
                backend.remediations.remove(remediation)
            results.append(
                {
                    "RemediationId": wanted,
                    "IsSucceeded": bool(match),
                    "ErrorMessage": "" if match else "RemediationNotExists",
                }
            )
    return {"RemediationDeleteResults": results}


def _resource_results(backend: ConfigBackend, params: Mapping[str, str]) -> dict[str, Any]:
    """ListResourceEvaluationResults: one resource's results under every rule."""
    aggregator_id = aggregator_of(params)
    resource_id = params.get("ResourceId", "")
    if not resource_id:
        raise ConfigServiceError(400, "MissingResourceId", "ResourceId is mandatory.")
    region = params.get("Region", "")
    kind = params.get("ResourceType", "")
    compliance = params.get("ComplianceType", "")
    account = params.get("ResourceAccountId", "")
    with backend.lock:
        found = [
            (e, backend.rules[e.rule_id])
            for e in backend.results
            if e.resource_id == resource_id
            and e.aggregator_id == aggregator_id
            and e.rule_id in backend.rules
            and (not region or e.region_id == region)
            and (not kind or e.resource_type == kind)
            and (not compliance or e.compliance == compliance)
            and (not account or e.owner_id == account)
        ]
    return {
        "EvaluationResults": {
            "MaxResults": 100,
            "EvaluationResultList": [_render(e, rule) for e, rule in found],
        }
    }


_HANDLERS: dict[str, Callable[[ConfigBackend, Mapping[str, str]], dict[str, Any]]] = {
    "CreateRemediation": _create,
    "CreateAggregateRemediation": _create,
    "ListRemediations": _list,
    "ListAggregateRemediations": _list,
    "DeleteRemediations": _delete,
    "DeleteAggregateRemediations": _delete,
    "ListResourceEvaluationResults": _resource_results,
    "ListAggregateResourceEvaluationResults": _resource_results,
}
