"""``resource-repair doctor``: check, with the caller's own credentials, that everything the
function depends on is in place before Cloud Config's delivery is switched on.

Each check prints one line, ``ok``, ``FAIL`` or ``skip``, with what it found and, when it
fails, what to do. A check that needs what an earlier one could not establish (the account,
the deployed service) is skipped with the reason. Nothing is changed anywhere: every call
is a read (STS GetCallerIdentity, Config ListConfigRules / ListConfigDeliveryChannels, MNS
GetTopicAttributes, FC GetService / GetFunction / GetTrigger, RAM ListPoliciesForRole /
GetPolicy / GetPolicyVersion).

RPC APIs go through aliyunsdkcore, FC through aliyun-fc2, MNS through aliyun-mns-sdk. A
failure to reach a service or a refusal is that check's one line, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fnmatch
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from resource_repair.credentials import Credentials
from resource_repair.errors import ConfigurationError, ResourceRepairError
from resource_repair.notify import (
    FAILURE_TOPIC,
    REMEDIATION_TOPIC,
    NotifySettings,
    loopback_endpoint,
    mns_endpoint,
)
from resource_repair.redaction import protect_logs
from resource_repair.remediator import AclRemediator
from resource_repair.rpc import CONNECT_TIMEOUT, READ_TIMEOUT, acs_client, network_reason
from resource_repair.settings import RULE_REFERENCES, Settings
from resource_repair.tools.caller import caller_identity
from resource_repair.tools.template import FunctionTemplate, load_template

OK, FAIL, SKIP = "ok", "FAIL", "skip"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_TEMPLATE = "template.yml"
# resource_repair.config_api.SITES's names (a test keeps them equal): importing that module
# loads aliyunsdkcore, which the command line should not pay for to build its parser.
SITE_NAMES = ("china", "international")

CONFIG_VERSION = "2020-09-07"
RAM_VERSION = "2015-05-01"
RAM_DOMAIN = "ram.aliyuncs.com"
# Config reports a rule that is switched on as ACTIVE, or EVALUATING while it runs.
_LIVE_RULE_STATES = frozenset({"ACTIVE", "EVALUATING"})
_BUCKET_TYPE = "ACS::OSS::Bucket"
# The notifier publishes with this action when failureTopic or remediationTopic is set
# (resource_repair.notify declares no constant for it).
_PUBLISH_ACTION = "mns:PublishMessage"
# Bounds on what one check reads: far above any real account, and every loop ends.
_MAX_PAGES = 50
_PAGE_SIZE = 100
_MAX_POLICIES = 50
_MNS_SECONDS = 10.0
_TEXT_CHARS = 240
_SHOWN = 5


class DoctorUsageError(ResourceRepairError):
    """The check cannot start as asked (exit code 2)."""


class CheckError(ResourceRepairError):
    """A service refused a request or could not be reached: the check's one line says why."""

    def __init__(self, text: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(text)
        self.code = code
        self.status = status


@dataclasses.dataclass(frozen=True)
class Finding:
    status: str
    check: str
    text: str
    fix: str = ""

    def line(self) -> str:
        tail = f" Fix: {self.fix}" if self.status == FAIL and self.fix else ""
        return f"{self.status:<4}  {self.check:<17} {self.text}{tail}"


# -- the command line -----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``resource-repair doctor``."""
    parser.add_argument(
        "-t",
        "--template",
        default=DEFAULT_TEMPLATE,
        help="the template to check the cloud against (default: %(default)s)",
    )
    parser.add_argument(
        "--account-id",
        help="your account's UID (default: yours, from STS GetCallerIdentity)",
    )
    parser.add_argument(
        "--profile",
        help="a profile of the aliyun CLI's configuration (default: ALIBABA_CLOUD_ACCESS_KEY_*"
        " from the environment)",
    )
    parser.add_argument(
        "--site",
        choices=SITE_NAMES,
        help="the Cloud Config site of your account (default: the template's configSite, else"
        " from its region: cn-* -> china, others -> international)",
    )
    parser.add_argument(
        "--skip-deployed",
        action="store_true",
        help="skip the checks of the deployed function, trigger and role (before `s deploy`)",
    )
    # Fakes on this machine, for tests and demos; loopback only (requests carry signatures).
    parser.add_argument("--sts-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--config-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--mns-endpoint", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run every check; 0 when none failed, 1 when one did, 2 when they could not start."""
    try:
        plan = _plan(args)
    except ResourceRepairError as exc:
        print(f"resource-repair: error: {exc}", file=err)
        return EXIT_USAGE
    _quiet_sdk_logs()
    findings = Doctor(plan).findings()
    redactor = protect_logs(plan.credentials.secrets)
    counts = {OK: 0, FAIL: 0, SKIP: 0}
    for finding in findings:  # a generator: each line shows as soon as its check is done
        counts[finding.status] += 1
        print(redactor.redact(finding.line()), file=out, flush=True)
    total = sum(counts.values())
    if counts[FAIL]:
        print(
            f"{counts[FAIL]} of {total} checks failed, {counts[SKIP]} skipped: fix the FAIL lines"
            " before switching delivery on",
            file=err,
        )
        return EXIT_FAILED
    skipped = f" ({counts[SKIP]} skipped)" if counts[SKIP] else ""
    print(f"all {counts[OK]} checks passed{skipped}", file=err)
    return EXIT_OK


def _quiet_sdk_logs() -> None:
    """aliyunsdkcore logs each failed request at ERROR, with its whole query string (key id,
    signature, security token); the check's own line says what failed. Importing
    resource_repair.config_api sets that logger back to INFO, after the command line set it,
    so it is set again here, once that module is loaded: silent unless DEBUG was asked for."""
    debug = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("aliyunsdkcore").setLevel(logging.NOTSET if debug else logging.CRITICAL)


@dataclasses.dataclass(frozen=True)
class CompanionFunction:
    """Another function of the template in the event function's service (the sweep), and
    the names of its triggers."""

    name: str
    triggers: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Plan:
    template: FunctionTemplate
    template_path: str
    credentials: Credentials
    account_id: str | None
    site: str
    skip_deployed: bool = False
    sts_endpoint: str | None = None
    config_endpoint: str | None = None
    mns_endpoint: str | None = None
    companions: tuple[CompanionFunction, ...] = ()


def _plan(args: argparse.Namespace) -> Plan:
    """Everything the user typed, checked before the first request."""
    from resource_repair.config_api import SITES, site_for_region
    from resource_repair.tools.cloud_credentials import tool_credentials

    account = getattr(args, "account_id", None)
    if account is not None and not (account.isascii() and account.isdigit()):
        raise DoctorUsageError(f"--account-id {account!r} must be digits (an account's UID)")
    template = load_template(args.template)  # TemplateError is a ResourceRepairError
    companions = _companions(args.template, template)
    site = args.site or template.environment.get("configSite") or site_for_region(template.region)
    if site not in SITES:
        raise DoctorUsageError(
            f"configSite={site!r} in {args.template} is not one of {', '.join(SITE_NAMES)}"
        )
    try:
        mns = loopback_endpoint(getattr(args, "mns_endpoint", None) or "")
    except ConfigurationError as exc:
        raise DoctorUsageError(str(exc)) from None
    return Plan(
        template=template,
        template_path=str(args.template),
        credentials=tool_credentials(getattr(args, "profile", None)),
        account_id=account,
        site=site,
        skip_deployed=bool(getattr(args, "skip_deployed", False)),
        sts_endpoint=_loopback_host(getattr(args, "sts_endpoint", None), "--sts-endpoint"),
        config_endpoint=_loopback_host(getattr(args, "config_endpoint", None), "--config-endpoint"),
        mns_endpoint=mns,
        companions=companions,
    )


def _loopback_host(value: str | None, option: str) -> str | None:
    """``127.0.0.1:port`` (what aliyunsdkcore takes as a domain), loopback only."""
    if not value:
        return None
    parts = urlsplit(f"http://{value}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or not port or parts.path:
        raise DoctorUsageError(f"{option} {value!r} must be 127.0.0.1:PORT (a local fake)")
    return value


# -- the checks -----------------------------------------------------------------------------


class Doctor:
    def __init__(self, plan: Plan) -> None:
        from resource_repair.config_api import SITES

        self.plan = plan
        self.template = plan.template
        self.account: str | None = None
        self.topic = _event_topic(plan.template)
        self._config = _Rpc(
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
                        f"the check itself failed: {type(exc).__name__}: {_short(str(exc))}.",
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
                f"cannot tell whose credentials these are: {_short(str(exc))}.",
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
                f"the function would refuse its settings: {_short(str(exc))}.",
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
        try:
            rules = self._all_rules()
        except CheckError as exc:
            for reference in references:
                yield Finding(
                    FAIL,
                    "rule",
                    f"{_label(reference)}: cannot list Config rules on the {self.plan.site}"
                    f" site: {exc}.",
                    _access_fix(exc, "config:ListConfigRules", "--site"),
                )
            return
        for reference in references:
            yield self._rule_finding(reference, rules)

    def _rule_finding(self, reference: str, rules: Sequence[Mapping[str, Any]]) -> Finding:
        label = _label(reference)
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
        scoped = [r for r in live if _covers_buckets(r.get("ResourceTypesScope"))]
        if not scoped:
            return Finding(
                FAIL,
                "rule",
                f"{label} -> {described}: its resource types do not include {_BUCKET_TYPE}.",
                "select the OSS public-read rule: this function only acts on buckets.",
            )
        return Finding(OK, "rule", f"{label} -> {described}")

    def _all_rules(self) -> list[dict[str, Any]]:
        if self._rules is None:
            found: list[dict[str, Any]] = []
            for page in range(1, _MAX_PAGES + 1):
                answer = self._config.call(
                    "ListConfigRules", {"PageNumber": page, "PageSize": _PAGE_SIZE}
                )
                listing = _mapping(answer.get("ConfigRules"))
                items = [i for i in _sequence(listing.get("ConfigRuleList")) if isinstance(i, dict)]
                found += items
                if not items or page * _PAGE_SIZE >= _int(listing.get("TotalCount")):
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
                    fix = _access_fix(exc, "mns:GetTopicAttributes", "")
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
                _access_fix(exc, "config:ListConfigDeliveryChannels", "--site"),
            )
        channels = [c for c in _sequence(answer.get("DeliveryChannels")) if isinstance(c, dict)]
        to_topic = [
            c
            for c in channels
            if str(c.get("DeliveryChannelType", "")).upper() == "MNS"
            and _same_topic_arn(c.get("DeliveryChannelTargetArn"), wanted)
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
        if _int(channel.get("Status"), default=1) != 1:
            return "is disabled (Status 0)", "enable the channel"
        if channel.get("NonCompliantNotification") is not True:
            return (
                "does not send non-compliance events (NonCompliantNotification false)",
                "edit the channel and tick non-compliance events",
            )
        return _condition_problem(channel.get("DeliveryChannelCondition"), self._rule_risk())

    def _rule_risk(self) -> int | None:
        """The highest (numerically lowest) risk level of the selected rules, when known."""
        raw = self.template.environment.get(RULE_REFERENCES, "")
        references = set(Settings.from_env({RULE_REFERENCES: raw}).rule_references)
        levels = [
            _int(r.get("RiskLevel"))
            for r in self._rules or []
            if references
            & {r.get("ConfigRuleId"), r.get("ConfigRuleName"), r.get("SourceIdentifier")}
        ]
        levels = [level for level in levels if level > 0]
        return min(levels) if levels else None

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
        fc = _Fc(self.plan.credentials, self.account, self.template.region)
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
                deploy_fix if missing else _access_fix(exc, "fc:GetService", ""),
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
                deploy_fix if missing else _access_fix(exc, "fc:GetFunction", ""),
            )
        if function_ok:
            yield self._trigger_finding(fc, service_name, function_name)
        else:
            yield Finding(SKIP, "trigger", f"function {function_name} could not be read")
        yield self._role_finding(role_arn)
        for companion in self.plan.companions:
            yield self._companion_finding(fc, service_name, companion)

    def _companion_checks(self) -> list[str]:
        return [_companion_check(c) for c in self.plan.companions]

    def _companion_finding(
        self, fc: _Fc, service_name: str, companion: CompanionFunction
    ) -> Finding:
        """The template's other function (the sweep) and its triggers, deployed."""
        check = _companion_check(companion)
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
                _access_fix(exc, "fc:GetFunction and fc:GetTrigger", ""),
            )
        triggers = ", ".join(companion.triggers) or "no trigger"
        return Finding(OK, check, f"{companion.name} with {triggers}")

    def _trigger_finding(self, fc: _Fc, service_name: str, function_name: str) -> Finding:
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
                else _access_fix(exc, "fc:GetTrigger", ""),
            )
        kind = str(trigger.get("triggerType", ""))
        source = str(trigger.get("sourceArn", ""))
        wanted = f"acs:mns:{self.topic.region}:{self.account}:/topics/{self.topic.name}"
        if kind != "mns_topic" or not _same_topic_arn(source, wanted):
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
                _access_fix(exc, "ram:ListPoliciesForRole and ram:GetPolicy", ""),
            )
        missing = [
            action
            for action in required
            if not grants(
                [s for _, doc in policies for s in _statements(doc)], action, self.account
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
        ram = _Rpc(self.plan.credentials, RAM_DOMAIN, RAM_VERSION, "cn-hangzhou")
        listing = ram.call("ListPoliciesForRole", {"RoleName": role})
        attached = [
            p
            for p in _sequence(_mapping(listing.get("Policies")).get("Policy"))
            if isinstance(p, dict)
        ][:_MAX_POLICIES]
        documents: list[tuple[str, Any]] = []
        for policy in attached:
            name, kind = str(policy.get("PolicyName", "")), str(policy.get("PolicyType", ""))
            answer = ram.call("GetPolicy", {"PolicyName": name, "PolicyType": kind})
            text = _mapping(answer.get("DefaultPolicyVersion")).get("PolicyDocument")
            if not text:
                version = (
                    _mapping(answer.get("Policy")).get("DefaultVersion")
                    or policy.get("DefaultVersion")
                    or "v1"
                )
                answer = ram.call(
                    "GetPolicyVersion",
                    {"PolicyName": name, "PolicyType": kind, "VersionId": str(version)},
                )
                text = _mapping(answer.get("PolicyVersion")).get("PolicyDocument")
            documents.append((name, _parse_document(text)))
        return documents


# -- what the function needs from its role --------------------------------------------------


def required_actions(environment: Mapping[str, str]) -> tuple[str, ...]:
    """The actions the deployed code calls with its role, as the code declares them: the
    OSS calls of the remediations these settings use, the sweep's Config reads, and
    publishing when a notification topic is set."""
    from resource_repair.config_api import SWEEP_PERMISSIONS
    from resource_repair.remediators.registry import required_actions as oss_actions

    try:
        oss = sorted(oss_actions(Settings.from_env(environment)))
    except ConfigurationError:  # the settings check reports it; ask for the default fix's
        oss = list(AclRemediator.PERMISSIONS)
    actions = [*oss, *SWEEP_PERMISSIONS]
    if any(environment.get(v, "").strip() for v in (FAILURE_TOPIC, REMEDIATION_TOPIC)):
        actions.append(_PUBLISH_ACTION)
    return tuple(dict.fromkeys(actions))


def grants(statements: Sequence[Mapping[str, Any]], action: str, account: str | None) -> bool:
    """Whether RAM statements allow ``action`` on some resource of ``account``: an Allow
    that names it (wildcards too) on a resource of that account, and no Deny that names it.
    Conditions are not evaluated (a policy with conditions may still be narrower)."""
    allowed = False
    for statement in statements:
        effect = str(statement.get("Effect", "")).lower()
        if not _names_action(statement, action):
            continue
        if effect == "deny" and _resource_wildcard(statement):
            return False
        if effect == "allow" and _on_account(statement.get("Resource"), account):
            allowed = True
    return allowed


def _names_action(statement: Mapping[str, Any], action: str) -> bool:
    wanted = action.lower()
    if "NotAction" in statement:
        return not any(
            fnmatch.fnmatchcase(wanted, p.lower()) for p in _strings(statement["NotAction"])
        )
    return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in _strings(statement.get("Action")))


def _resource_wildcard(statement: Mapping[str, Any]) -> bool:
    return any(r == "*" or r.endswith(":*") for r in _strings(statement.get("Resource")))


def _on_account(resources: Any, account: str | None) -> bool:
    """A resource ARN ``acs:<service>:<region>:<account>:<path>`` in the caller's account
    (or any account): a policy copied from another account covers none of ours."""
    for resource in _strings(resources):
        if resource == "*":
            return True
        fields = resource.split(":", 4)
        owner = fields[3] if len(fields) > 3 else "*"
        if owner in ("*", "") or owner == account:
            return True
    return False


def _statements(document: Any) -> list[Mapping[str, Any]]:
    statements = _mapping(document).get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in _sequence(statements) if isinstance(s, dict)]


def _parse_document(text: Any) -> Any:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(str(text or "{}"))
    except ValueError:
        return {}


# -- Config's delivery channel condition ------------------------------------------------------


def _condition_problem(condition: Any, risk: int | None) -> tuple[str, str] | None:
    """Why the channel's filter (``DeliveryChannelCondition``, a JSON list of
    ``{filterType, value|values}``) would drop the rule's bucket results, and the remedy."""
    if not condition:
        return None
    try:
        filters = json.loads(str(condition))
    except ValueError:
        return None  # not ours to judge; Config accepted it
    for item in _sequence(filters):
        if not isinstance(item, dict):
            continue
        kind = item.get("filterType")
        if kind == "ResourceType":
            values = _strings(item.get("values"))
            if values and _BUCKET_TYPE not in values:
                return (
                    f"filters to resource types that exclude {_BUCKET_TYPE}",
                    f"add {_BUCKET_TYPE} to the channel's resource types",
                )
        elif kind == "RuleRiskLevel" and risk is not None:
            floor = _int(item.get("value"))
            if floor and risk > floor:
                return (
                    f"passes only risk levels 1..{floor} (1 = high); the rule's is {risk}",
                    f"lower the channel's minimum risk level to {risk}, or raise the rule's",
                )
    return None


def _same_topic_arn(found: Any, wanted: str) -> bool:
    """MNS topic ARNs as Config and FC write them; Config's may end in ``/messages``."""
    text = str(found or "").strip().rstrip("/")
    return text.removesuffix("/messages") == wanted


def _covers_buckets(scope: Any) -> bool:
    types = [t.strip() for t in str(scope or "").split(",") if t.strip()]
    return not types or _BUCKET_TYPE in types


# -- the template's trigger -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _TopicTrigger:
    trigger: str
    name: str
    region: str


def _event_topic(template: FunctionTemplate) -> _TopicTrigger:
    """The mns_topic trigger's name, topic and region; vars.topicName when it has none."""
    for trigger in _sequence(template.props.get("triggers")):
        if isinstance(trigger, dict) and trigger.get("type") == "mns_topic":
            config = _mapping(trigger.get("config"))
            return _TopicTrigger(
                str(trigger.get("name") or ""),
                str(config.get("topicName") or template.variables.get("topicName") or ""),
                str(config.get("region") or template.region),
            )
    return _TopicTrigger("", str(template.variables.get("topicName") or ""), template.region)


def _companions(path: str, template: FunctionTemplate) -> tuple[CompanionFunction, ...]:
    """The template's other ``fc`` functions in the same service (``load_template`` reads
    only the event function); nothing when the template has none."""
    import yaml

    from resource_repair.tools.template import resolve_variables

    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        variables = _mapping(document.get("vars"))
        services = _mapping(document.get("services"))
        found: list[CompanionFunction] = []
        for entry in services.values():
            if not isinstance(entry, dict) or entry.get("component") != "fc":
                continue
            props = _mapping(resolve_variables(entry.get("props"), dict(variables)))
            name = str(_mapping(props.get("function")).get("name") or "")
            service = str(_mapping(props.get("service")).get("name") or "")
            if not name or name == template.function or service != template.service:
                continue
            triggers = tuple(
                str(t.get("name"))
                for t in _sequence(props.get("triggers"))
                if isinstance(t, dict) and t.get("name")
            )
            found.append(CompanionFunction(name, triggers))
        return tuple(found)
    except (OSError, ValueError, AttributeError, yaml.YAMLError):
        return ()  # load_template read it already; the event function's checks still run


def _trigger_reader(service: str, function: str, trigger: str) -> Callable[[Any], Any]:
    return lambda client: client.get_trigger(service, function, trigger)


def _companion_check(companion: CompanionFunction) -> str:
    """The check's name: ``sweep`` for the sweep function, else the function's name."""
    return "sweep" if "sweep" in companion.name else companion.name


# -- transports -----------------------------------------------------------------------------


class _Rpc:
    """One RPC-style product through aliyunsdkcore: POST over HTTPS, no SDK retries, short
    timeouts, answers as dicts, every failure as one CheckError line."""

    def __init__(
        self,
        credentials: Credentials,
        domain: str,
        version: str,
        region: str,
        *,
        plain_http: bool = False,
    ) -> None:
        self._client = acs_client(credentials, region)
        self._domain = domain
        self._version = version
        self._protocol = "http" if plain_http else "https"  # the SDK defaults to plain HTTP

    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
        from aliyunsdkcore.request import CommonRequest

        request = CommonRequest(domain=self._domain, version=self._version, action_name=action)
        request.set_protocol_type(self._protocol)
        request.set_method("POST")
        for key, value in params.items():
            request.add_query_param(key, str(value))
        try:
            body = self._client.do_action_with_exception(request)
        except ServerException as exc:
            code = str(exc.get_error_code())
            raise CheckError(
                f"{action}: {code} (HTTP {exc.get_http_status()}, request"
                f" {exc.get_request_id()}) {_service_message(exc.get_error_msg())}",
                code=code,
                status=int(exc.get_http_status() or 0),
            ) from None
        except ClientException as exc:
            if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
                raise CheckError(
                    f"cannot reach {self._domain}: {network_reason(exc.get_error_msg())}",
                    code="network",
                ) from None
            raise CheckError(
                f"{action}: {exc.get_error_code()} {_short(exc.get_error_msg())}"
            ) from None
        try:
            document = json.loads(body)
        except ValueError:
            raise CheckError(
                f"{action}: {self._domain} answered something that is not JSON"
            ) from None
        return document if isinstance(document, dict) else {}


class _Fc:
    """FC 2.0's API through aliyun-fc2, with a short connect timeout and one retry."""

    def __init__(self, credentials: Credentials, account: str, region: str) -> None:
        import fc2

        from resource_repair.tools.remote import fc_endpoint

        protect_logs(credentials.secrets)  # fc2 logs request headers on the root logger
        self._endpoint = fc_endpoint(account, region)
        self._client = fc2.Client(
            endpoint=self._endpoint,
            accessKeyID=credentials.access_key_id,
            accessKeySecret=credentials.access_key_secret,
            securityToken=credentials.security_token,  # '' for long-term keys; None crashes
            Timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )

    def call(self, operation: str, send: Callable[[Any], Any]) -> dict[str, Any]:
        import fc2
        import requests

        from resource_repair.tools.remote import _few_connection_retries

        try:
            with _few_connection_retries(fc2), _without_fc2_error_logs():
                response = send(self._client)
        except fc2.fc_exceptions.FcError as exc:
            raise CheckError(
                f"{operation}: HTTP {exc.status_code} {exc.err_code} (request {exc.request_id})",
                code=str(exc.err_code or ""),
                status=int(exc.status_code or 0),
            ) from None
        except ValueError:  # fc2's way of saying a reply was not JSON
            raise CheckError(
                f"{operation}: the FC API answered something that is not JSON"
            ) from None
        except requests.exceptions.RequestException as exc:
            host = urlsplit(self._endpoint).hostname
            raise CheckError(
                f"cannot reach {host}: {network_reason(str(exc))}", code="network"
            ) from None
        data = getattr(response, "data", None)
        return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def _without_fc2_error_logs() -> Iterator[None]:
    """fc2 logs every 4xx at ERROR on the root logger, request headers and all, over
    several lines; a missing function is a finding here, said in the check's own line."""

    def not_fc2(record: logging.LogRecord) -> bool:
        return "fc2" not in Path(record.pathname).parts

    root = logging.getLogger()
    root.addFilter(not_fc2)
    try:
        yield
    finally:
        root.removeFilter(not_fc2)


def get_topic_attributes(endpoint: str, credentials: Credentials, topic: str) -> dict[str, Any]:
    """MNS GetTopicAttributes through aliyun-mns-sdk, bounded in time whatever the server
    does. CheckError with ``code`` ``TopicNotExist`` when there is no such topic."""
    from resource_repair.notify import _abort, _sdk

    protect_logs(credentials.secrets)
    try:
        account_module, _ = _sdk()  # refuses an old SDK that prints credentials
    except ResourceRepairError as exc:
        raise CheckError(str(exc)) from None
    account = account_module.Account(
        endpoint,
        credentials.access_key_id,
        credentials.access_key_secret,
        credentials.security_token,
    )
    client = account.mns_client
    client.set_keep_alive(False)
    client.set_connection_timeout(_MNS_SECONDS)
    client.http.conn.timeout = _MNS_SECONDS
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            meta = account.get_topic(topic).get_attributes()
            outcome["attributes"] = {"name": meta.topic_name, "messages": meta.message_count}
        except Exception as exc:  # handed to the caller's thread, translated there
            outcome["error"] = exc

    worker = threading.Thread(target=ask, name="doctor-mns", daemon=True)
    worker.start()
    worker.join(_MNS_SECONDS + 1)
    host = urlsplit(endpoint).hostname
    if worker.is_alive():
        _abort(client.http.conn)
        raise CheckError(f"cannot reach {host}: no answer in time", code="network")
    error = outcome.get("error")
    if error is None:
        return dict(outcome.get("attributes") or {})
    kind, code = type(error).__name__, str(getattr(error, "type", "") or "")
    request_id = getattr(error, "req_id", None) or getattr(error, "request_id", None)
    if kind == "MNSServerException":
        raise CheckError(f"GetTopicAttributes: {code} (request {request_id})", code=code) from None
    if kind == "MNSClientNetworkException" or isinstance(error, OSError):
        reason = network_reason(str(getattr(error, "message", "") or error))
        raise CheckError(f"cannot reach {host}: {reason}", code="network") from None
    raise CheckError(f"GetTopicAttributes: {kind} {code}") from None


# -- small helpers --------------------------------------------------------------------------


def _access_fix(exc: CheckError, action: str, site_option: str) -> str:
    """What to do about a refused or failed read, by what the failure says."""
    code = exc.code.lower()
    if exc.code == "network":
        return "check the network (or a proxy) and run again."
    if "accesskey" in code or "signature" in code or "token" in code:
        return "check the access key and secret (or --profile); they were refused."
    if exc.status == 403 or "forbidden" in code or "denied" in code or "nopermission" in code:
        return f"give the caller {action} (read-only), or run as an account administrator."
    if site_option:
        return f"run again later; if your account is on the other Config site, pass {site_option}."
    return "run again later."


_SIGNATURE_ECHO = re.compile(r"(?is)server string to sign.*$")


def _service_message(text: Any) -> str:
    """A service's error message, bounded; the RPC signature error echoes the request's
    string to sign (key id and token included): that part is cut off."""
    return _short(_SIGNATURE_ECHO.sub("", str(text or "")).strip())


def _short(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _TEXT_CHARS else line[: _TEXT_CHARS - 3] + "..."


def _label(reference: str) -> str:
    return reference if len(reference) <= 40 else reference[:37] + "..."


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in _sequence(value) if isinstance(v, str)]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


__all__ = [
    "CheckError",
    "Doctor",
    "Finding",
    "add_arguments",
    "get_topic_attributes",
    "grants",
    "required_actions",
    "run",
]
