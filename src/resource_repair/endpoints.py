"""The one check of every option or setting that points at a local fake in ``host:port``
form (``--sts-endpoint``, ``--config-endpoint``, ``--mns-endpoint``, ``restore --endpoint``,
and the function's ``configEndpointOverride``).

Requests to a fake go in clear HTTP and carry the caller's signature and security token, so
the option may only ever name this machine. It is read strictly as ``host:port`` and nothing
more: a URL parser reads ``localhost:80@example.com`` as user ``localhost``, password ``80``
at ``example.com``, and aliyunsdkcore pastes the option into a URL as it is.
"""

from __future__ import annotations

import ipaddress
import re

from resource_repair.errors import ResourceRepairError


class EndpointOptionError(ResourceRepairError, ValueError):
    """An endpoint option that does not name a loopback ``host:port``."""


_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.]+):(?P<port>[0-9]{1,5})")


def loopback_host_port(value: str | None, option: str) -> str | None:
    """``value`` when it is ``<127.x.y.z or localhost>:<port 1-65535>``; None when not given.

    Anything else (a scheme, user information, a path, another host) raises
    EndpointOptionError, before any request is made.
    """
    if value is None or value == "":
        return None
    match = _HOST_PORT.fullmatch(value)
    if match is None or not _is_loopback(match["host"]) or not 1 <= int(match["port"]) <= 65535:
        raise EndpointOptionError(
            f"{option} {value[:80]!r} must be a loopback host:port such as 127.0.0.1:9000"
            " (127.0.0.0/8 or localhost, port 1-65535; no scheme, user or path)"
        )
    return value


def loopback_url(value: str | None, option: str) -> str | None:
    """``http://host:port`` for a checked ``host:port`` option (see loopback_host_port)."""
    checked = loopback_host_port(value, option)
    return None if checked is None else f"http://{checked}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        # Strict dotted quad: no "127.1", no leading zeros, no hex.
        return ipaddress.IPv4Address(host) in ipaddress.IPv4Network("127.0.0.0/8")
    except ValueError:
        return False
