"""``resource-repair sweep``: run the sweep (``index.sweep``) once, here, with the explicit
``{"sweep": "run"}`` request, and print its JSON result.

Against the fakes by default: a fake Config holding the rules ``prepareRuleName`` selects
and a fake OSS holding the ``--bucket``s, served on loopback for the length of the run
(every public bucket is a NON_COMPLIANT result of each rule, as ``fake-cloud`` evaluates),
or a running ``fake-cloud`` when ``configEndpointOverride`` names its Config
(``$FAKE_CONFIG``, with ``ossEndpointOverride`` its OSS). Against the real cloud
with ``--oss real``, the opt-in ``invoke`` uses: your own keys, Config's and OSS's public
endpoints.

A dry run unless ``--apply``; with it a dry sweep first counts the buckets that would
change, and nothing is written when they are more than ``--max-changes`` (backfill's guard).
Ctrl-C then lets the buckets in hand finish, their audit lines included (tools/interruption).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from resource_repair import config_remediation
from resource_repair.credentials import Credentials
from resource_repair.errors import ConfigurationError, ResourceRepairError
from resource_repair.settings import (
    CONFIG_ENDPOINT_OVERRIDE,
    DRY_RUN,
    ENDPOINT_MODE,
    ENDPOINT_OVERRIDE,
    Settings,
)
from resource_repair.sweep_trigger import EXPLICIT_REQUEST
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS
from resource_repair.tools.interruption import EXIT_INTERRUPTED, FinishInHand
from resource_repair.tools.terminal import print_line

if TYPE_CHECKING:
    from resource_repair.sweep import InHand

# The sweep function's timeout in both templates: the time a sweep has.
SWEEP_TIMEOUT = 600


class SweepRunError(ResourceRepairError):
    """The sweep cannot start as asked (exit code 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oss",
        choices=["fake", "real"],
        default="fake",
        help="the fakes: Config and OSS served on loopback for the run, or a running"
        " fake-cloud's with --env configEndpointOverride=$FAKE_CONFIG --env"
        " ossEndpointOverride=$ossEndpointOverride; or the real cloud with your keys (writes"
        " with --apply!)",
    )
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:REGION[:ACL]]",
        help="a bucket of the fake OSS (region: the template's; ACL public-read unless"
        " given); repeatable (default: one public bucket, demo-bucket)",
    )
    parser.add_argument("--apply", action="store_true", help="write; without it nothing is changed")
    parser.add_argument(
        "--max-changes",
        type=int,
        default=25,
        help="with --apply, refuse to write when more buckets than this would change",
    )


def run(
    environment: Mapping[str, str],
    region: str,
    *,
    real: bool,
    buckets: list[str],
    apply: bool,
    max_changes: int,
    credentials: Credentials | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Sweep once (twice with --apply: count, then write); print the last result."""
    from resource_repair.sweep import clear_rule_cache
    from resource_repair.tools.local_run import without_real_notifications

    # Rule names resolved by an earlier run in this process named another cloud's rules.
    clear_rule_cache()

    if max_changes < 0:
        raise SweepRunError("--max-changes must be >= 0")
    try:
        settings = Settings.from_env(environment)
        config_endpoint = config_remediation.config_endpoint(environment)
    except ConfigurationError as exc:
        raise SweepRunError(str(exc)) from None
    env = without_real_notifications(environment, err)
    if real:
        if credentials is None:
            raise SweepRunError("--oss real needs your keys")
        where = f"the fake Config on {config_endpoint}" if config_endpoint else "Cloud Config"
        verb = "WRITE the ACLs of" if apply else "read"
        print_line(
            f"--oss real: this will list {where}'s results and {verb} the buckets they name"
            " with your own credentials",
            file=err,
        )
        return _count_then_apply(env, region, credentials, apply, max_changes, out, err)
    with _fakes(env, region, buckets, settings, config_endpoint, err) as (fake_env, summary):
        test_key = Credentials(
            DEFAULT_CREDENTIALS.access_key_id,
            DEFAULT_CREDENTIALS.access_key_secret,
            DEFAULT_CREDENTIALS.security_token,
        )
        code = _count_then_apply(fake_env, region, test_key, apply, max_changes, out, err)
        if summary is not None:
            print_line(f"fake cloud after the sweep: {summary()}", file=err)
    return code


def _count_then_apply(
    env: Mapping[str, str],
    region: str,
    credentials: Credentials,
    apply: bool,
    max_changes: int,
    out: TextIO,
    err: TextIO,
) -> int:
    if not apply:  # reads only: Ctrl-C is KeyboardInterrupt, one line (cli.main)
        result = _sweep_once({**env, DRY_RUN: "true"}, region, credentials, None)
        print(json.dumps(result), file=out)
        return 0 if result.get("status") == "success" else 1
    # Ctrl-C lets the buckets in hand finish, their audit lines included (tools/interruption).
    with FinishInHand(err, read_state="resource-repair sweep without --apply") as stop:
        result = _sweep_once({**env, DRY_RUN: "true"}, region, credentials, stop)
        would_change = int(result.get("outcomes", {}).get("dry_run", 0))
        if stop.requested:
            print(json.dumps(_interrupted(result)), file=out)
            print_line(f"{stop.summary()}; nothing was written", file=err)
            return EXIT_INTERRUPTED
        if would_change > max_changes:
            print(json.dumps(result), file=out)
            print_line(
                f"refusing to apply: {would_change} buckets would change, more than"
                f" --max-changes {max_changes}; nothing was written (raise it to proceed)",
                file=err,
            )
            return 1
        if would_change:
            result = _sweep_once({**env, DRY_RUN: "false"}, region, credentials, stop)
    if stop.requested:
        print(json.dumps(_interrupted(result)), file=out)
        print_line(stop.summary(), file=err)
        return EXIT_INTERRUPTED
    print(json.dumps(result), file=out)
    return 0 if result.get("status") == "success" else 1


def _interrupted(result: dict[str, Any]) -> dict[str, Any]:
    """The sweep's result after Ctrl-C: it is incomplete because the operator stopped it,
    not for want of time, as the sweep's own reason would advise."""
    from resource_repair.sweep import TIMEOUT_ADVICE

    reason = str(result.get("reason") or "incomplete").removesuffix(TIMEOUT_ADVICE)
    return {**result, "reason": f"stopped by Ctrl-C; {reason}"}


def _sweep_once(
    env: Mapping[str, str], region: str, credentials: Credentials, stop: InHand | None
) -> dict[str, Any]:
    from resource_repair.sweep import handle_sweep
    from resource_repair.testing import FakeCredentials, fc_context

    keys = FakeCredentials(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    context = fc_context(
        credentials=keys, region=region, account_id=DEFAULT_ACCOUNT_ID, timeout=SWEEP_TIMEOUT
    )
    answer: dict[str, Any] = json.loads(
        handle_sweep(json.dumps(EXPLICIT_REQUEST).encode(), context, environ=env, in_hand=stop)
    )
    return answer


@contextlib.contextmanager
def _fakes(
    env: Mapping[str, str],
    region: str,
    buckets: list[str],
    settings: Settings,
    config_endpoint: str | None,
    err: TextIO,
) -> Iterator[tuple[dict[str, str], Callable[[], str] | None]]:
    """The environment that sends the sweep to fakes, and a summary of the fakes' state
    (None when a running fake-cloud is used, which says its own)."""
    if config_endpoint:
        if not settings.endpoint_override:
            raise SweepRunError(
                f"{CONFIG_ENDPOINT_OVERRIDE} is set without {ENDPOINT_OVERRIDE}: the buckets"
                " would be read on real OSS with the built-in test key; set both (fake-cloud"
                " exports both), or use --oss real"
            )
        print_line(
            f"{CONFIG_ENDPOINT_OVERRIDE} is set: the sweep lists from"
            f" {config_endpoint} and reads the buckets on"
            f" {settings.endpoint_override}, signed with the built-in test key",
            file=err,
        )
        yield dict(env), None
        return
    from resource_repair.testing.config.server import fake_config_server
    from resource_repair.testing.oss.server import fake_oss_server
    from resource_repair.tools.fake_cloud import FakeCloud

    specs = [b if ":" in b else f"{b}:{region}" for b in buckets or ["demo-bucket"]]
    cloud = FakeCloud(specs)
    for reference in settings.rule_references:
        cloud.add_rule(reference)
    with contextlib.ExitStack() as servers:
        oss = servers.enter_context(fake_oss_server(cloud.oss, "127.0.0.1"))
        config = servers.enter_context(fake_config_server(cloud.config, "127.0.0.1"))
        print_line(f"fakes before the sweep: {cloud.summary()}", file=err)
        yield (
            {
                **env,
                ENDPOINT_MODE: "public",
                ENDPOINT_OVERRIDE: oss.url,
                CONFIG_ENDPOINT_OVERRIDE: config.url.removeprefix("http://"),
            },
            cloud.summary,
        )


def template_path(value: str | None, default: str) -> str | None:
    """``-t``, else the default template when there is one here, else None (defaults)."""
    if value:
        return value
    return default if Path(default).is_file() else None


def real_credentials(profile: str | None) -> Credentials:
    from resource_repair.tools.cloud_credentials import tool_credentials

    return tool_credentials(profile, os.environ)
