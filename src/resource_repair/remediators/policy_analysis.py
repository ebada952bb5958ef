"""Which statements of an OSS bucket policy let anyone in, and the policy without them.

Pure functions over the policy's JSON text: no requests, so that every edge case is tested
directly and the remediator only ever writes what :func:`without_anonymous_access` returns.

A statement lets anyone in when it ``Allow``s principal ``*`` (the string, or a list that
holds it) and no condition narrows who can use it. Conditions that narrow are the ones an
anonymous caller cannot simply claim: the source IP range and the source VPC (both set by
the network, not by the caller), and the AccessKey id (anonymous requests have none), each
with an operator that lists who is let in. A user agent, a referer, the time, the
transport, a prefix, do not: anyone can send any of them. A negative operator
(``NotIpAddress``, ``StringNotEquals``) narrows nothing either: everyone else gets in.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterable
from typing import Any

# Condition keys (lowercase) that say who may use a statement, and the operators (lowercase)
# under which they narrow it to a list of callers.
_NARROWING_KEYS = frozenset({"acs:sourceip", "acs:sourcevpc", "acs:accessid"})
_NARROWING_OPERATORS = frozenset(
    {"ipaddress", "stringequals", "stringequalsignorecase", "stringlike"}
)
# The widest range still taken to name particular callers: a /8 of IPv4 (a large company's
# or provider's block), a /16 of IPv6. Anything wider, alone or in a list, is too broad for
# "anonymous except from here" to mean anything.
_WIDEST_PREFIX = {4: 8, 6: 16}


class PolicyError(ValueError):
    """A policy document that cannot be read as JSON with a Statement list."""


@dataclasses.dataclass(frozen=True)
class PolicyVerdict:
    anonymous: int
    """How many statements let anyone in."""
    kept: int
    """How many statements stay."""
    remaining: str | None
    """The policy without them, or None when no statement would be left."""


def analyse(text: str) -> PolicyVerdict:
    """The anonymous statements of ``text`` and the policy without them.

    The rest of the document keeps its keys, order and values; only the JSON layout may
    change. Raises PolicyError for a document that is not a JSON object with a Statement.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"the bucket policy is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError("the bucket policy is not a JSON object")
    key = next((k for k in document if k.lower() == "statement"), None)
    if key is None:
        raise PolicyError("the bucket policy has no Statement")
    statements = document[key]
    single = isinstance(statements, dict)
    listed = [statements] if single else statements
    if not isinstance(listed, list):
        raise PolicyError("the bucket policy's Statement is not a list")
    kept = [s for s in listed if not allows_anyone(s)]
    anonymous = len(listed) - len(kept)
    if not anonymous:
        return PolicyVerdict(0, len(kept), text)
    if not kept:
        return PolicyVerdict(anonymous, 0, None)
    document[key] = kept[0] if single else kept
    return PolicyVerdict(anonymous, len(kept), json.dumps(document, ensure_ascii=False))


def allows_anyone(statement: Any) -> bool:
    """True for an Allow to principal ``*`` that no condition narrows."""
    if not isinstance(statement, dict):
        return False
    effect = _field(statement, "effect")
    if not isinstance(effect, str) or effect.lower() != "allow":
        return False
    if not _names_everyone(_field(statement, "principal")):
        return False
    return not _narrowed(_field(statement, "condition"))


def same_meaning(first: str | None, second: str | None) -> bool:
    """True when two policy texts (None: no policy) parse to the same document."""
    if first is None or second is None:
        return first is second
    try:
        return bool(json.loads(first) == json.loads(second))
    except (ValueError, RecursionError):
        return first == second


def _field(statement: dict[str, Any], name: str) -> Any:
    # OSS reads the policy's element names case-insensitively.
    for key, value in statement.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def _names_everyone(principal: Any, *, nested: bool = False) -> bool:
    if isinstance(principal, str):
        return principal == "*"
    if isinstance(principal, list):
        return any(item == "*" for item in principal)
    if isinstance(principal, dict) and not nested:  # {"ACS": "*"}-style, as some tools write it
        # One level only: a shape OSS does not document is not taken to mean "anyone",
        # since that would delete a statement nobody can say is anonymous.
        return any(_names_everyone(value, nested=True) for value in principal.values())
    return False


def _narrowed(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(operator, str) or not isinstance(tests, dict):
            continue
        if operator.lower() not in _NARROWING_OPERATORS:
            continue
        for key, values in tests.items():
            narrowing = isinstance(key, str) and key.lower() in _NARROWING_KEYS
            if narrowing and _lists_someone(key.lower(), values):
                return True
    return False


def _lists_someone(key: str, values: Any) -> bool:
    """True when the values name particular callers: not ``*`` or a pattern, and not
    address ranges so wide that they are everyone in all but name."""
    items = values if isinstance(values, list) else [values]
    if not items or not all(isinstance(item, str) and item.strip() for item in items):
        return False
    if any(c in item for item in items for c in "*?"):
        return False  # `vpc-*`, `1*`: a pattern matches callers nobody listed
    if key == "acs:sourceip":
        v4: list[ipaddress.IPv4Network] = []
        v6: list[ipaddress.IPv6Network] = []
        for item in items:
            try:
                network = ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                return False  # not an address OSS could match: it narrows nothing we know
            if isinstance(network, ipaddress.IPv4Network):
                v4.append(network)
            else:
                v6.append(network)
        # Judged on the union: 0.0.0.0/1 with 128.0.0.0/1 is everyone as surely as /0.
        wide4 = _addresses(ipaddress.collapse_addresses(v4)) > 2 ** (32 - _WIDEST_PREFIX[4])
        wide6 = _addresses(ipaddress.collapse_addresses(v6)) > 2 ** (128 - _WIDEST_PREFIX[6])
        if wide4 or wide6:
            return False
    return True


def _addresses(networks: Iterable[ipaddress.IPv4Network] | Iterable[ipaddress.IPv6Network]) -> int:
    return sum(network.num_addresses for network in networks)
