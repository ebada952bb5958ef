"""``resource-repair remote-invoke``: invoke the deployed function through aliyun-fc2."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping
from typing import TextIO

from resource_repair.credentials import ACCESS_KEY_ID, ACCESS_KEY_SECRET, resolve_credentials
from resource_repair.errors import InvalidEventError, ResourceRepairError
from resource_repair.redaction import protect_logs
from resource_repair.validation import check_region_id


class RemoteInvokeError(ResourceRepairError):
    """The invocation cannot be sent as asked (exit code 2)."""


@dataclasses.dataclass(frozen=True)
class RemoteInvocation:
    event: bytes
    account_id: str
    region: str
    service: str
    function: str
    qualifier: str | None = None
    asynchronous: bool = False


def fc_endpoint(account_id: str, region: str) -> str:
    if not (account_id.isascii() and account_id.isdigit()):
        raise RemoteInvokeError(f"account id {account_id!r} must be digits (your UID)")
    try:
        check_region_id(region)
    except InvalidEventError as exc:
        raise RemoteInvokeError(str(exc)) from None
    return f"https://{account_id}.{region}.fc.aliyuncs.com"


def remote_invoke(
    invocation: RemoteInvocation, environ: Mapping[str, str], out: TextIO, err: TextIO
) -> int:
    import fc2  # only this command needs the FC SDK

    credentials = resolve_credentials(None, environ)
    if credentials is None:
        raise RemoteInvokeError(
            f"remote-invoke needs {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET} in the environment"
        )
    # fc2 logs request headers, security token included, on the root logger.
    protect_logs(credentials.secrets)
    client = fc2.Client(
        endpoint=fc_endpoint(invocation.account_id, invocation.region),
        accessKeyID=credentials.access_key_id,
        accessKeySecret=credentials.access_key_secret,
        securityToken=credentials.security_token,  # '' for long-term keys; None crashes fc2
    )
    headers = {"x-fc-invocation-type": "Async" if invocation.asynchronous else "Sync"}
    if not invocation.asynchronous:
        headers["x-fc-log-type"] = "Tail"
    try:
        response = client.invoke_function(
            invocation.service,
            invocation.function,
            payload=invocation.event,
            headers=headers,
            qualifier=invocation.qualifier,
        )
    except fc2.fc_exceptions.FcError as exc:
        print(
            f"invocation failed: HTTP {exc.status_code} {exc.err_code}"
            f" (request {exc.request_id}): {exc.message}",
            file=err,
        )
        return 1
    except ValueError as exc:  # fc2's way of saying an error reply was not JSON
        print(f"invocation failed: the FC API answered with an unreadable error ({exc})", file=err)
        return 1
    request_id = response.headers.get("x-fc-request-id", "")
    if invocation.asynchronous:
        print(f"accepted for asynchronous invocation, request {request_id}", file=err)
        print(json.dumps({"request_id": request_id}), file=out)
        return 0
    _print_log_tail(response.headers.get("x-fc-log-result", ""), err)
    text = response.data.decode("utf-8", errors="replace")
    print(text, file=out)
    return 0 if _status(text) == "success" else 1


def _print_log_tail(encoded: str, err: TextIO) -> None:
    if not encoded:
        return
    try:
        tail = base64.b64decode(encoded).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return
    print("--- function log (tail) ---", file=err)
    print(tail.rstrip(), file=err)
    print("---", file=err)


def _status(text: str) -> str | None:
    try:
        result = json.loads(text)
    except ValueError:
        return None
    return result.get("status") if isinstance(result, dict) else None
