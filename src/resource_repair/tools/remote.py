"""``resource-repair remote-invoke``: invoke the deployed function through FC's API.

FC 2.0 (template.yml) through aliyun-fc2: ``POST /2016-08-15/services/<s>/functions/<f>/
invocations``. FC 3.0 (template.fc3.yml) through the maintained alibabacloud-fc20230330:
``POST /2023-03-30/functions/<f>/invocations``, signed ACS3-HMAC-SHA256. Both at the
account's endpoint ``<account>.<region>.fc.aliyuncs.com``, and both print the same: the
result on stdout, the log tail on stderr, exit 0 only for a ``success`` result.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

from resource_repair.credentials import Credentials
from resource_repair.cutoff import CallTimedOutError, run_within
from resource_repair.errors import InvalidEventError, ResourceRepairError
from resource_repair.redaction import protect_logs
from resource_repair.rpc import CONNECT_TIMEOUT, network_reason
from resource_repair.tools.caller import CloudServiceError
from resource_repair.tools.no_redirects import (
    REFUSED,
    is_refused_redirect,
    refuse_fc2_redirects,
    refuse_tea_redirects,
)
from resource_repair.tools.terminal import shown_block, shown_line
from resource_repair.validation import check_region_id

T = TypeVar("T")


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
    function_timeout: int = 60
    """The function's own timeout: a synchronous call may take that long to answer."""
    fc_version: int = 2
    """2: FC 2.0's API, ``service`` and ``function``; 3: FC 3.0's, ``function`` only (an
    FC 2.0 function is ``<service>$<function>`` there, and ``service`` is unused)."""


def fc_endpoint(account_id: str, region: str) -> str:
    if not (account_id.isascii() and account_id.isdigit()):
        raise RemoteInvokeError(f"account id {account_id!r} must be digits (your UID)")
    try:
        check_region_id(region)
    except InvalidEventError as exc:
        raise RemoteInvokeError(str(exc)) from None
    return f"https://{account_id}.{region}.fc.aliyuncs.com"


# FC's names: a letter or underscore, then letters, digits, _ and -; at most 128 (FC 3.0's
# view of an FC 2.0 function joins two with `$`). They go into the request path.
_NAME = r"[A-Za-z_][A-Za-z0-9_-]{0,127}"
_FC2_NAME = re.compile(_NAME)
_FC3_NAME = re.compile(rf"{_NAME}(?:\${_NAME})?")
# A qualifier goes into the path (FC 2.0) or the query (FC 3.0): LATEST, a version number,
# or an alias (a letter, then letters, digits, _ and -; at most 128).
_QUALIFIER = re.compile(r"LATEST|[0-9]{1,20}|[A-Za-z][A-Za-z0-9_-]{0,127}")


def check_names(invocation: RemoteInvocation) -> None:
    """Refuse a service or function name that FC cannot have, before any request."""
    names = (
        [("function", invocation.function, _FC3_NAME)]
        if invocation.fc_version == 3
        else [
            ("service", invocation.service, _FC2_NAME),
            ("function", invocation.function, _FC2_NAME),
        ]
    )
    if invocation.qualifier is not None:
        names.append(("qualifier", invocation.qualifier, _QUALIFIER))
    for kind, name, pattern in names:
        if pattern.fullmatch(name) is None:
            what = "version or alias" if kind == "qualifier" else "name"
            label = kind if kind == "qualifier" else f"{kind} name"
            raise RemoteInvokeError(
                f"{label} {shown_line(repr(name), 80)} is not a valid FC {what}"
            )


def remote_invoke(
    invocation: RemoteInvocation, credentials: Credentials, out: TextIO, err: TextIO
) -> int:
    check_names(invocation)
    if invocation.fc_version == 3:
        return _remote_invoke_fc3(invocation, credentials, out, err)
    import fc2  # only this command needs the FC SDK
    import requests

    # fc2 logs request headers, security token included, on the root logger.
    protect_logs(credentials.secrets)
    refuse_fc2_redirects(fc2)
    endpoint = fc_endpoint(invocation.account_id, invocation.region)
    client = fc2.Client(
        endpoint=endpoint,
        accessKeyID=credentials.access_key_id,
        accessKeySecret=credentials.access_key_secret,
        securityToken=credentials.security_token,  # '' for long-term keys; None crashes fc2
        # fc2 hands this to requests: a short connect timeout, and a read timeout that
        # lets a synchronous invocation run for the function's whole timeout.
        Timeout=(CONNECT_TIMEOUT, invocation.function_timeout + _ANSWER_MARGIN),
    )
    headers = {"x-fc-invocation-type": "Async" if invocation.asynchronous else "Sync"}
    if not invocation.asynchronous:
        headers["x-fc-log-type"] = "Tail"
    try:
        with no_connection_retries(fc2), without_fc2_error_logs():
            response = within_invocation_time(
                invocation,
                endpoint,
                lambda: client.invoke_function(
                    invocation.service,
                    invocation.function,
                    payload=invocation.event,
                    headers=headers,
                    qualifier=invocation.qualifier,
                ),
            )
    except fc2.fc_exceptions.FcError as exc:
        print(
            shown_line(
                f"invocation failed: HTTP {exc.status_code} {exc.err_code}"
                f" (request {exc.request_id}): {exc.message}"
            ),
            file=err,
        )
        return 1
    except ValueError as exc:  # fc2's way of saying an error reply was not JSON
        print(
            shown_line(f"invocation failed: the FC API answered with an unreadable error ({exc})"),
            file=err,
        )
        return 1
    except requests.exceptions.RequestException as exc:
        host = urlsplit(endpoint).hostname
        raise CloudServiceError(f"cannot reach {host}: {network_reason(str(exc))}") from None
    return _show_answer(invocation, response.headers, response.data, out, err)


def _remote_invoke_fc3(
    invocation: RemoteInvocation, credentials: Credentials, out: TextIO, err: TextIO
) -> int:
    import io

    # Only this command needs FC 3.0's SDK (alibabacloud-fc20230330 and its Tea core).
    from alibabacloud_fc20230330 import models
    from alibabacloud_fc20230330.client import Client
    from alibabacloud_tea_openapi import utils_models
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
    from darabonba.exceptions import RetryError, UnretryableException
    from darabonba.runtime import RuntimeOptions

    protect_logs(credentials.secrets)
    refuse_tea_redirects()
    endpoint = urlsplit(fc_endpoint(invocation.account_id, invocation.region))
    host = endpoint.hostname
    read_timeout = invocation.function_timeout + _ANSWER_MARGIN
    client = Client(
        utils_models.Config(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token or None,  # "" would be sent as a token
            # The account's endpoint, as for FC 2.0 (the SDK's default would be the regional
            # fcv3.<region>.aliyuncs.com). Given here, nothing else picks the host.
            endpoint=endpoint.netloc,
            protocol=endpoint.scheme,
            region_id=invocation.region,
            connect_timeout=CONNECT_TIMEOUT * 1000,  # milliseconds
            read_timeout=read_timeout * 1000,
        )
    )
    headers = models.InvokeFunctionHeaders(
        x_fc_invocation_type="Async" if invocation.asynchronous else "Sync",
        x_fc_log_type=None if invocation.asynchronous else "Tail",
    )
    request = models.InvokeFunctionRequest(
        body=io.BytesIO(invocation.event), qualifier=invocation.qualifier
    )
    # No SDK retries (its default): a POST that may have reached FC is never sent twice.
    runtime = RuntimeOptions(autoretry=False, max_attempts=1)
    try:
        response = within_invocation_time(
            invocation,
            f"{endpoint.scheme}://{endpoint.netloc}",
            lambda: client.invoke_function_with_options(
                invocation.function, request, headers, runtime
            ),
        )
    except AlibabaCloudException as exc:  # FC 3.0 answered with an error (4xx, 5xx)
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("Message") or data.get("message") or exc.message)
        print(
            shown_line(
                f"invocation failed: HTTP {exc.status_code} {exc.code}"
                f" (request {exc.request_id}): {message}"
            ),
            file=err,
        )
        return 1
    except UnretryableException as exc:
        inner = getattr(exc, "inner_exception", None)
        if isinstance(inner, RetryError) and is_refused_redirect(str(inner)):
            print(f"invocation failed: {host} answered with {REFUSED}", file=err)
            return 1
        if isinstance(inner, RetryError):  # the SDK's name for a connection that failed
            raise CloudServiceError(f"cannot reach {host}: {network_reason(str(inner))}") from None
        print(
            f"invocation failed: the FC API answered with an unreadable reply"
            f" ({type(inner or exc).__name__})",
            file=err,
        )
        return 1
    body = response.body.read() if response.body is not None else b""
    return _show_answer(invocation, response.headers or {}, body, out, err)


def invocation_seconds(invocation: RemoteInvocation) -> float:
    """The longest an invocation may take in all: connecting, then the function's whole
    timeout and a margin for FC to answer (the SDKs' read timeout, which bounds each read
    only: a server that trickles its answer would hold the command forever)."""
    return float(CONNECT_TIMEOUT + invocation.function_timeout + _ANSWER_MARGIN)


_ANSWER_MARGIN = 10


def within_invocation_time(invocation: RemoteInvocation, endpoint: str, call: Callable[[], T]) -> T:
    """``call`` ended within :func:`invocation_seconds`; CloudServiceError when it is not."""
    seconds = invocation_seconds(invocation)
    try:
        return run_within(seconds, call, "InvokeFunction")
    except CallTimedOutError:
        host = urlsplit(endpoint).hostname
        raise CloudServiceError(
            f"cannot reach {host}: no complete answer within {seconds:.0f}s"
        ) from None


def _show_answer(
    invocation: RemoteInvocation,
    headers: Mapping[str, str],
    body: bytes,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print an accepted invocation's answer, the same for both APIs."""
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = lower.get("x-fc-request-id", "")
    if invocation.asynchronous:
        print(shown_line(f"accepted for asynchronous invocation, request {request_id}"), file=err)
        print(json.dumps({"request_id": shown_line(request_id)}), file=out)
        return 0
    _print_log_tail(lower.get("x-fc-log-result", ""), err)
    text = body.decode("utf-8", errors="replace")
    error_type = lower.get("x-fc-error-type")
    # The function raised or timed out: FC 2.0 marks that with this header and HTTP 200
    # (fc2 turns it into an FcError first); FC 3.0's InvokeFunction is taken to do the same.
    if error_type:
        print(
            shown_line(
                f"invocation failed: the function ended with {error_type} (request {request_id})"
            ),
            file=err,
        )
        print(shown_block(text), file=err)
        return 1
    print(shown_block(text), file=out)
    return 0 if _status(text) == "success" else 1


@contextlib.contextmanager
def no_connection_retries(fc2: Any) -> Iterator[None]:
    """No connection retries in fc2 (doctor and remote-invoke).

    fc2 retries a failed connection five times, backing off up to 16 s: half a minute
    before a DNS failure or a dead route is reported, each retry announced by a urllib3
    warning. Without a network even one retry doubles the wait (each attempt may take the
    whole connect timeout), and the promise is one line within CONNECT_TIMEOUT, as FC 3.0's
    client, which never retries, keeps it."""
    saved = fc2.client.retries
    fc2.client.retries = 0
    try:
        yield
    finally:
        fc2.client.retries = saved


@contextlib.contextmanager
def without_fc2_error_logs() -> Iterator[None]:
    """fc2 logs every 4xx at ERROR on the root logger, request headers and all, over
    several lines (doctor and remote-invoke); each says what failed in a line of its own.
    Kept, masked, when DEBUG was asked for."""

    def not_fc2(record: logging.LogRecord) -> bool:
        return "fc2" not in Path(record.pathname).parts

    root = logging.getLogger()
    if root.getEffectiveLevel() <= logging.DEBUG:
        yield
        return
    root.addFilter(not_fc2)
    try:
        yield
    finally:
        root.removeFilter(not_fc2)


def _print_log_tail(encoded: str, err: TextIO) -> None:
    if not encoded:
        return
    try:
        tail = base64.b64decode(encoded).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return
    print("--- function log (tail) ---", file=err)
    print(shown_block(tail.rstrip()), file=err)
    print("---", file=err)


def _status(text: str) -> str | None:
    try:
        result = json.loads(text)
    except ValueError:
        return None
    return result.get("status") if isinstance(result, dict) else None
