"""The checks, in the order they run: whose credentials, the function's settings, the
Config rules, the topics, Config's delivery to the topic; then, in deployed.py, what
``s deploy`` created."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from resource_repair.errors import ConfigurationError, ResourceRepairError
from resource_repair.notify_settings import FAILURE_TOPIC, REMEDIATION_TOPIC, NotifySettings
from resource_repair.settings import CONFIG_AGGREGATOR_ID, RULE_REFERENCES, Settings
from resource_repair.smq import mns_endpoint
from resource_repair.tools.caller import caller_identity
from resource_repair.tools.doctor.answers import as_int, as_list, as_mapping
from resource_repair.tools.doctor.delivery import (
    BUCKET_TYPE,
    condition_problem,
    covers_buckets,
    same_topic_arn,
)
from resource_repair.tools.doctor.deployed import DeployedChecks
from resource_repair.tools.doctor.findings import (
    FAIL,
    OK,
    SKIP,
    CheckError,
    Finding,
    access_fix,
    reference_label,
    short_text,
)
from resource_repair.tools.doctor.plan import Plan, event_topic
from resource_repair.tools.doctor.sweep_time import sweep_time_findings
from resource_repair.tools.doctor.transports import CONFIG_VERSION, RpcClient, get_topic_attributes

# Config reports a rule that is switched on as ACTIVE, or EVALUATING while it runs.
_LIVE_RULE_STATES = frozenset({"ACTIVE", "EVALUATING"})
# Bounds on what one check reads: far above any real account, and every loop ends.
_MAX_PAGES = 50
_PAGE_SIZE = 100
_SHOWN = 5


class Doctor(DeployedChecks):
    def __init__(self, plan: Plan) -> None:
        from resource_repair.config_api import SITES

        self.plan = plan
        self.template = plan.template
        self.account: str | None = None
        self.topic = event_topic(plan.template)
        self._config = RpcClient(
            plan.credentials,
            plan.config_endpoint or f"config.{SITES[plan.site]}.aliyuncs.com",
            CONFIG_VERSION,
            SITES[plan.site],
            plain_http=plan.config_endpoint is not None,
        )
        self._rules: list[dict[str, Any]] | None = None

    def findings(self) -> Iterator[Finding]:
        """Every check's lines, in order; each as soon as its check is done."""
        steps: list[tuple[str, Callable[[], Iterator[Finding]]]] = [
            ("account", lambda: iter([self.check_account()])),
            ("settings", lambda: iter([self.check_settings()])),
            ("sweep-time", lambda: sweep_time_findings(self.plan)),
            ("rule", self.check_rules),
            ("topic", self.check_topics),
            ("delivery", lambda: iter([self.check_delivery()])),
            ("deployed", self.check_deployed),
        ]
        for name, step in steps:
            try:
                lines = list(step())
            except Exception as exc:  # a bug in one check must not hide the others
                lines = [
                    Finding(
                        FAIL,
                        name,
                        f"the check itself failed: {type(exc).__name__}: {short_text(str(exc))}.",
                        "run again with --log-level DEBUG and report it.",
                    )
                ]
            yield from lines

    # 0. who is asking --------------------------------------------------------------------

    def check_account(self) -> Finding:
        if self.plan.account_id:
            self.account = self.plan.account_id
            return Finding(OK, "account", f"{self.account} (from --account-id)")
        try:
            identity = caller_identity(self.plan.credentials, endpoint=self.plan.sts_endpoint)
        except ResourceRepairError as exc:  # caller.py's one-line failure, whatever its name
            return Finding(
                FAIL,
                "account",
                f"cannot tell whose credentials these are: {short_text(str(exc))}.",
                "check the access key (or --profile) and the network, or pass --account-id.",
            )
        self.account = identity.account_id
        return Finding(
            OK,
            "account",
            f"{identity.account_id} ({identity.arn or identity.identity_type},"
            " from STS GetCallerIdentity): use this AccountID in `s config add`",
        )

    # 1. the function's own settings -------------------------------------------------------

    def check_settings(self) -> Finding:
        environment = self.template.environment
        try:
            settings = Settings.from_env(environment)
            NotifySettings.from_env(environment)
        except ConfigurationError as exc:
            return Finding(
                FAIL,
                "settings",
                f"the function would refuse its settings: {short_text(str(exc))}.",
                f"correct it under environmentVariables/vars in {self.plan.template_path}.",
            )
        mode = "dryRun=true: reports only, writes nothing" if settings.dry_run else "dryRun=false"
        exempt = len(settings.exempt_buckets)
        return Finding(
            OK,
            "settings",
            f"{self.template.function} in {self.template.region}: {mode};"
            f" {exempt} exempt bucket{'s' if exempt != 1 else ''}",
        )

    # 2. prepareRuleName -> active Config rules --------------------------------------------

    def check_rules(self) -> Iterator[Finding]:
        raw = self.template.environment.get(RULE_REFERENCES, "")
        references = Settings.from_env({RULE_REFERENCES: raw}).rule_references
        if not references:
            yield Finding(
                FAIL,
                "rule",
                f"{RULE_REFERENCES} is empty: the function ignores every message.",
                f"set vars.ruleName in {self.plan.template_path} to the rule's name or cr- id.",
            )
            return
        group = self._aggregator()
        try:
            rules = self._all_rules()
        except CheckError as exc:
            whose = f" of account group {group}" if group else ""
            action = "ListAggregateConfigRules" if group else "ListConfigRules"
            for reference in references:
                yield Finding(
                    FAIL,
                    "rule",
                    f"{reference_label(reference)}: cannot list Config rules{whose} on the"
                    f" {self.plan.site} site: {exc}.",
                    access_fix(exc, f"config:{action}", "--site"),
                )
            return
        for reference in references:
            finding = self._rule_finding(reference, rules)
            if group and finding.status == OK and reference.startswith("cr-"):
                finding = self._aggregate_rule_finding(group, reference, finding)
            yield finding

    def _aggregator(self) -> str | None:
        """configAggregatorId: the rules are the account group's, read with its calls."""
        return self.template.environment.get(CONFIG_AGGREGATOR_ID, "").strip() or None

    def _aggregate_rule_finding(self, group: str, rule_id: str, listed: Finding) -> Finding:
        """The second read the sweep makes of a group's rule (GetAggregateConfigRule: the
        managed rule it is built on, which picks the fix)."""
        try:
            answer = self._config.call(
                "GetAggregateConfigRule", {"AggregatorId": group, "ConfigRuleId": rule_id}
            )
        except CheckError as exc:
            return Finding(
                FAIL,
                "rule",
                f"{rule_id}: cannot read the rule of account group {group}: {exc}.",
                access_fix(exc, "config:GetAggregateConfigRule", "--site"),
            )
        source = as_mapping(as_mapping(answer.get("ConfigRule")).get("Source"))
        identifier = str(source.get("Identifier") or "no managed rule")
        return dataclasses.replace(listed, text=f"{listed.text}, built on {identifier}")

    def _rule_finding(self, reference: str, rules: Sequence[Mapping[str, Any]]) -> Finding:
        label = reference_label(reference)
        matches = [
            r
            for r in rules
            if reference
            in (r.get("ConfigRuleId"), r.get("ConfigRuleName"), r.get("SourceIdentifier"))
        ]
        if not matches:
            names = ", ".join(str(r.get("ConfigRuleName")) for r in rules[:_SHOWN]) or "none"
            more = f" and {len(rules) - _SHOWN} more" if len(rules) > _SHOWN else ""
            return Finding(
                FAIL,
                "rule",
                f"{label}: no Config rule on the {self.plan.site} site has this name, id or"
                f" managed identifier (rules there: {names}{more}).",
                "create the rule (managed rule oss-bucket-public-read-prohibited), or set"
                " vars.ruleName to an existing rule's name or cr- id; check --site.",
            )
        described = ", ".join(
            f"{r.get('ConfigRuleId')} {r.get('ConfigRuleState') or 'state unknown'}"
            for r in matches[:_SHOWN]
        )
        live = [r for r in matches if r.get("ConfigRuleState") in _LIVE_RULE_STATES]
        if not live:
            return Finding(
                FAIL,
                "rule",
                f"{label} -> {described}: none of them is active.",
                "enable the rule (Cloud Config console, Rules, Enable; or ActiveConfigRules).",
            )
        scoped = [r for r in live if covers_buckets(r.get("ResourceTypesScope"))]
        if not scoped:
            return Finding(
                FAIL,
                "rule",
                f"{label} -> {described}: its resource types do not include {BUCKET_TYPE}.",
                "select the OSS public-read rule: this function only acts on buckets.",
            )
        return Finding(OK, "rule", f"{label} -> {described}")

    def _all_rules(self) -> list[dict[str, Any]]:
        if self._rules is None:
            found: list[dict[str, Any]] = []
            group = self._aggregator()
            action = "ListAggregateConfigRules" if group else "ListConfigRules"
            scope = {"AggregatorId": group} if group else {}
            for page in range(1, _MAX_PAGES + 1):
                answer = self._config.call(
                    action, {**scope, "PageNumber": page, "PageSize": _PAGE_SIZE}
                )
                listing = as_mapping(answer.get("ConfigRules"))
                items = [i for i in as_list(listing.get("ConfigRuleList")) if isinstance(i, dict)]
                found += items
                if not items or page * _PAGE_SIZE >= as_int(listing.get("TotalCount")):
                    break
            self._rules = found
        return self._rules

    # 3. the topics exist -------------------------------------------------------------------

    def check_topics(self) -> Iterator[Finding]:
        region = self.topic.region
        topics = [("topic", self.topic.name, "the topic Cloud Config delivers to")]
        for variable in (FAILURE_TOPIC, REMEDIATION_TOPIC):
            name = self.template.environment.get(variable, "").strip()
            if name:
                topics.append((variable, name, f"the function publishes to it ({variable})"))
        for check, name, why in topics:
            if not name:
                yield Finding(
                    FAIL,
                    check,
                    "the template names no topic for the mns_topic trigger.",
                    f"set vars.topicName in {self.plan.template_path}.",
                )
                continue
            if self.account is None:
                yield Finding(SKIP, check, f"{name}: no account to look in (see `account`)")
                continue
            try:
                self._topic_exists(name, region)
            except CheckError as exc:
                if exc.code == "TopicNotExist":
                    fix = (
                        f"create topic {name} in {region} (SMQ/MNS console, Topics), or set"
                        f" vars.{'topicName' if check == 'topic' else check} to an existing one."
                    )
                    text = f"{name} does not exist in {region}, account {self.account}; {why}."
                else:
                    fix = access_fix(exc, "mns:GetTopicAttributes", "")
                    text = f"cannot look {name} up in {region}: {exc}."
                yield Finding(FAIL, check, text, fix)
                continue
            yield Finding(OK, check, f"{name} exists in {region}")

    def _topic_exists(self, name: str, region: str) -> None:
        assert self.account is not None
        endpoint = self.plan.mns_endpoint or mns_endpoint(self.account, region)
        get_topic_attributes(endpoint, self.plan.credentials, name)

    # 4. Cloud Config delivers non-compliance to that topic --------------------------------

    def check_delivery(self) -> Finding:
        topic, region = self.topic.name, self.topic.region
        if not topic:
            return Finding(SKIP, "delivery", "no topic named in the template (see `topic`)")
        if self.account is None:
            return Finding(SKIP, "delivery", "no account to build the topic's ARN (see `account`)")
        wanted = f"acs:mns:{region}:{self.account}:/topics/{topic}"
        fix_create = (
            f"Cloud Config console, Delivery: add an SMQ (MNS) channel to {wanted} with"
            " non-compliance events on (or CreateConfigDeliveryChannel)."
        )
        try:
            answer = self._config.call("ListConfigDeliveryChannels", {})
        except CheckError as exc:
            return Finding(
                FAIL,
                "delivery",
                f"cannot list Config's delivery channels: {exc}.",
                access_fix(exc, "config:ListConfigDeliveryChannels", "--site"),
            )
        channels = [c for c in as_list(answer.get("DeliveryChannels")) if isinstance(c, dict)]
        to_topic = [
            c
            for c in channels
            if str(c.get("DeliveryChannelType", "")).upper() == "MNS"
            and same_topic_arn(c.get("DeliveryChannelTargetArn"), wanted)
        ]
        if not to_topic:
            others = [
                str(c.get("DeliveryChannelTargetArn"))
                for c in channels
                if str(c.get("DeliveryChannelType", "")).upper() == "MNS"
            ]
            seen = f"MNS channels to: {', '.join(others[:_SHOWN])}" if others else "no MNS channel"
            return Finding(
                FAIL, "delivery", f"no delivery channel sends to {wanted} ({seen}).", fix_create
            )
        problems: list[tuple[str, str]] = []
        for channel in to_topic:
            problem = self._channel_problem(channel)
            if problem is None:
                return Finding(
                    OK,
                    "delivery",
                    f"channel {channel.get('DeliveryChannelId')} sends non-compliance to {topic}",
                )
            problems.append((f"{channel.get('DeliveryChannelId')} {problem[0]}", problem[1]))
        return Finding(
            FAIL,
            "delivery",
            f"the channel to {topic} will not deliver this rule's results:"
            f" {'; '.join(p for p, _ in problems)}.",
            f"in Cloud Config's Delivery settings, {problems[0][1]}.",
        )

    def _channel_problem(self, channel: Mapping[str, Any]) -> tuple[str, str] | None:
        """What stops the channel delivering the rule's bucket results, and the remedy."""
        if as_int(channel.get("Status"), default=1) != 1:
            return "is disabled (Status 0)", "enable the channel"
        if channel.get("NonCompliantNotification") is not True:
            return (
                "does not send non-compliance events (NonCompliantNotification false)",
                "edit the channel and tick non-compliance events",
            )
        return condition_problem(channel.get("DeliveryChannelCondition"), self._rule_risk())

    def _rule_risk(self) -> int | None:
        """The highest (numerically lowest) risk level of the selected rules, when known."""
        raw = self.template.environment.get(RULE_REFERENCES, "")
        references = set(Settings.from_env({RULE_REFERENCES: raw}).rule_references)
        levels = [
            as_int(r.get("RiskLevel"))
            for r in self._rules or []
            if references
            & {r.get("ConfigRuleId"), r.get("ConfigRuleName"), r.get("SourceIdentifier")}
        ]
        levels = [level for level in levels if level > 0]
        return min(levels) if levels else None
