"""``resource-repair invoke``: run ``index.handler`` here, as ``s local invoke`` would in
Docker, against the built-in fake OSS (default) or real OSS."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator, Mapping
from typing import TextIO

from resource_repair.credentials import ACCESS_KEY_ID, ACCESS_KEY_SECRET, resolve_credentials
from resource_repair.delivery import decode_delivery
from resource_repair.errors import (
    ConfigurationError,
    InvalidEventError,
    ResourceRepairError,
    TransientOssError,
)
from resource_repair.message import NonComplianceEvent, classify_message
from resource_repair.settings import Settings
from resource_repair.testing import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
    fc_context,
    mock_oss,
)
from resource_repair.testing.context import fc_environment


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
    return _run_against_fake_oss(local, out, err)


def _run_against_fake_oss(local: LocalRun, out: TextIO, err: TextIO) -> int:
    target = _bucket_in(local.event)
    account = (
        local.account_id or (target.owner_account_id if target else None) or DEFAULT_ACCOUNT_ID
    )
    credentials = dataclasses.replace(DEFAULT_CREDENTIALS, account_id=account)
    with mock_oss() as oss:
        oss.register_credentials(credentials)
        if target and local.bucket_acl:
            oss.create_bucket(target.bucket, target.region_id, local.bucket_acl, owner_id=account)
        before = oss.acl_of(target.bucket) if target else None
        env = dict(local.environment)
        if local.runtime == "python3.12":
            env.update(fc_environment(credentials))  # python3.12 has no context.credentials
        context = fc_context(
            local.runtime, credentials=credentials, region=local.region, account_id=account
        )
        code = _invoke(local.event, context, env, out, err)
        if target:
            after = oss.acl_of(target.bucket)
            print(
                f"fake OSS: bucket {target.bucket} ({target.region_id}): "
                f"{before or 'missing'} -> {after or 'missing'}; "
                f"requests: {', '.join(oss.operations()) or 'none'}",
                file=err,
            )
    return code


def _run_against_real_oss(local: LocalRun, out: TextIO, err: TextIO) -> int:
    credentials = resolve_credentials(None, os.environ)
    if credentials is None:
        raise LocalRunError(
            f"--oss real needs {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET} in the environment"
        )
    env = dict(local.environment)
    target = _bucket_in(local.event)
    try:
        dry = Settings.from_env(env).dry_run
    except ConfigurationError as exc:
        raise LocalRunError(str(exc)) from None
    what = f"bucket {target.bucket} in {target.region_id}" if target else "the event's bucket"
    verb = "read the ACL of" if dry else "WRITE the ACL of"
    print(f"--oss real: this will {verb} the real {what} with your own credentials", file=err)
    # The same context shapes as the fake run; on python3.12 the handler finds the keys in
    # the environment, where they already are.
    keys = FakeCredentials(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    context = fc_context(
        local.runtime, credentials=keys, region=local.region, account_id=local.account_id or ""
    )
    return _invoke(local.event, context, env, out, err)


def _invoke(event: bytes, context: object, env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    import index  # the deployed entry point itself, not a copy of what it does

    with _environment(env):
        try:
            result = index.handler(event, context)  # type: ignore[no-untyped-call]
        except TransientOssError as exc:
            print(f"handler raised {type(exc).__name__}: {exc}; FC would retry", file=err)
            return 1
    print(result, file=out)
    return 0 if json.loads(result)["status"] == "success" else 1


def _bucket_in(event: bytes) -> NonComplianceEvent | None:
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
