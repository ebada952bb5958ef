"""Fake FC contexts, in the shapes the python3.10 and python3.12 runtimes pass.

Only what the function reads, plus what distinguishes the shapes, as small frozen
dataclasses (FC's own context objects are plain attribute holders too). FC 3.0 documents
the same python3.10 context as FC 2.0; python3.12 exists on FC 3.0 only, and its context
(``FCContext`` in FC 3.0's Python context page) has no ``credentials`` and no ``service``,
and carries ``logger``, ``log_project`` and ``log_store`` at the top level.
"""

from __future__ import annotations

import dataclasses
import uuid

from resource_repair.credentials import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN
from resource_repair.testing.identities import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    FakeCredentials,
)

RUNTIMES = ("python3.10", "python3.12")


@dataclasses.dataclass(frozen=True)
class ContextCredentials:
    access_key_id: str
    access_key_secret: str = dataclasses.field(repr=False)
    security_token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class ContextFunction:
    name: str = "oss_repair_acl_trigger"
    handler: str = "index.handler"
    memory: int = 128
    timeout: int = 60


@dataclasses.dataclass(frozen=True)
class ContextFunction312(ContextFunction):
    version_id: str = ""
    qualifier: str = "LATEST"


@dataclasses.dataclass(frozen=True)
class ContextService:
    name: str = "resource_repair"
    log_project: str = ""
    log_store: str = ""
    qualifier: str = "LATEST"
    version_id: str = ""


@dataclasses.dataclass(frozen=True)
class Context310:
    """python3.10 (and 3.9, 3.6): credentials and service on the context."""

    request_id: str
    credentials: ContextCredentials
    function: ContextFunction
    service: ContextService
    region: str
    account_id: str


@dataclasses.dataclass(frozen=True)
class Context312:
    """python3.12 (FC 3.0): no ``credentials`` and no ``service``; keys come from the
    environment, the log project and store are top-level, and ``logger`` starts as None."""

    request_id: str
    function: ContextFunction312
    region: str
    account_id: str
    logger: object = None
    log_project: str = ""
    log_store: str = ""


def fc_context(
    runtime: str = "python3.10",
    *,
    credentials: FakeCredentials = DEFAULT_CREDENTIALS,
    region: str = "ap-southeast-1",
    account_id: str = DEFAULT_ACCOUNT_ID,
    timeout: int = 60,
    request_id: str | None = None,
) -> Context310 | Context312:
    """A context as ``runtime`` builds it. For python3.12 pass :func:`fc_environment` too."""
    rid = request_id or str(uuid.uuid4())
    if runtime == "python3.12":
        return Context312(rid, ContextFunction312(timeout=timeout), region, account_id)
    if runtime != "python3.10":
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}")
    creds = ContextCredentials(
        credentials.access_key_id, credentials.access_key_secret, credentials.security_token
    )
    return Context310(
        rid, creds, ContextFunction(timeout=timeout), ContextService(), region, account_id
    )


def fc_environment(credentials: FakeCredentials = DEFAULT_CREDENTIALS) -> dict[str, str]:
    """The credential variables FC sets for the function's role on every runtime."""
    return {
        ACCESS_KEY_ID: credentials.access_key_id,
        ACCESS_KEY_SECRET: credentials.access_key_secret,
        SECURITY_TOKEN: credentials.security_token,
    }
