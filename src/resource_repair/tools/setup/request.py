"""What ``resource-repair setup`` was asked to do: the options and the template, checked
before the first request (a mistake is exit code 2)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from urllib.parse import urlsplit

from resource_repair.credentials import Credentials
from resource_repair.endpoints import loopback_host_port
from resource_repair.errors import ConfigurationError, ResourceRepairError
from resource_repair.notify_settings import ENDPOINT_OVERRIDE, MAIL_SENDER, loopback_endpoint
from resource_repair.settings import Settings
from resource_repair.tools.doctor.plan import SITE_NAMES, event_topic
from resource_repair.tools.template import DEFAULT_TEMPLATE, FunctionTemplate, load_template

_MAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")


class SetupUsageError(ResourceRepairError):
    """Setup cannot start as asked (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class SetupRequest:
    template: FunctionTemplate
    template_path: str
    settings: Settings
    credentials: Credentials
    site: str
    topic: str
    """The delivery topic (the trigger's, else vars.topicName)."""
    apply: bool = False
    teardown: bool = False
    force: bool = False
    notify_email: str | None = None
    notify_url: str | None = None
    sts_endpoint: str | None = None
    config_endpoint: str | None = None
    ram_endpoint: str | None = None
    mns_endpoint: str | None = None
    """A fake SMQ on loopback (mnsEndpointOverride), else None: the account's own."""
    fc_endpoint: str | None = None
    """A fake FC API on loopback (``host:port``), else None: the account's endpoint."""
    config_remediation: str | None = None
    """``manual`` or ``auto``: register the event function as each rule's Config
    remediation (remediation.py); None: leave remediations alone."""

    @property
    def region(self) -> str:
        return self.template.region

    @property
    def aggregator_id(self) -> str | None:
        return self.settings.config_aggregator_id

    def topics(self) -> tuple[str, ...]:
        """The delivery topic, failureTopic and remediationTopic when set, each once."""
        notify = self.settings.notify
        names = (self.topic, notify.failure_topic, notify.remediation_topic)
        return tuple(dict.fromkeys(n for n in names if n))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``resource-repair setup``."""
    parser.add_argument(
        "-t", "--template", default=DEFAULT_TEMPLATE, help="the deployment's template"
    )
    parser.add_argument("--apply", action="store_true", help="do it; without it only reads")
    parser.add_argument(
        "--teardown",
        action="store_true",
        help="remove what setup created (only that); with --apply, really",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --teardown: remove a topic even when others subscribe to it",
    )
    parser.add_argument(
        "--notify-email",
        metavar="ADDRESS",
        help="subscribe this address to failureTopic (needs notifyMailSender)",
    )
    parser.add_argument(
        "--notify-url", metavar="URL", help="subscribe this webhook to failureTopic"
    )
    parser.add_argument(
        "--config-remediation",
        choices=("manual", "auto"),
        help="register the deployed event function as each rule's remediation in Cloud"
        " Config: run from Config's console per bucket (manual), or by Config (auto)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one of the function's variables over the template's (mnsEndpointOverride"
        " too); repeatable",
    )
    parser.add_argument(
        "--profile",
        help="a profile of the aliyun CLI's configuration (default: ALIBABA_CLOUD_ACCESS_KEY_*"
        " from the environment)",
    )
    parser.add_argument("--site", choices=SITE_NAMES, help=argparse.SUPPRESS)
    # Fakes on this machine (`resource-repair fake-cloud` prints them); loopback only.
    parser.add_argument("--sts-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--config-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--ram-endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--fc-endpoint", help=argparse.SUPPRESS)


def request_from_args(args: argparse.Namespace) -> SetupRequest:
    from resource_repair.config_api import site_for_region
    from resource_repair.tools.cloud_credentials import tool_credentials

    template = load_template(args.template, accept_fc3=True)  # TemplateError: exit 2
    # --env, as the command line parsed and checked it (tools/commands/options.env_overrides).
    environment = {**template.environment, **getattr(args, "overrides", {})}
    try:
        settings = Settings.from_env(environment)
        mns = loopback_endpoint(
            environment.get(ENDPOINT_OVERRIDE) or os.environ.get(ENDPOINT_OVERRIDE, "")
        )
    except ConfigurationError as exc:
        raise SetupUsageError(f"{args.template}: {exc}") from None
    topic = event_topic(template).name if template.fc_version == 2 else ""
    topic = topic or str(template.variables.get("topicName") or "")
    if not topic:
        raise SetupUsageError(f"{args.template} names no delivery topic (vars.topicName)")
    if args.notify_email is not None:
        if not _MAIL.fullmatch(args.notify_email):
            raise SetupUsageError(f"--notify-email {args.notify_email[:80]!r} is not an address")
        if settings.notify.mail_sender is None:
            raise SetupUsageError(
                f"--notify-email needs {MAIL_SENDER} in {args.template}: SMQ pushes mail only"
                " with a verified DirectMail sender"
            )
    if args.notify_url is not None:
        parts = urlsplit(args.notify_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SetupUsageError(f"--notify-url {args.notify_url[:80]!r} is not an http(s) URL")
    if (args.notify_email or args.notify_url) and not settings.notify.failure_topic:
        raise SetupUsageError(
            f"--notify-email and --notify-url need failureTopic in {args.template}"
        )
    if args.apply:
        _check_record_writable(args.template)
    if args.force and not args.teardown:
        raise SetupUsageError("--force goes with --teardown")
    mode = getattr(args, "config_remediation", None)
    if mode and args.teardown:
        raise SetupUsageError(
            "--teardown takes no --config-remediation (it removes the remediations setup"
            " registered)"
        )
    if mode == "auto" and settings.dry_run:
        raise SetupUsageError(
            f"--config-remediation auto with dryRun on in {args.template}: Config would run"
            " the function for every reported bucket and nothing would change. Use manual,"
            " or set dryRun to false once the reported buckets are checked"
        )
    if args.teardown and (args.notify_email or args.notify_url):
        raise SetupUsageError("--teardown takes no --notify-email or --notify-url")
    site = args.site or environment.get("configSite") or site_for_region(template.region)
    if site not in SITE_NAMES:
        raise SetupUsageError(f"configSite={site!r} is not one of {', '.join(SITE_NAMES)}")
    # Checked before the first request (EndpointOptionError is a usage error: exit 2).
    endpoints = {
        name: loopback_host_port(getattr(args, f"{name}_endpoint", None), f"--{name}-endpoint")
        for name in ("sts", "config", "ram", "fc")
    }
    return SetupRequest(
        template=template,
        template_path=str(args.template),
        settings=settings,
        credentials=tool_credentials(args.profile, sts_endpoint=endpoints["sts"]),
        site=site,
        topic=topic,
        apply=bool(args.apply),
        teardown=bool(args.teardown),
        force=bool(args.force),
        notify_email=args.notify_email,
        notify_url=args.notify_url,
        sts_endpoint=endpoints["sts"],
        config_endpoint=endpoints["config"],
        ram_endpoint=endpoints["ram"],
        fc_endpoint=endpoints["fc"],
        mns_endpoint=mns,
        config_remediation=mode,
    )


def _check_record_writable(template_path: str) -> None:
    """Setup records the topics it creates beside the template (marks.py); a record it
    could not write would leave a topic no teardown removes, so this is checked first."""
    from resource_repair.tools.setup.marks import record_path

    path = record_path(template_path)
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise SetupUsageError(
            f"{path} is not writable: setup records there what it creates"
            " (docs/deploying.md, setup)"
        )
