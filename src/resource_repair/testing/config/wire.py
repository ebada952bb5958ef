"""The fake Config API's HTTP face: RPC-style requests in, JSON documents out.

It verifies what the real API verifies first (a known AccessKeyId, the security token, the
RPC signature) and answers errors with the document shape the SDK turns into its own
``ServerException``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from resource_repair.testing.config.models import ConfigBackend, ConfigCall, ConfigServiceError
from resource_repair.testing.config.remediation_actions import remediation_action
from resource_repair.testing.config.setup_actions import dispatch_setup_action
from resource_repair.testing.interception import rpc_params

SERVED_HOSTS = frozenset({"config.cn-shanghai.aliyuncs.com", "config.ap-southeast-1.aliyuncs.com"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost"})


class UnservedConfigHostError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class ConfigReply:
    status: int
    headers: dict[str, str]
    body: bytes


def handle_config_request(
    backend: ConfigBackend, method: str, url: str, body: bytes | str | None
) -> ConfigReply:
    parts = urlsplit(url)
    if parts.hostname not in SERVED_HOSTS | _LOOPBACK:
        raise UnservedConfigHostError(f"the fake Config API does not serve {parts.hostname!r}")
    params = rpc_params(url, body)
    action = params.get("Action", "")
    request_id = str(uuid.uuid4()).upper()
    if backend.latency:
        time.sleep(backend.latency)
    try:
        fault = backend.take_fault(action)
        if fault is not None:
            raise fault
        _authenticate(backend, method, params)
        document = _dispatch(backend, action, params)
    except ConfigServiceError as error:
        backend.calls.append(
            ConfigCall(action, params, error.status, error.code, parts.hostname or "")
        )
        document = {
            "RequestId": request_id,
            "HostId": parts.hostname,
            "Code": error.code,
            "Message": error.message,
        }
        return ConfigReply(
            error.status, {"Content-Type": "application/json"}, json.dumps(document).encode()
        )
    backend.calls.append(ConfigCall(action, params, 200, host=parts.hostname or ""))
    return ConfigReply(
        200,
        {"Content-Type": "application/json"},
        json.dumps({"RequestId": request_id, **document}).encode(),
    )


def _dispatch(backend: ConfigBackend, action: str, params: Mapping[str, str]) -> dict[str, Any]:
    if params.get("Version") != "2020-09-07":
        raise ConfigServiceError(400, "InvalidVersion", "Specified parameter Version is not valid.")
    if action == "ListConfigRules":
        return backend.list_config_rules(params)
    if action == "ListConfigRuleEvaluationResults":
        return backend.list_evaluation_results(params, aggregator=False)
    if action == "ListAggregateConfigRuleEvaluationResults":
        return backend.list_evaluation_results(params, aggregator=True)
    if action == "StartConfigRuleEvaluation":
        return backend.start_evaluation(params)
    if action == "ListConfigDeliveryChannels":
        return backend.list_delivery_channels(params)
    remediation = remediation_action(action)
    if remediation is not None:
        return remediation(backend, params)
    return dispatch_setup_action(backend, action, params)  # setup's actions, or NotFound


def _authenticate(backend: ConfigBackend, method: str, params: Mapping[str, str]) -> None:
    key_id = params.get("AccessKeyId", "")
    known = backend.credentials.get(key_id)
    if known is None:
        raise ConfigServiceError(
            404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        )
    if known.security_token and params.get("SecurityToken") != known.security_token:
        raise ConfigServiceError(
            400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken is not valid."
        )
    unsigned = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in unsigned)
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(
        f"{known.access_key_secret}&".encode(), to_sign.encode(), hashlib.sha1
    ).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), params.get("Signature", "")):
        raise ConfigServiceError(
            400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
        )


def _encode(value: str) -> str:
    return quote(value, safe="~")
