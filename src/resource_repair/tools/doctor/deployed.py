"""The checks of what ``s deploy`` created: the service, the function and its trigger, the
service's role and what its policies grant, and the template's other functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from resource_repair.tools.doctor.answers import as_list, as_mapping
from resource_repair.tools.doctor.delivery import same_topic_arn
from resource_repair.tools.doctor.findings import FAIL, OK, SKIP, CheckError, Finding, access_fix
from resource_repair.tools.doctor.plan import (
    CompanionFunction,
    Plan,
    TopicTrigger,
    companion_check,
)
from resource_repair.tools.doctor.policy import (
    grants,
    parse_document,
    policy_statements,
    required_actions,
)
from resource_repair.tools.doctor.transports import RAM_DOMAIN, RAM_VERSION, FcClient, RpcClient
from resource_repair.tools.template import DEFAULT_TEMPLATE, FunctionTemplate

# Bounds on what one check reads: far above any real account, and every loop ends.
_MAX_POLICIES = 50


class DeployedChecks:
    """Doctor's checks of the deployment (step 5), apart from the checks before it; they
    need the account that step 0 established and the template's topic trigger."""

    plan: Plan
    template: FunctionTemplate
    account: str | None
    topic: TopicTrigger

    # 5. once deployed: service, function, trigger, role -----------------------------------

    def check_deployed(self) -> Iterator[Finding]:
        names = ("service", "function", "trigger", "role", *self._companion_checks())
        if self.plan.skip_deployed:
            for name in names:
                yield Finding(SKIP, name, "--skip-deployed (run again after `s deploy`)")
            return
        if self.account is None:
            for name in names:
                yield Finding(SKIP, name, "no account to find the deployment in (see `account`)")
            return
        fc = FcClient(self.plan.credentials, self.account, self.template.region)
        service_name, function_name = self.template.service, self.template.function
        where = f"in {self.template.region}, account {self.account}"
        deploy_fix = f"deploy first: s deploy -t {self.plan.template_path}"
        try:
            service = fc.call("GetService", lambda c: c.get_service(service_name))
        except CheckError as exc:
            missing = exc.code == "ServiceNotFound"
            yield Finding(
                FAIL,
                "service",
                f"{service_name} is not deployed {where}."
                if missing
                else f"cannot read {service_name}: {exc}.",
                deploy_fix if missing else access_fix(exc, "fc:GetService", ""),
            )
            for name in names[1:]:
                yield Finding(SKIP, name, f"service {service_name} could not be read")
            return
        role_arn = str(service.get("role") or "")
        yield Finding(OK, "service", f"{service_name} {where}, role {role_arn or '(none)'}")

        function_ok = True
        try:
            function = fc.call("GetFunction", lambda c: c.get_function(service_name, function_name))
            yield Finding(
                OK,
                "function",
                f"{function_name} ({function.get('runtime')}, {function.get('handler')},"
                f" modified {function.get('lastModifiedTime', '?')})",
            )
        except CheckError as exc:
            function_ok = False
            missing = exc.code == "FunctionNotFound"
            yield Finding(
                FAIL,
                "function",
                f"{service_name}/{function_name} is not deployed {where}."
                if missing
                else f"cannot read {function_name}: {exc}.",
                deploy_fix if missing else access_fix(exc, "fc:GetFunction", ""),
            )
        if function_ok:
            yield self._trigger_finding(fc, service_name, function_name)
        else:
            yield Finding(SKIP, "trigger", f"function {function_name} could not be read")
        yield self._role_finding(role_arn)
        for companion in self.plan.companions:
            yield self._companion_finding(fc, service_name, companion)

    def _companion_checks(self) -> list[str]:
        return [companion_check(c) for c in self.plan.companions]

    def _companion_finding(
        self, fc: FcClient, service_name: str, companion: CompanionFunction
    ) -> Finding:
        """The template's other function (the sweep) and its triggers, deployed."""
        check = companion_check(companion)
        deploy_fix = f"deploy it: s deploy -t {self.plan.template_path}"
        try:
            fc.call("GetFunction", lambda c: c.get_function(service_name, companion.name))
            for trigger in companion.triggers:
                fc.call("GetTrigger", _trigger_reader(service_name, companion.name, trigger))
        except CheckError as exc:
            if exc.code in ("FunctionNotFound", "TriggerNotFound"):
                what = "is not deployed" if exc.code == "FunctionNotFound" else "lacks a trigger"
                return Finding(
                    FAIL,
                    check,
                    f"{service_name}/{companion.name} {what} ({exc.code}).",
                    deploy_fix,
                )
            return Finding(
                FAIL,
                check,
                f"cannot read {companion.name}: {exc}.",
                access_fix(exc, "fc:GetFunction and fc:GetTrigger", ""),
            )
        triggers = ", ".join(companion.triggers) or "no trigger"
        return Finding(OK, check, f"{companion.name} with {triggers}")

    def _trigger_finding(self, fc: FcClient, service_name: str, function_name: str) -> Finding:
        trigger_name = self.topic.trigger
        if not trigger_name:
            return Finding(
                FAIL,
                "trigger",
                "the template has no mns_topic trigger.",
                f"add the ConfigRuleNonComplianceSMQTrigger block of {DEFAULT_TEMPLATE}.",
            )
        try:
            trigger = fc.call(
                "GetTrigger",
                lambda c: c.get_trigger(service_name, function_name, trigger_name),
            )
        except CheckError as exc:
            missing = exc.code == "TriggerNotFound"
            return Finding(
                FAIL,
                "trigger",
                f"{trigger_name} does not exist on {function_name}."
                if missing
                else f"cannot read {trigger_name}: {exc}.",
                f"deploy it: s deploy -t {self.plan.template_path}"
                if missing
                else access_fix(exc, "fc:GetTrigger", ""),
            )
        kind = str(trigger.get("triggerType", ""))
        source = str(trigger.get("sourceArn", ""))
        wanted = f"acs:mns:{self.topic.region}:{self.account}:/topics/{self.topic.name}"
        if kind != "mns_topic" or not same_topic_arn(source, wanted):
            return Finding(
                FAIL,
                "trigger",
                f"{trigger_name} is {kind or 'of unknown type'} on {source or 'no source'},"
                f" not on {wanted}.",
                f"redeploy with the template's trigger: s deploy -t {self.plan.template_path}",
            )
        return Finding(OK, "trigger", f"{trigger_name} ({kind}) on {source}")

    def _role_finding(self, role_arn: str) -> Finding:
        match = re.fullmatch(r"acs:ram::(\d+):role/([A-Za-z0-9._-]{1,64})", role_arn, re.I)
        if match is None:
            return Finding(
                FAIL,
                "role",
                f"service {self.template.service} has no usable role ({role_arn or 'none'}):"
                " the function gets no credentials.",
                f"set service.role as in {DEFAULT_TEMPLATE} and deploy again.",
            )
        owner, role = match[1], match[2]
        if owner != self.account:
            return Finding(
                FAIL,
                "role",
                f"role {role} belongs to account {owner}, not {self.account}.",
                "deploy with an access of this account (`s config add`, AccountID from"
                " `resource-repair whoami`).",
            )
        required = required_actions(self.template.environment)
        try:
            policies = self._role_policies(role)
        except CheckError as exc:
            return Finding(
                FAIL,
                "role",
                f"cannot read the policies of role {role}: {exc}.",
                access_fix(exc, "ram:ListPoliciesForRole and ram:GetPolicy", ""),
            )
        missing = [
            action
            for action in required
            if not grants(
                [s for _, doc in policies for s in policy_statements(doc)], action, self.account
            )
        ]
        names = ", ".join(name for name, _ in policies) or "no policy"
        if missing:
            return Finding(
                FAIL,
                "role",
                f"role {role} ({names}) lacks {', '.join(missing)} on this account's resources.",
                f"deploy the role's policy from {DEFAULT_TEMPLATE} (it grants exactly"
                f" {', '.join(required)}).",
            )
        return Finding(OK, "role", f"{role} ({names}) grants {', '.join(required)}")

    def _role_policies(self, role: str) -> list[tuple[str, Any]]:
        """(name, parsed policy document) of every policy attached to ``role``."""
        ram = RpcClient(self.plan.credentials, RAM_DOMAIN, RAM_VERSION, "cn-hangzhou")
        listing = ram.call("ListPoliciesForRole", {"RoleName": role})
        attached = [
            p
            for p in as_list(as_mapping(listing.get("Policies")).get("Policy"))
            if isinstance(p, dict)
        ][:_MAX_POLICIES]
        documents: list[tuple[str, Any]] = []
        for policy in attached:
            name, kind = str(policy.get("PolicyName", "")), str(policy.get("PolicyType", ""))
            answer = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": kind})
            text = as_mapping(answer.get("DefaultPolicyVersion")).get("PolicyDocument")
            if not text:
                version = (
                    as_mapping(answer.get("Policy")).get("DefaultVersion")
                    or policy.get("DefaultVersion")
                    or "v1"
                )
                answer = ram.call(
                    "GetPolicyVersion",
                    {"PolicyName": name, "PolicyType": kind, "VersionId": str(version)},
                )
                text = as_mapping(answer.get("PolicyVersion")).get("PolicyDocument")
            documents.append((name, parse_document(text)))
        return documents


def _trigger_reader(service: str, function: str, trigger: str) -> Callable[[Any], Any]:
    return lambda client: client.get_trigger(service, function, trigger)
