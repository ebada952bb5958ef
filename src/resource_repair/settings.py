"""The function's settings, read from its environment variables in one place.

Names use letters and digits only, FC 2.0's rule for environment variable keys, and the
sample's ``prepareRuleName`` keeps its name so that existing deployments carry over.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from resource_repair.errors import ConfigurationError

RULE_REFERENCES = "prepareRuleName"
DRY_RUN = "dryRun"
EXEMPT_BUCKETS = "exemptBuckets"
ENDPOINT_MODE = "ossEndpointMode"
REQUEST_TIMEOUT = "ossRequestTimeout"
MAX_ATTEMPTS = "ossMaxAttempts"
ENDPOINT_OVERRIDE = "ossEndpointOverride"

# Every variable a deployment sets, so that the template can be checked against the code.
VARIABLES = (RULE_REFERENCES, DRY_RUN, EXEMPT_BUCKETS, ENDPOINT_MODE, REQUEST_TIMEOUT, MAX_ATTEMPTS)
# Read too, but for local runs and tests only: never set in a deployment.
LOCAL_ONLY_VARIABLES = (ENDPOINT_OVERRIDE,)


class EndpointMode(str, enum.Enum):
    AUTO = "auto"
    """Internal endpoint when the function runs in the bucket's region, else public."""
    PUBLIC = "public"
    INTERNAL = "internal"


@dataclasses.dataclass(frozen=True)
class Settings:
    rule_references: tuple[str, ...] = ()
    """Rule names, rule ids or managed-rule identifiers whose messages this function acts on."""
    dry_run: bool = False
    """Read and report, never write."""
    exempt_buckets: frozenset[str] = frozenset()
    """Buckets that are meant to be public; never touched."""
    endpoint_mode: EndpointMode = EndpointMode.AUTO
    request_timeout: float = 5.0
    """Seconds for one OSS request; oss2's own default of 60 s would eat the whole budget."""
    max_attempts: int = 3
    """Tries per OSS call for transient failures, before the delivery is handed back to FC."""
    endpoint_override: str | None = None
    """A fake OSS server (``resource-repair fake-oss``) to send every request to instead of
    OSS. For local runs and tests only: it must never be set in production."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings; raise ConfigurationError naming the variable that is wrong."""
        return cls(
            rule_references=_csv(environ.get(RULE_REFERENCES, "")),
            dry_run=_boolean(environ, DRY_RUN, default=False),
            exempt_buckets=frozenset(_csv(environ.get(EXEMPT_BUCKETS, ""))),
            endpoint_mode=_endpoint_mode(environ.get(ENDPOINT_MODE, "")),
            request_timeout=_number(environ, REQUEST_TIMEOUT, 5.0, low=0.5, high=60.0),
            max_attempts=int(_number(environ, MAX_ATTEMPTS, 3, low=1, high=10, integer=True)),
            endpoint_override=_endpoint_override(environ.get(ENDPOINT_OVERRIDE, "")),
        )


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def _boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    if name not in environ:
        return default
    value = environ[name].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={environ[name]!r} is not true or false")


def _endpoint_mode(value: str) -> EndpointMode:
    try:
        return EndpointMode(value.strip().lower() or EndpointMode.AUTO.value)
    except ValueError:
        choices = ", ".join(mode.value for mode in EndpointMode)
        raise ConfigurationError(f"{ENDPOINT_MODE}={value!r} is not one of {choices}") from None


def _endpoint_override(value: str) -> str | None:
    """``http://127.0.0.1:9000``-style: scheme, IP address or localhost, port, nothing else.

    oss2 puts the bucket in the path only for IP and localhost endpoints; any other host
    would get the bucket name prepended to it.
    """
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    problem = None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "is not an http(s) URL"
    elif (
        parts.username
        or parts.password
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        problem = "must be scheme://host:port and nothing more"
    elif parts.hostname != "localhost" and not _is_ip(parts.hostname):
        problem = "must name an IP address or localhost"
    if problem:
        raise ConfigurationError(f"{ENDPOINT_OVERRIDE}={value!r} {problem}")
    return value.rstrip("/")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    integer: bool = False,
) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={raw!r} is outside {low:g}..{high:g}")
    return value
