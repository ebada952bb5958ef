"""``resource-repair invoke``: run the function's handler here, as ``s local invoke`` would
in Docker, against the built-in fake OSS (default) or real OSS.

It calls ``resource_repair.handler.handle``, the one thing the deployed ``index.handler``
does (a test holds ``src/index.py`` to that). The installed package has no ``index`` module
of its own: that name belongs to the deployed code package, not to site-packages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
from collections.abc import Iterator, Mapping
from typing import TextIO

from resource_repair.credentials import resolve_credentials
from resource_repair.delivery import decode_delivery
from resource_repair.errors import (
    ConfigurationError,
    InvalidEventError,
    ResourceRepairError,
    TransientOssError,
)
from resource_repair.message import NonComplianceEvent, classify_message
from resource_repair.settings import ENDPOINT_OVERRIDE, Settings
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
    fc_context,
    mock_oss,
)
from resource_repair.testing.context import fc_environment
from resource_repair.tools.terminal import print_line


class LocalRunError(ResourceRepairError):
    """Something the user must fix before a local run can start (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class LocalRun:
    event: bytes
    environment: dict[str, str]
    """The function's variables: the template's, then the --env overrides."""
    runtime: str
    region: str
    """The function's own region (the context's), from the template."""
    account_id: str | None = None
    bucket_acl: str | None = "public-read"
    """The fake bucket's ACL before the run; None leaves the bucket missing."""
    real_oss: bool = False


def run(local: LocalRun, out: TextIO, err: TextIO) -> int:
    """Invoke the handler once; print its result to ``out``; return the exit code."""
    if local.real_oss:
        return _run_against_real_oss(local, out, err)
    if local.environment.get(ENDPOINT_OVERRIDE, "").strip():
        return _run_against_served_fake(local, out, err)
    return _run_against_fake_oss(local, out, err)


def _run_against_served_fake(local: LocalRun, out: TextIO, err: TextIO) -> int:
    """ossEndpointOverride names a fake OSS server (``resource-repair fake-oss``): the
    requests go there, signed with the built-in test key that server accepts, and the
    built-in fake is not used (what the handler's log says is then what happens)."""
    target = bucket_in(local.event)
    account = (
        local.account_id or (target.owner_account_id if target else None) or DEFAULT_ACCOUNT_ID
    )
    credentials = dataclasses.replace(DEFAULT_CREDENTIALS, account_id=account)
    print_line(
        f"{ENDPOINT_OVERRIDE} is set: the function's requests go to"
        f" {local.environment[ENDPOINT_OVERRIDE].strip()}, signed with the built-in test key;"
        " the built-in fake OSS is not used (--bucket-acl and --no-bucket do not apply)",
        file=err,
    )
    env = without_real_notifications(local.environment, err)
    if local.runtime == "python3.12":
        env.update(fc_environment(credentials))  # python3.12 has no context.credentials
    context = fc_context(
        local.runtime, credentials=credentials, region=local.region, account_id=account
    )
    return _invoke_over_the_network(local.event, context, env, out, err)


def _run_against_fake_oss(local: LocalRun, out: TextIO, err: TextIO) -> int:
    target = bucket_in(local.event)
    account = (
        local.account_id or (target.owner_account_id if target else None) or DEFAULT_ACCOUNT_ID
    )
    credentials = dataclasses.replace(DEFAULT_CREDENTIALS, account_id=account)
    with mock_oss() as oss:
        oss.register_credentials(credentials)
        if target and local.bucket_acl:
            oss.create_bucket(
                target.bucket,
                target.region_id,
                local.bucket_acl,
                owner_id=account,
                creation_date=_created_before(target),
            )
        before = oss.acl_of(target.bucket) if target else None
        env = without_real_notifications(local.environment, err)
        if local.runtime == "python3.12":
            env.update(fc_environment(credentials))  # python3.12 has no context.credentials
        context = fc_context(
            local.runtime, credentials=credentials, region=local.region, account_id=account
        )
        code = _invoke(local.event, context, env, out, err)
        if target:
            after = oss.acl_of(target.bucket)
            print_line(
                f"fake OSS: bucket {target.bucket} ({target.region_id}): "
                f"{before or 'missing'} -> {after or 'missing'}; "
                f"requests: {', '.join(oss.operations()) or 'none'}",
                file=err,
            )
    return code


def _run_against_real_oss(local: LocalRun, out: TextIO, err: TextIO) -> int:
    credentials = resolve_credentials(None, os.environ)
    if credentials is None:
        from resource_repair.tools.cloud_credentials import missing_keys

        raise LocalRunError(f"--oss real needs your keys: {missing_keys(os.environ)}")
    env = without_real_notifications(local.environment, err)
    target = bucket_in(local.event)
    try:
        settings = Settings.from_env(env)
    except ConfigurationError as exc:
        raise LocalRunError(str(exc)) from None
    what = f"bucket {target.bucket} in {target.region_id}" if target else "the event's bucket"
    verb = "read the ACL of" if settings.dry_run else "WRITE the ACL of"
    if settings.endpoint_override:  # every request goes there: no real bucket is touched
        print_line(
            f"--oss real: ossEndpointOverride is set: this will {verb} {what} on"
            f" {settings.endpoint_override}, not on OSS",
            file=err,
        )
    else:
        print_line(
            f"--oss real: this will {verb} the real {what} with your own credentials", file=err
        )
    # The same context shapes as the fake run; on python3.12 the handler finds the keys in
    # the environment, where they already are.
    keys = FakeCredentials(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    context = fc_context(
        local.runtime, credentials=keys, region=local.region, account_id=local.account_id or ""
    )
    return _invoke_over_the_network(local.event, context, env, out, err)


def without_real_notifications(environment: Mapping[str, str], err: TextIO) -> dict[str, str]:
    """A local run publishes to no real MNS topic: with the fake OSS its keys are made up,
    and against real OSS it is a trial that operators watching the topics should not see.
    The notification topics are switched off unless a fake MNS is named."""
    from resource_repair import notify_settings as notify

    env = dict(environment)
    if env.get(notify.ENDPOINT_OVERRIDE, "").strip():
        return env
    topics = [name for name in (notify.FAILURE_TOPIC, notify.REMEDIATION_TOPIC) if env.get(name)]
    if topics:
        print_line(
            f"local run: {', '.join(topics)} switched off (no real topic hears of a local run;"
            f" set {notify.ENDPOINT_OVERRIDE} for a fake MNS)",
            file=err,
        )
    return {**env, **dict.fromkeys(topics, "")}


def _invoke_over_the_network(
    event: bytes, context: object, env: Mapping[str, str], out: TextIO, err: TextIO
) -> int:
    """The handler once, against an OSS server (real, or a served fake). When it may write
    (dryRun false), Ctrl-C lets it finish the bucket, its read-back and its audit line (what
    restore undoes) before the exit 130, as backfill does; a second Ctrl-C aborts at once,
    naming the bucket (tools/interruption)."""
    from resource_repair.tools.interruption import EXIT_INTERRUPTED, FinishInHand

    try:
        writes = not Settings.from_env(env).dry_run
    except ConfigurationError:
        writes = False  # the handler refuses to start, and says why
    if not writes:
        return _invoke(event, context, env, out, err)
    target = bucket_in(event)
    name = f"{target.bucket} ({target.region_id})" if target else "the event's bucket"
    read_state = "the same resource-repair invoke with --env dryRun=true (a dry run)"
    with FinishInHand(err, read_state=read_state) as stop:
        code = stop.run(name, lambda: _invoke(event, context, env, out, err))
    if stop.requested:
        print_line(
            f"stopped by Ctrl-C: {name} was finished first (its result and audit line above)",
            file=err,
        )
        return EXIT_INTERRUPTED
    return int(code or 0)


def _invoke(event: bytes, context: object, env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    from resource_repair.handler import handle

    with _environment(env):
        try:
            result = handle(event, context)
        except TransientOssError as exc:
            # Masked as the handler's result and log lines are; OSS's text, escaped.
            print_line(f"handler raised {type(exc).__name__}: {exc}; FC would retry", file=err)
            return 1
    print(result, file=out)
    return 0 if json.loads(result)["status"] == "success" else 1


def _created_before(target: NonComplianceEvent) -> str | None:
    """A creation date for the fake bucket a day before Config evaluated it: the scene is
    the bucket Config saw, not a newer one of the same name."""
    evaluated = getattr(target, "evaluated_at", None)
    if not isinstance(evaluated, datetime.datetime):
        return None
    return (evaluated - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def bucket_in(event: bytes) -> NonComplianceEvent | None:
    """The bucket a message is about, if it is a readable non-compliance result."""
    try:
        classified = classify_message(decode_delivery(event).message)
    except InvalidEventError:
        return None
    return classified if isinstance(classified, NonComplianceEvent) else None


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """The function's environment for the length of one invocation, then the old one back."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
