"""The clients doctor reads through: RPC-style products (Config, RAM) through
aliyunsdkcore, FC 2.0 through aliyun-fc2, MNS through aliyun-mns-sdk. Every failure comes
out as one CheckError line; the SDKs are imported only when a request is made."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from resource_repair.credentials import Credentials
from resource_repair.cutoff import CallTimedOutError, run_within
from resource_repair.redaction import protect_logs
from resource_repair.rpc import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    acs_client,
    network_reason,
    read_answer,
    rpc_request,
    send,
    server_message,
)
from resource_repair.tools.doctor.findings import CheckError, short_text
from resource_repair.tools.no_redirects import refuse_fc2_redirects

CONFIG_VERSION = "2020-09-07"
RAM_VERSION = "2015-05-01"
RAM_DOMAIN = "ram.aliyuncs.com"
# One call to Config, RAM or FC: connecting, then reading the whole answer.
_RPC_SECONDS = float(CONNECT_TIMEOUT + READ_TIMEOUT)


class RpcClient:
    """One RPC-style product through aliyunsdkcore: POST over HTTPS, no SDK retries, short
    timeouts, answers as dicts, every failure as one CheckError line."""

    def __init__(
        self,
        credentials: Credentials,
        domain: str,
        version: str,
        region: str,
        *,
        plain_http: bool = False,
    ) -> None:
        self._client = acs_client(credentials, region)
        self._domain = domain
        self._version = version
        self._http = plain_http

    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

        request = rpc_request(self._domain, self._version, action, params, http=self._http)
        try:
            body = send(self._client, request, _RPC_SECONDS)
        except ServerException as exc:
            code = str(exc.get_error_code())
            raise CheckError(
                f"{action}: {code} (HTTP {exc.get_http_status()}, request"
                f" {exc.get_request_id()}) {_service_message(exc.get_error_msg())}",
                code=code,
                status=int(exc.get_http_status() or 0),
            ) from None
        except ClientException as exc:
            if exc.get_error_code() in ("SDK.HttpError", "SDK.TimeoutError"):
                raise CheckError(
                    f"cannot reach {self._domain}: {network_reason(exc.get_error_msg())}",
                    code="network",
                ) from None
            raise CheckError(
                f"{action}: {exc.get_error_code()} {short_text(exc.get_error_msg())}"
            ) from None
        try:
            document = read_answer(body)
        except ValueError as exc:
            raise CheckError(f"{action}: {self._domain} answered badly: {exc}") from None
        return document if isinstance(document, dict) else {}


class FcClient:
    """FC 2.0's API through aliyun-fc2, with a short connect timeout and one retry."""

    def __init__(
        self, credentials: Credentials, account: str, region: str, *, endpoint: str | None = None
    ) -> None:
        """``endpoint`` (``http://127.0.0.1:port``) is a fake FC API on this machine."""
        import fc2

        from resource_repair.tools.remote import fc_endpoint

        protect_logs(credentials.secrets)  # fc2 logs request headers on the root logger
        refuse_fc2_redirects(fc2)
        self._endpoint = endpoint or fc_endpoint(account, region)
        self._client = fc2.Client(
            endpoint=self._endpoint,
            accessKeyID=credentials.access_key_id,
            accessKeySecret=credentials.access_key_secret,
            securityToken=credentials.security_token,  # '' for long-term keys; None crashes
            Timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )

    def call(self, operation: str, send: Callable[[Any], Any]) -> dict[str, Any]:
        import fc2
        import requests

        from resource_repair.tools.remote import no_connection_retries, without_fc2_error_logs

        try:
            with no_connection_retries(fc2), without_fc2_error_logs():
                # fc2's timeouts bound each read, not the call: the whole call ends in time.
                response = run_within(_RPC_SECONDS, lambda: send(self._client), operation)
        except CallTimedOutError:
            host = urlsplit(self._endpoint).hostname
            raise CheckError(f"cannot reach {host}: no answer in time", code="network") from None
        except fc2.fc_exceptions.FcError as exc:
            raise CheckError(
                f"{operation}: HTTP {exc.status_code} {exc.err_code} (request {exc.request_id})",
                code=str(exc.err_code or ""),
                status=int(exc.status_code or 0),
            ) from None
        except ValueError:  # fc2's way of saying a reply was not JSON
            raise CheckError(
                f"{operation}: the FC API answered something that is not JSON"
            ) from None
        except requests.exceptions.RequestException as exc:
            host = urlsplit(self._endpoint).hostname
            raise CheckError(
                f"cannot reach {host}: {network_reason(str(exc))}", code="network"
            ) from None
        data = getattr(response, "data", None)
        return data if isinstance(data, dict) else {}


def get_topic_attributes(endpoint: str, credentials: Credentials, topic: str) -> dict[str, Any]:
    """MNS GetTopicAttributes through aliyun-mns-sdk, bounded in time whatever the server
    does. CheckError with ``code`` ``TopicNotExist`` when there is no such topic."""
    from resource_repair.tools.smq import Smq

    return Smq(endpoint, credentials).topic_attributes(topic)


def _service_message(text: Any) -> str:
    """A service's error message, bounded, without the echoed string to sign."""
    return short_text(server_message(text))
