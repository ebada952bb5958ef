"""A name that does not exist is a permanent failure (``EndpointNotFound``: no retry can
help, and FC replaying the message would be for nothing); a resolver failing for now
(``EAI_AGAIN``, "Temporary failure in name resolution") is passing trouble, retried and,
in the end, handed back to FC. The same for OSS, Config and STS (hub mode's AssumeRole)."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

import index
from resource_repair import member_access
from resource_repair.config_api import ConfigApiError, ConfigClient, TransientConfigError
from resource_repair.credentials import Credentials
from resource_repair.errors import TransientOssError
from resource_repair.retry import Deadline
from resource_repair.testing import DEFAULT_CREDENTIALS, fc_context
from tests.conftest import RULE_ID, load_event

KEYS = Credentials(
    DEFAULT_CREDENTIALS.access_key_id,
    DEFAULT_CREDENTIALS.access_key_secret,
    DEFAULT_CREDENTIALS.security_token,
)
MEMBER = "1111222233334444"
# What glibc's getaddrinfo raises for each: the SDKs wrap it, some only as text.
NO_SUCH_NAME = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
NOT_NOW = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every lookup fails as told (no request leaves the machine)."""

    def fail_with(failure: socket.gaierror) -> None:
        def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
            raise failure

        monkeypatch.setattr(socket, "getaddrinfo", lookup)

    return fail_with


def member_message() -> bytes:
    document = json.loads(load_event("noncompliance-oss-plain.json"))
    document["evaluationResultIdentifier"]["evaluationResultQualifier"]["resourceOwnerId"] = MEMBER
    return json.dumps(document).encode()


# -- OSS ----------------------------------------------------------------------------------


def test_oss_a_passing_dns_failure_is_handed_back_to_fc(
    function_env: dict[str, str], resolver: Any, waits: list[float]
) -> None:
    resolver(NOT_NOW)
    with pytest.raises(TransientOssError, match="RequestError"):
        index.handler(load_event("noncompliance-oss-stream.txt"), fc_context())
    assert waits  # retried first


def test_oss_a_name_that_does_not_exist_fails_at_once(
    function_env: dict[str, str], resolver: Any, waits: list[float]
) -> None:
    resolver(NO_SUCH_NAME)
    result = json.loads(index.handler(load_event("noncompliance-oss-stream.txt"), fc_context()))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "EndpointNotFound" in result["reason"]
    assert waits == []


# -- Config -------------------------------------------------------------------------------


def test_config_a_passing_dns_failure_is_retried_and_stays_transient(
    resolver: Any, waits: list[float]
) -> None:
    resolver(NOT_NOW)
    client = ConfigClient(KEYS, "international", deadline=Deadline(600))
    with pytest.raises(TransientConfigError, match="lookup failed for now"):
        list(client.non_compliant_buckets(RULE_ID))
    assert len(waits) == 4  # every attempt of five made


def test_config_a_name_that_does_not_exist_fails_at_once(resolver: Any, waits: list[float]) -> None:
    resolver(NO_SUCH_NAME)
    client = ConfigClient(KEYS, "international", deadline=Deadline(600))
    with pytest.raises(ConfigApiError, match="EndpointNotFound") as raised:
        list(client.non_compliant_buckets(RULE_ID))
    assert not isinstance(raised.value, TransientConfigError)
    assert waits == []


# -- STS, in hub mode -----------------------------------------------------------------------


@pytest.fixture
def hub_env(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    member_access.SESSIONS.clear()
    monkeypatch.setenv("memberRoleName", "resource-repair-member")
    monkeypatch.setenv("memberAccounts", MEMBER)


def test_sts_a_passing_dns_failure_is_handed_back_to_fc(
    hub_env: None, resolver: Any, waits: list[float]
) -> None:
    resolver(NOT_NOW)
    with pytest.raises(TransientOssError, match="AssumeRole"):
        index.handler(member_message(), fc_context())
    assert waits


def test_sts_a_name_that_does_not_exist_fails_the_delivery_at_once(
    hub_env: None, resolver: Any, waits: list[float]
) -> None:
    resolver(NO_SUCH_NAME)
    result = json.loads(index.handler(member_message(), fc_context()))
    assert (result["status"], result["outcome"]) == ("fail", "failed")
    assert "EndpointNotFound" in result["reason"]
    assert waits == []
