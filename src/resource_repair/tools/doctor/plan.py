"""What ``resource-repair doctor`` was asked to check: the options, validated before the
first request, and what the checks read from the template."""

from __future__ import annotations

import argparse
import dataclasses

from resource_repair.credentials import Credentials
from resource_repair.endpoints import loopback_host_port, loopback_url
from resource_repair.errors import ResourceRepairError
from resource_repair.tools.doctor.answers import as_list, as_mapping
from resource_repair.tools.template import FunctionTemplate, load_template

# resource_repair.config_api.SITES's names (a test keeps them equal): importing that module
# loads aliyunsdkcore, which the command line should not pay for to build its parser.
SITE_NAMES = ("china", "international")


class DoctorUsageError(ResourceRepairError):
    """The check cannot start as asked (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class CompanionFunction:
    """Another function of the template in the event function's service (the sweep), and
    the names of its triggers."""

    name: str
    triggers: tuple[str, ...]
    handler: str = ""
    timeout: int = 60
    """The fc component's default when the template sets none."""
    environment: tuple[tuple[str, str], ...] = ()


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


def plan_from_args(args: argparse.Namespace) -> Plan:
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
    mns = loopback_url(getattr(args, "mns_endpoint", None), "--mns-endpoint")
    sts = loopback_host_port(getattr(args, "sts_endpoint", None), "--sts-endpoint")
    config = loopback_host_port(getattr(args, "config_endpoint", None), "--config-endpoint")
    return Plan(
        template=template,
        template_path=str(args.template),
        credentials=tool_credentials(getattr(args, "profile", None), sts_endpoint=sts),
        account_id=account,
        site=site,
        skip_deployed=bool(getattr(args, "skip_deployed", False)),
        sts_endpoint=sts,
        config_endpoint=config,
        mns_endpoint=mns,
        companions=companions,
    )


# -- the template's trigger -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TopicTrigger:
    trigger: str
    name: str
    region: str


def event_topic(template: FunctionTemplate) -> TopicTrigger:
    """The mns_topic trigger's name, topic and region; vars.topicName when it has none."""
    for trigger in as_list(template.props.get("triggers")):
        if isinstance(trigger, dict) and trigger.get("type") == "mns_topic":
            config = as_mapping(trigger.get("config"))
            return TopicTrigger(
                str(trigger.get("name") or ""),
                str(config.get("topicName") or template.variables.get("topicName") or ""),
                str(config.get("region") or template.region),
            )
    return TopicTrigger("", str(template.variables.get("topicName") or ""), template.region)


def _companions(path: str, template: FunctionTemplate) -> tuple[CompanionFunction, ...]:
    """The template's other ``fc`` functions in the same service (``load_template`` reads
    only the event function); nothing when the template has none."""
    from resource_repair.tools.template import read_document, resolve_variables

    try:
        document = read_document(path)
        variables = as_mapping(document.get("vars"))
        services = as_mapping(document.get("services"))
        found: list[CompanionFunction] = []
        for entry in services.values():
            if not isinstance(entry, dict) or entry.get("component") != "fc":
                continue
            props = as_mapping(resolve_variables(entry.get("props"), dict(variables)))
            name = str(as_mapping(props.get("function")).get("name") or "")
            service = str(as_mapping(props.get("service")).get("name") or "")
            if not name or name == template.function or service != template.service:
                continue
            triggers = tuple(
                str(t.get("name"))
                for t in as_list(props.get("triggers"))
                if isinstance(t, dict) and t.get("name")
            )
            function = as_mapping(props.get("function"))
            environment = as_mapping(function.get("environmentVariables"))
            found.append(
                CompanionFunction(
                    name,
                    triggers,
                    handler=str(function.get("handler") or ""),
                    timeout=int(function.get("timeout", 60)),
                    environment=tuple((str(k), str(v)) for k, v in environment.items()),
                )
            )
        return tuple(found)
    except (OSError, ValueError, TypeError, AttributeError, OverflowError):
        return ()  # load_template read it already; the event function's checks still run


def companion_check(companion: CompanionFunction) -> str:
    """The check's name: ``sweep`` for the sweep function, else the function's name."""
    return "sweep" if "sweep" in companion.name else companion.name
