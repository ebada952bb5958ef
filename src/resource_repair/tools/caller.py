"""Who the caller is: STS ``GetCallerIdentity`` (2015-04-01) through aliyunsdkcore.

The account the tools act for comes from the caller's own credentials, never from a file:
a template copied from someone else would otherwise aim every check at their account.
"""

from __future__ import annotations

import dataclasses

from resource_repair.credentials import Credentials
from resource_repair.errors import ResourceRepairError
from resource_repair.rpc import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    UnreadableAnswerError,
    acs_client,
    network_reason,
    read_answer,
    rpc_request,
    send,
    server_message,
)

VERSION = "2015-04-01"
DOMAIN = "sts.aliyuncs.com"


class CloudServiceError(ResourceRepairError):
    """A cloud service refused the request or could not be reached (exit code 1)."""


@dataclasses.dataclass(frozen=True)
class CallerIdentity:
    account_id: str
    arn: str
    identity_type: str


def caller_identity(credentials: Credentials, *, endpoint: str | None = None) -> CallerIdentity:
    """The account and principal that ``credentials`` belong to.

    ``endpoint`` (``127.0.0.1:port``) is for a fake STS served locally, over plain HTTP.
    """
    from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

    client = acs_client(credentials, "cn-hangzhou")  # STS is global: the region is unused
    request = rpc_request(endpoint or DOMAIN, VERSION, "GetCallerIdentity", {}, http=bool(endpoint))
    host = endpoint or DOMAIN
    try:
        body = send(client, request, float(CONNECT_TIMEOUT + READ_TIMEOUT))
    except ServerException as exc:
        raise CloudServiceError(
            f"STS GetCallerIdentity: {exc.get_error_code()} (HTTP {exc.get_http_status()},"
            f" request {exc.get_request_id()}): {server_message(exc.get_error_msg())}"
        ) from None
    except ClientException as exc:
        if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
            raise CloudServiceError(
                f"cannot reach {host}: {network_reason(exc.get_error_msg())}"
            ) from None
        raise CloudServiceError(
            f"STS GetCallerIdentity: {exc.get_error_code()} {server_message(exc.get_error_msg())}"
        ) from None
    try:
        document = read_answer(body)
        account = str(document["AccountId"])
    except UnreadableAnswerError as exc:
        raise CloudServiceError(f"{host} answered GetCallerIdentity: {exc}") from None
    except (ValueError, KeyError, TypeError):
        raise CloudServiceError(f"{host} answered GetCallerIdentity without an AccountId") from None
    if not (account.isascii() and account.isdigit()):
        raise CloudServiceError(
            f"{host} answered an account id that is not digits: {account[:40]!r}"
        )
    return CallerIdentity(
        account, str(document.get("Arn", "")), str(document.get("IdentityType", ""))
    )
