"""The function's settings, read from its environment variables in one place.

Names use letters and digits only, FC 2.0's rule for environment variable keys, and the
sample's ``prepareRuleName`` keeps its name so that existing deployments carry over.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import re
from collections.abc import Mapping

from resource_repair import notify_settings
from resource_repair.errors import ConfigurationError
from resource_repair.notify_settings import NotifySettings
from resource_repair.remediators.registry import KNOWN_IDENTIFIERS
from resource_repair.retry import RetryPolicy
from resource_repair.validation import is_bucket_name

RULE_REFERENCES = "prepareRuleName"
DRY_RUN = "dryRun"
EXEMPT_BUCKETS = "exemptBuckets"
ENDPOINT_MODE = "ossEndpointMode"
REQUEST_TIMEOUT = "ossRequestTimeout"
MAX_ATTEMPTS = "ossMaxAttempts"
ENDPOINT_OVERRIDE = "ossEndpointOverride"
ENDPOINT_OVERRIDE_ALLOW_PRIVATE = "ossEndpointOverrideAllowPrivate"
CONFIG_SITE = "configSite"
EXEMPT_TAG = "exemptTag"
BLOCK_PUBLIC_ACCESS = "blockPublicAccess"
MEMBER_ROLE_NAME = "memberRoleName"
MEMBER_ACCOUNTS = "memberAccounts"
CONFIG_AGGREGATOR_ID = "configAggregatorId"
# Config's API on this machine (host:port of a fake) for Config's own call of the function
# (config_remediation.py); local runs only.
CONFIG_ENDPOINT_OVERRIDE = "configEndpointOverride"
ANY_MEMBER = "*"
# Cloud Config's two sites (config_api.SITES maps each to its endpoint's region).
CONFIG_SITES = ("china", "international")

# Every variable a deployment sets, so that the template can be checked against the code.
VARIABLES = (
    RULE_REFERENCES,
    DRY_RUN,
    EXEMPT_BUCKETS,
    ENDPOINT_MODE,
    REQUEST_TIMEOUT,
    MAX_ATTEMPTS,
    CONFIG_SITE,
    EXEMPT_TAG,
    BLOCK_PUBLIC_ACCESS,
    MEMBER_ROLE_NAME,
    MEMBER_ACCOUNTS,
    CONFIG_AGGREGATOR_ID,
    *notify_settings.VARIABLES,
)
# Read too, but for local runs and tests only: never set in a deployment.
LOCAL_ONLY_VARIABLES = (
    ENDPOINT_OVERRIDE,
    ENDPOINT_OVERRIDE_ALLOW_PRIVATE,
    CONFIG_ENDPOINT_OVERRIDE,
    *notify_settings.LOCAL_ONLY_VARIABLES,
)


class EndpointMode(str, enum.Enum):
    AUTO = "auto"
    """Internal endpoint when the function runs in the bucket's region, else public."""
    PUBLIC = "public"
    INTERNAL = "internal"


@dataclasses.dataclass(frozen=True)
class Settings:
    rule_references: tuple[str, ...] = ()
    """Rule names, rule ids or managed-rule identifiers whose messages this function acts on
    (each ``prepareRuleName`` entry without its ``=identifier`` part, if it has one)."""
    rule_remedies: tuple[tuple[str, str], ...] = ()
    """(reference, managed rule identifier) for each ``reference=identifier`` entry: the
    remediation for that rule's messages when they carry no sourceIdentifier."""
    dry_run: bool = False
    """Read and report, never write."""
    exempt_buckets: frozenset[str] = frozenset()
    """Buckets that are meant to be public; never touched."""
    exempt_tag: tuple[str, str | None] | None = None
    """(key, value) of ``exemptTag``; value None: any value. A bucket carrying it is never
    written (its tags are read only when a write would otherwise follow)."""
    block_public_access: bool = False
    """After a fix, switch on the bucket's Block Public Access (and read it back)."""
    endpoint_mode: EndpointMode = EndpointMode.AUTO
    request_timeout: float = 5.0
    """Seconds for one OSS request; oss2's own default of 60 s would eat the whole budget."""
    max_attempts: int = 3
    """Tries per OSS call for transient failures, before the delivery is handed back to FC."""
    endpoint_override: str | None = None
    """A fake OSS server (``resource-repair fake-oss``) to send every request to instead of
    OSS, as ``http://127.0.0.1:9000``. For local runs and tests only: it must never be set in
    production. Loopback only, unless ``endpoint_override_allow_private``."""
    endpoint_override_allow_private: bool = False
    """Also accept a private (RFC 1918) address for the override: a fake on the Docker host,
    for ``s local invoke``."""
    config_site: str | None = None
    """Cloud Config's site for the sweep (``china`` or ``international``); None: guessed
    from the function's region (config_api.site_for_region)."""
    notify: NotifySettings = dataclasses.field(default_factory=NotifySettings)
    """Where failures and remediations are published (notify_settings.py, notify.py)."""
    member_role_name: str | None = None
    """Hub mode (``memberRoleName``): the RAM role assumed in a member account to remediate
    its buckets. None, the default: another account's bucket is refused, as always."""
    member_accounts: frozenset[str] = frozenset()
    """The member accounts the hub may act in (``memberAccounts``); ``{"*"}``: any account
    whose role trusts the hub. Empty unless hub mode is on."""
    config_aggregator_id: str | None = None
    """The sweep lists this account group's results (``configAggregatorId``), not only the
    function's own account's."""

    def may_act_in(self, owner: str) -> bool:
        """True when hub mode is on and ``owner`` is one of its member accounts."""
        if self.member_role_name is None:
            return False
        if ANY_MEMBER in self.member_accounts:
            # Any account, but an account id all the same: it goes into a role ARN.
            return _ACCOUNT_ID.fullmatch(owner) is not None
        return owner in self.member_accounts

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings; raise ConfigurationError naming the variable that is wrong."""
        allow_private = _boolean(environ, ENDPOINT_OVERRIDE_ALLOW_PRIVATE, default=False)
        role, accounts, aggregator = _hub_mode(environ)
        references, remedies = _rule_references(environ.get(RULE_REFERENCES, ""))
        return cls(
            rule_references=references,
            rule_remedies=remedies,
            dry_run=_boolean(environ, DRY_RUN, default=False),
            exempt_buckets=_exempt_buckets(environ.get(EXEMPT_BUCKETS, "")),
            exempt_tag=_exempt_tag(environ.get(EXEMPT_TAG, "")),
            block_public_access=_boolean(environ, BLOCK_PUBLIC_ACCESS, default=False),
            endpoint_mode=_endpoint_mode(environ.get(ENDPOINT_MODE, "")),
            request_timeout=_number(environ, REQUEST_TIMEOUT, 5.0, low=0.5, high=60.0),
            max_attempts=int(_number(environ, MAX_ATTEMPTS, 3, low=1, high=10, integer=True)),
            endpoint_override=_endpoint_override(
                environ.get(ENDPOINT_OVERRIDE, ""), allow_private=allow_private
            ),
            endpoint_override_allow_private=allow_private,
            config_site=_config_site(environ.get(CONFIG_SITE, "")),
            notify=NotifySettings.from_env(environ),
            member_role_name=role,
            member_accounts=accounts,
            config_aggregator_id=aggregator,
        )

    @property
    def oss_retry(self) -> RetryPolicy:
        """How every OSS call is retried under these settings (remediation, sweep budget)."""
        return RetryPolicy(max_attempts=self.max_attempts, request_timeout=self.request_timeout)

    def remedy_for_reference(self, references: tuple[str, ...]) -> str | None:
        """The managed rule identifier bound to the first configured entry among
        ``references`` (a message's rule name, id, ...), else None."""
        bound = dict(self.rule_remedies)
        for reference in self.rule_references:
            if reference in references and reference in bound:
                return bound[reference]
        return None


def _rule_references(value: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``prepareRuleName``: comma-separated entries, each a rule name, a ``cr-`` id or a
    managed rule identifier, optionally followed by ``=identifier`` to say which managed
    rule's remediation the entry's messages get when they do not carry one (older messages
    have no sourceIdentifier). A plain entry keeps its old meaning: the ACL fix.

    Only a known identifier after the last ``=`` makes a binding, so a rule name with an
    ``=`` in it still works; a suffix that looks like an OSS managed rule identifier but is
    not a known one is refused rather than silently read as part of a name.
    """
    references: list[str] = []
    remedies: list[tuple[str, str]] = []
    for entry in _csv(value):
        name, sep, identifier = entry.rpartition("=")
        identifier = identifier.strip()
        if sep and name.strip() and identifier in KNOWN_IDENTIFIERS:
            references.append(name.strip())
            remedies.append((name.strip(), identifier))
        elif sep and name.strip() and _LOOKS_LIKE_IDENTIFIER.fullmatch(identifier):
            raise ConfigurationError(
                f"{RULE_REFERENCES} entry {_shown(entry)} binds to {_shown(identifier)}, which"
                f" has no remediation; known: {', '.join(KNOWN_IDENTIFIERS)}"
            )
        else:
            references.append(entry)
    return tuple(references), tuple(remedies)


_LOOKS_LIKE_IDENTIFIER = re.compile(r"oss-[a-z0-9-]+")
# OSS tag keys: up to 128 characters, values up to 256; neither may be empty here.
_TAG_KEY_CHARS = 128
_TAG_VALUE_CHARS = 256


def _exempt_tag(value: str) -> tuple[str, str | None] | None:
    """``key`` or ``key=value``; the first ``=`` splits (OSS tag keys cannot hold one)."""
    text = value.strip()
    if not text:
        return None
    key, sep, tag_value = text.partition("=")
    key = key.strip()
    if not key or len(key) > _TAG_KEY_CHARS or (sep and len(tag_value) > _TAG_VALUE_CHARS):
        raise ConfigurationError(
            f"{EXEMPT_TAG}={_shown(value)} is not `key` or `key=value` (a key of 1 to"
            f" {_TAG_KEY_CHARS} characters, a value of up to {_TAG_VALUE_CHARS})"
        )
    return key, (tag_value if sep else None)


# RAM role names: 1 to 64 letters, digits, periods and hyphens.
_ROLE_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}")
# Alibaba Cloud account ids (UIDs) are 16 digits.
_ACCOUNT_ID = re.compile(r"[0-9]{16}")
# An account group's id as the console shows it: ca-, then lowercase letters and digits.
_AGGREGATOR_ID = re.compile(r"ca-[a-z0-9]{4,40}")


def _hub_mode(environ: Mapping[str, str]) -> tuple[str | None, frozenset[str], str | None]:
    """``memberRoleName``, ``memberAccounts`` and ``configAggregatorId``, checked together:
    a role without an explicit list of accounts (``*`` included) would let any message's
    account be acted in, so each needs the other."""
    role = environ.get(MEMBER_ROLE_NAME, "").strip()
    accounts = _csv(environ.get(MEMBER_ACCOUNTS, ""))
    aggregator = environ.get(CONFIG_AGGREGATOR_ID, "").strip()
    if role and not _ROLE_NAME.fullmatch(role):
        raise ConfigurationError(
            f"{MEMBER_ROLE_NAME}={_shown(role)} is not a RAM role name (1 to 64 letters,"
            " digits, periods and hyphens; the name, not the ARN)"
        )
    if role and not accounts:
        raise ConfigurationError(
            f"{MEMBER_ROLE_NAME} is set but {MEMBER_ACCOUNTS} is not: list the member account"
            f" ids the function may act in, or write {ANY_MEMBER!r} for any account whose role"
            " trusts it"
        )
    if accounts and not role:
        raise ConfigurationError(f"{MEMBER_ACCOUNTS} is set but {MEMBER_ROLE_NAME} is not")
    for account in accounts:
        if account != ANY_MEMBER and not _ACCOUNT_ID.fullmatch(account):
            raise ConfigurationError(
                f"{MEMBER_ACCOUNTS} entry {_shown(account)} is not an account id (16 digits)"
                f" or {ANY_MEMBER!r}"
            )
    if ANY_MEMBER in accounts and len(accounts) > 1:
        raise ConfigurationError(
            f"{MEMBER_ACCOUNTS}: {ANY_MEMBER!r} already means any account; list ids or"
            f" write {ANY_MEMBER!r} alone"
        )
    if aggregator and not _AGGREGATOR_ID.fullmatch(aggregator):
        raise ConfigurationError(
            f"{CONFIG_AGGREGATOR_ID}={_shown(aggregator)} is not an account group id (ca-...)"
        )
    return role or None, frozenset(accounts), aggregator or None


def _config_site(value: str) -> str | None:
    site = value.strip().lower()
    if site and site not in CONFIG_SITES:
        raise ConfigurationError(
            f"{CONFIG_SITE}={value[:64]!r} is not one of {', '.join(CONFIG_SITES)}"
        )
    return site or None


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
    raise ConfigurationError(f"{name}={_shown(environ[name])} is not true or false")


def _endpoint_mode(value: str) -> EndpointMode:
    try:
        return EndpointMode(value.strip().lower() or EndpointMode.AUTO.value)
    except ValueError:
        choices = ", ".join(mode.value for mode in EndpointMode)
        raise ConfigurationError(
            f"{ENDPOINT_MODE}={_shown(value)} is not one of {choices}"
        ) from None


def _exempt_buckets(value: str) -> frozenset[str]:
    """Exact bucket names. An entry that cannot be a bucket name would match nothing, and the
    bucket meant to be exempt would be made private without a word: refuse it instead."""
    names = _csv(value)
    for name in names:
        if not is_bucket_name(name):
            raise ConfigurationError(
                f"{EXEMPT_BUCKETS} entry {_shown(name)} is not a valid OSS bucket name (3 to 63"
                " lowercase letters, digits and hyphens, as in the console; not an endpoint or"
                " a URL), so it would exempt nothing"
            )
    return frozenset(names)


# scheme://host:port and nothing more; the host may be bracketed (IPv6), to be refused below.
_ENDPOINT = re.compile(
    r"(?P<scheme>https?)://(?P<host>\[[^\]]*\]|[^\s:/?#@\[\]]+)(?::(?P<port>[^/@?#]*))?/?",
    re.IGNORECASE | re.ASCII,
)
# Private networks (RFC 1918): a fake on the Docker host, reachable from `s local invoke`.
_RFC1918 = tuple(
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_METADATA = ipaddress.ip_address("100.100.100.200")


def _endpoint_override(value: str, *, allow_private: bool) -> str | None:
    """``http://127.0.0.1:9000``-style: scheme, loopback address or localhost, port.

    Requests to the override carry signed headers and the security token, over plain HTTP:
    they must not leave the machine. So the host is loopback; a private (RFC 1918) address
    only with ossEndpointOverrideAllowPrivate=true; never a public, link-local or metadata
    address, and never a name other than localhost (oss2 puts the bucket in the path only for
    IP and localhost endpoints; any other host would get the bucket name prepended to it).
    Returns the endpoint rebuilt from its checked parts.
    """
    value = value.strip()
    if not value:
        return None
    match = _ENDPOINT.fullmatch(value)
    if match is None:
        raise _override_error(value, "must be http(s)://host:port and nothing more")
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if host.startswith("["):
        # oss2 mangles every bracketed endpoint (it drops the brackets, then refuses it).
        raise _override_error(value, "is IPv6, which oss2 cannot address; use 127.0.0.1")
    if not (port and port.isascii() and port.isdigit() and len(port) <= 5) or not (
        1 <= int(port) <= 65535
    ):
        raise _override_error(value, "needs a port from 1 to 65535")
    if host != "localhost":
        problem = _address_problem(host, allow_private=allow_private)
        if problem:
            raise _override_error(value, problem)
    return f"{scheme}://{host}:{int(port)}"


def _address_problem(host: str, *, allow_private: bool) -> str | None:
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return "must name 127.0.0.1 (or another loopback address) or localhost"
    if address.is_loopback:
        return None
    if any(address in net for net in _RFC1918):
        if allow_private:
            return None
        return (
            f"is a private address; set {ENDPOINT_OVERRIDE_ALLOW_PRIVATE}=true to allow one"
            " (for a fake OSS on the Docker host)"
        )
    if address == _METADATA:
        kind = "the metadata service's address"
    elif address.is_link_local:
        kind = "a link-local address"
    else:
        kind = "not a loopback or private address"
    return (
        f"is {kind}: signed requests and the security token would go there in clear text;"
        " use a loopback address"
    )


def _override_error(value: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{ENDPOINT_OVERRIDE}={_shown(value)} {problem}")


def _shown(value: str, limit: int = 100) -> str:
    """A setting's value for a message: bounded, and never with a password in it."""
    if "@" in value:
        return "(a value with user information, not shown)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        raise ConfigurationError(f"{name}={_shown(raw)} is not a number") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={_shown(raw)} is outside {low:g}..{high:g}")
    return value
