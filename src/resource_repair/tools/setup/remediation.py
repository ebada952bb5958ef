"""``setup --config-remediation manual|auto``: the deployed event function registered as
the Config remediation ("custom remediation", RemediationType FC) of each rule setup manages
or found, so that Config's console shows a button beside each non-compliant bucket
(``manual``), or Config runs the function for each bucket it reports (``auto``).

One remediation per rule (Config's rule): a rule that has one already, not setup's, is
reported and left as it is. What setup registers is written to its record (marks.py), the
only mark a remediation can carry, and ``--teardown`` removes only those.

The function's ARN, as ``RemediationTemplateId``: FC 2.0's form is the one Alibaba's
sample registers (aliyun/alibabacloud-config-samples, ``config_rule_and_fc_remediation_
sample.tf``). FC 3.0's API names a function ``acs:fc:<region>:<account>:functions/<name>``
(its TagResource documentation), but that Config's remediation accepts that form is not
confirmed anywhere we could read, so setup does not register an FC 3.0 function
(docs/deploying.md, Config's own call of the function).
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from resource_repair.errors import ResourceRepairError
from resource_repair.tools.doctor.findings import CheckError
from resource_repair.tools.setup.plan import CREATE, FAIL, FOUND, NOTE, REMOVE, WARN, Setup, Step
from resource_repair.tools.setup.rules import RulePlan, lookup_rule

MANUAL, AUTO = "manual", "auto"
INVOKE_TYPES = {MANUAL: "MANUAL_EXECUTION", AUTO: "AUTO_EXECUTION"}
_THING = "remedy"
_COUNTED = 1000
_FIX = "check the key's Config permissions (docs/deploying.md, setup's permissions) and run again."


def function_arn(setup: Setup) -> str:
    """The event function as Config's RemediationTemplateId (FC 2.0's form)."""
    template = setup.request.template
    return (
        f"acs:fc:{template.region}:{setup.account}:services/{template.service}.LATEST"
        f"/functions/{template.function}"
    )


def fc3_function_arn(setup: Setup) -> str:
    """FC 3.0's probable form: unconfirmed, so never registered (only said)."""
    template = setup.request.template
    return f"acs:fc:{template.region}:{setup.account}:functions/{template.function}"


def plan_remediations(setup: Setup, rules: RulePlan) -> list[Step]:
    mode = setup.request.config_remediation
    if mode is None:
        return []
    deployed = _deployed(setup)
    if deployed is not None:
        return [deployed]
    arn = function_arn(setup)
    invoke = INVOKE_TYPES[mode]
    steps: list[Step] = []
    for rule_id, name in rules.found:
        try:
            existing = _remediations(setup, rule_id)
        except CheckError as exc:
            steps.append(Step(FAIL, _THING, f"{name}: {exc}", fix=_FIX))
            continue
        steps += _for_rule(setup, rule_id, name, existing, arn, invoke)
    for name in rules.new:
        steps.append(
            Step(
                CREATE,
                _THING,
                f"{name} (created above): {mode}, by {arn}",
                action=functools.partial(_create_for_new_rule, setup, name, arn, invoke),
            )
        )
    if mode == AUTO:
        steps += _auto_notes(setup, rules)
    return steps


def _deployed(setup: Setup) -> Step | None:
    """None when the event function is deployed; else the FAIL line that says what to do."""
    template = setup.request.template
    path = setup.request.template_path
    if template.fc_version != 2:
        return Step(
            FAIL,
            _THING,
            f"{path} is an FC 3.0 template: the ARN Config would call (probably"
            f" {fc3_function_arn(setup)}) is not confirmed, so setup does not register it.",
            fix="register it in Config's console (rule, Remediation, Function Compute), or"
            " use template.yml (FC 2.0) for this (docs/deploying.md, Config's own call).",
        )
    from resource_repair.tools.doctor.transports import FcClient

    service, function = template.service, template.function
    try:
        fake = setup.request.fc_endpoint
        fc = FcClient(
            setup.request.credentials,
            setup.account,
            template.region,
            endpoint=f"http://{fake}" if fake else None,
        )
        fc.call("GetFunction", lambda client: client.get_function(service, function))
    except CheckError as exc:
        if exc.code in ("ServiceNotFound", "FunctionNotFound"):
            return Step(
                FAIL,
                _THING,
                f"the event function {service}/{function} is not deployed in"
                f" {template.region}: Config would have nothing to call.",
                fix=f"deploy it first (s deploy -t {path}), then run setup again with"
                f" --config-remediation {setup.request.config_remediation}.",
            )
        return Step(
            FAIL,
            _THING,
            f"cannot read the event function {service}/{function}: {exc}",
            fix="give the caller fc:GetFunction, or check the network, and run again.",
        )
    return None


def _remediations(setup: Setup, rule_id: str) -> list[dict[str, object]]:
    """The rule's remediations (at most one, by Config's rule)."""
    answer = _call(setup, "ListRemediations", {"ConfigRuleIds": rule_id})
    found = answer.get("Remediations") or []
    return [r for r in found if isinstance(r, dict) and r.get("ConfigRuleId") == rule_id]


def _for_rule(
    setup: Setup,
    rule_id: str,
    name: str,
    existing: list[dict[str, object]],
    arn: str,
    invoke: str,
) -> list[Step]:
    ours = {rid for rule, rid in setup.record.remediations() if rule == rule_id}
    for remediation in existing:
        rid = str(remediation.get("RemediationId"))
        target = str(remediation.get("RemediationTemplateId") or "")
        kind = str(remediation.get("InvokeType") or "")
        if rid in ours:
            steps = [Step(FOUND, _THING, f"{name}: {rid}, {kind}, by {target} (setup's)")]
            if kind != invoke:
                steps.append(
                    Step(
                        NOTE,
                        _THING,
                        f"{name}: {rid} is {kind}, not {invoke}: setup --teardown --apply,"
                        " then setup again, changes it.",
                    )
                )
            return steps
        return [
            Step(
                WARN,
                _THING,
                f"{name} already has remediation {rid} ({kind or 'no invoke type'}, by"
                f" {target or 'no template'}), not setup's: Config allows one per rule, and"
                " setup never replaces someone else's.",
            )
        ]
    return [
        Step(
            CREATE,
            _THING,
            f"{name} ({rule_id}): {_mode(invoke)}, by {arn}",
            action=functools.partial(_create, setup, rule_id, arn, invoke),
        )
    ]


def _mode(invoke: str) -> str:
    return MANUAL if invoke == INVOKE_TYPES[MANUAL] else AUTO


def _create(setup: Setup, rule_id: str, arn: str, invoke: str) -> str | None:
    answer = _call(
        setup,
        "CreateRemediation",
        {
            "ConfigRuleId": rule_id,
            "RemediationType": "FC",
            "SourceType": "CUSTOM",
            "RemediationTemplateId": arn,
            "InvokeType": invoke,
            "Params": "{}",  # as Alibaba's sample registers it
        },
    )
    remediation_id = str(answer.get("RemediationId") or "")
    if not remediation_id:
        raise CheckError(f"CreateRemediation for {rule_id} answered no RemediationId")
    setup.record.add_remediation(rule_id, remediation_id)
    return None


def _create_for_new_rule(setup: Setup, name: str, arn: str, invoke: str) -> str | None:
    """The rule was created earlier in this run: its id is known only now."""
    rule = lookup_rule(setup, name)
    if rule is None:
        raise CheckError(f"rule {name} was not found after it was created")
    rule_id = str(rule.get("ConfigRuleId"))
    if _remediations(setup, rule_id):
        return f"{name} ({rule_id}) has a remediation already: left as it is"
    return _create(setup, rule_id, arn, invoke)


def _auto_notes(setup: Setup, rules: RulePlan) -> list[Step]:
    """How many buckets ``auto`` changes the moment it is registered."""
    steps = []
    client = setup.counting_client()
    for rule_id, name in rules.found:
        try:
            count = sum(
                1
                for _ in itertools.islice(
                    client.non_compliant_buckets(rule_id, aggregator_id=setup.aggregator_id),
                    _COUNTED,
                )
            )
        except ResourceRepairError as exc:
            steps.append(Step(WARN, _THING, f"{name}: cannot count its results: {exc}"))
            continue
        shown = f"{count}{'+' if count >= _COUNTED else ''}"
        steps.append(
            Step(
                NOTE,
                _THING,
                f"auto: Config runs the function for each bucket {name} reports: {shown}"
                f" bucket{'' if count == 1 else 's'} would be made private at once, and each"
                " new one as it is reported. Exempt those meant to be public first.",
            )
        )
    for name in rules.new:
        steps.append(
            Step(
                NOTE,
                _THING,
                f"auto: {name} is new, and evaluates every bucket at once: each it reports"
                " is made private as soon as it is reported.",
            )
        )
    return steps


def _template_rule_ids(setup: Setup) -> set[str]:
    """The ids of the rules the template's prepareRuleName names, as they are now."""
    found = (lookup_rule(setup, entry) for entry in setup.request.settings.rule_references)
    return {str(rule.get("ConfigRuleId")) for rule in found if rule is not None}


def plan_remediation_teardown(setup: Setup) -> list[Step]:
    """A REMOVE line for each remediation setup registered on one of this template's rules
    that is still there. The record beside the template may be shared with another template
    in the same folder (a stage's): its remediations are that template's to remove."""
    steps: list[Step] = []
    try:
        own_rules = _template_rule_ids(setup)
    except CheckError as exc:
        return [Step(FAIL, _THING, str(exc), fix=_FIX)]  # whose is what is not known
    for rule_id, remediation_id in setup.record.remediations():
        if rule_id not in own_rules:
            steps.append(
                Step(FOUND, _THING, f"{remediation_id} of rule {rule_id}: another template's, kept")
            )
            continue
        try:
            present = {str(r.get("RemediationId")) for r in _remediations(setup, rule_id)}
        except CheckError as exc:
            if exc.code == "ConfigRuleNotExists":
                setup.record.remove_remediation(rule_id, remediation_id)
                continue  # the rule is gone, and its remediation with it
            steps.append(Step(FAIL, _THING, str(exc), fix=_FIX))
            continue
        if remediation_id not in present:
            setup.record.remove_remediation(rule_id, remediation_id)  # removed by hand
            continue
        steps.append(
            Step(
                REMOVE,
                _THING,
                f"{remediation_id} of rule {rule_id}",
                action=functools.partial(_delete, setup, rule_id, remediation_id),
            )
        )
    return steps


def _delete(setup: Setup, rule_id: str, remediation_id: str) -> str | None:
    answer = _call(setup, "DeleteRemediations", {"RemediationIds": remediation_id})
    for item in answer.get("RemediationDeleteResults") or []:
        if isinstance(item, dict) and item.get("IsSucceeded") is False:
            raise CheckError(f"DeleteRemediations {remediation_id}: {item.get('ErrorMessage')}")
    setup.record.remove_remediation(rule_id, remediation_id)
    return None


def _call(setup: Setup, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """The account's call, or the account group's (``Aggregate`` after the verb)."""
    if setup.aggregator_id:
        verb = next(v for v in ("Create", "List", "Delete") if action.startswith(v))
        return setup.config.call(
            action.replace(verb, f"{verb}Aggregate", 1),
            {**params, "AggregatorId": setup.aggregator_id},
        )
    return setup.config.call(action, params)
