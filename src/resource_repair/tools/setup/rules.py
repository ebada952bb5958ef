"""The Config rules of ``prepareRuleName``: a ``cr-`` id must exist; an existing name is
used as it is (with a warning for each way its scope misses buckets); a missing name is
created on the managed rule the entry binds, else oss-bucket-public-read-prohibited,
scoped to buckets and triggered by changes. Marked with setup's tag when created."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Any

from resource_repair.errors import ResourceRepairError
from resource_repair.remediators.registry import KNOWN_IDENTIFIERS, READ_RULE
from resource_repair.tools.doctor.answers import as_int, as_list, as_mapping
from resource_repair.tools.doctor.delivery import BUCKET_TYPE, covers_buckets
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.marks import DESCRIPTION, rule_is_marked, rule_tag
from resource_repair.tools.setup.plan import CREATE, FAIL, FOUND, NOTE, WARN, Setup, Step

_LIVE = frozenset({"ACTIVE", "EVALUATING"})
_PAGE = 100
_SHOWN = 3
_COUNTED = 1000
# Scope parameters that leave buckets out of a rule.
_NARROWING = {
    "RegionIdsScope": "limited to regions",
    "ResourceGroupIdsScope": "limited to resource groups",
    "TagKeyScope": "limited to tagged resources",
    "TagsScope": "limited to tagged resources",
    "ResourceIdsScope": "limited to some resources",
    "ExcludeResourceIdsScope": "resources excluded",
    "ExcludeTagsScope": "tagged resources excluded",
}
_LOOKUP_FIX = (
    "check the key's Config permissions (docs/deploying.md, setup's permissions) and run again."
)


@dataclasses.dataclass
class RulePlan:
    steps: list[Step]
    found: list[tuple[str, str]]
    """(rule id, name) of each rule found in place."""
    created: bool = False
    new: list[str] = dataclasses.field(default_factory=list)
    """The names of the rules this plan creates."""


def plan_rules(setup: Setup) -> RulePlan:
    settings = setup.request.settings
    bound = dict(settings.rule_remedies)
    plan = RulePlan([], [])
    for entry in settings.rule_references:
        if entry in KNOWN_IDENTIFIERS:
            plan.steps.append(
                Step(
                    FAIL,
                    "rule",
                    f"{entry} is a managed rule, not a rule: setup creates nothing for it.",
                    fix=f"name a rule instead, e.g. prepareRuleName=my-rule={entry}"
                    " (setup creates it on that managed rule).",
                )
            )
            continue
        try:
            rule = lookup_rule(setup, entry)
        except CheckError as exc:
            plan.steps.append(Step(FAIL, "rule", str(exc), fix=_LOOKUP_FIX))
            continue
        if rule is None and entry.startswith("cr-"):
            plan.steps.append(
                Step(
                    FAIL,
                    "rule",
                    f"no Config rule has the id {entry}{_group(setup)}.",
                    fix="correct the id in prepareRuleName, or put a rule name there for"
                    " setup to create.",
                )
            )
        elif rule is None:
            identifier = bound.get(entry, READ_RULE)
            plan.created = True
            plan.new.append(entry)
            plan.steps.append(
                Step(
                    CREATE,
                    "rule",
                    f"{entry} on {identifier}, for {BUCKET_TYPE}, on every change{_group(setup)}",
                    action=functools.partial(_create, setup, entry, identifier),
                )
            )
        else:
            plan.found.append((str(rule.get("ConfigRuleId")), str(rule.get("ConfigRuleName"))))
            plan.steps += _found(rule, bound.get(entry))
    if plan.created and not setup.trigger_subscriptions():
        plan.steps.append(
            Step(
                NOTE,
                "rule",
                "the functions are not deployed yet, and a new rule evaluates every bucket at"
                " once: messages that arrive before the trigger exists are lost; the sweep's"
                " first run (or `resource-repair backfill`) covers those buckets.",
            )
        )
    plan.steps += _reported(setup, plan.found)
    return plan


def _group(setup: Setup) -> str:
    return f" in account group {setup.aggregator_id}" if setup.aggregator_id else ""


def lookup_rule(setup: Setup, entry: str) -> dict[str, Any] | None:
    """The rule's full description (GetConfigRule), or None when there is none."""
    rule_id = entry if entry.startswith("cr-") else _id_by_name(setup, entry)
    if rule_id is None:
        return None
    try:
        answer = setup.config_call("GetConfigRule", {"ConfigRuleId": rule_id})
    except CheckError as exc:
        if exc.code == "ConfigRuleNotExists":
            return None
        raise
    rule = answer.get("ConfigRule")
    return rule if isinstance(rule, dict) else None


def _id_by_name(setup: Setup, name: str) -> str | None:
    for page in itertools.count(1):
        params: dict[str, Any] = {"PageNumber": page, "PageSize": _PAGE}
        if not setup.aggregator_id:
            params["ConfigRuleName"] = name
        listing = as_mapping(setup.config_call("ListConfigRules", params).get("ConfigRules"))
        found = as_list(listing.get("ConfigRuleList"))
        for item in found:
            if isinstance(item, dict) and item.get("ConfigRuleName") == name:
                return str(item.get("ConfigRuleId"))
        if not found or page * _PAGE >= as_int(listing.get("TotalCount")) or page >= 50:
            return None
    return None


def _found(rule: dict[str, Any], bound: str | None) -> list[Step]:
    name, rule_id = rule.get("ConfigRuleName"), rule.get("ConfigRuleId")
    source = rule.get("Source") or {}
    identifier = str(source.get("Identifier") or rule.get("SourceIdentifier") or "")
    mark = " (created by setup)" if rule_is_marked(rule) else ""
    steps = [Step(FOUND, "rule", f"{name} ({rule_id}) on {identifier}{mark}")]
    state = str(rule.get("ConfigRuleState") or "")
    problems = []
    if state not in _LIVE:
        problems.append(f"it is {state or 'in no state'}, not ACTIVE")
    if identifier not in KNOWN_IDENTIFIERS or (bound and identifier != bound):
        problems.append(
            f"it is built on {identifier or 'no managed rule'}, not {bound or READ_RULE}"
        )
    if not covers_buckets(rule.get("ResourceTypesScope")):
        problems.append(f"{BUCKET_TYPE} is not in its resource types")
    problems += [text for key, text in _NARROWING.items() if rule.get(key)]
    steps += [
        Step(WARN, "rule", f"{name}: {p}, so some public buckets are never reported.")
        for p in dict.fromkeys(problems)
    ]
    return steps


def _create(setup: Setup, name: str, identifier: str) -> str | None:
    setup.config_call(
        "CreateConfigRule",
        {
            "ConfigRuleName": name,
            "SourceOwner": "ALIYUN",
            "SourceIdentifier": identifier,
            "ConfigRuleTriggerTypes": "ConfigurationItemChangeNotification",
            "ResourceTypesScope": BUCKET_TYPE,
            "RiskLevel": 1,
            "Description": DESCRIPTION,
            "Tag": rule_tag(),
        },
    )
    return None


def _reported(setup: Setup, found: list[tuple[str, str]]) -> list[Step]:
    """How many buckets Config already reports under the rules found: what the function
    would change the moment dryRun is switched off."""
    if not found:
        return []
    dry_run = setup.request.settings.dry_run
    client = setup.counting_client()
    steps = []
    for rule_id, name in found:
        try:
            buckets = [
                event.bucket
                for event in itertools.islice(
                    client.non_compliant_buckets(rule_id, aggregator_id=setup.aggregator_id),
                    _COUNTED,
                )
            ]
        except ResourceRepairError as exc:  # a count is advice: its failure is said
            steps.append(Step(WARN, "reported", f"{name}: cannot count its results: {exc}"))
            continue
        if not buckets:
            steps.append(Step(NOTE, "reported", f"{name}: Config reports no bucket non-compliant"))
            continue
        more = len(buckets) >= _COUNTED
        count = f"{len(buckets)}{'+' if more else ''}"
        shown = ", ".join(buckets[:_SHOWN]) + (", ..." if len(buckets) > _SHOWN else "")
        effect = (
            "dryRun is on: they are only reported"
            if dry_run
            else "dryRun is off: they will be made private"
        )
        steps.append(
            Step(
                NOTE,
                "reported",
                f"{name}: Config reports {count} bucket{'' if count == '1' else 's'}"
                f" non-compliant ({shown}); {effect}."
                " Exempt those meant to be public with exemptBuckets or exemptTag first.",
            )
        )
    return steps
