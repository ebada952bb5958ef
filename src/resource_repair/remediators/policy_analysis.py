"""Which statements of an OSS bucket policy let anyone in, and the policy without them.

Pure functions over the policy's JSON text: no requests, so that every edge case is tested
directly and the remediator only ever writes what :func:`analyse` returns.

A statement lets anyone in when it ``Allow``s principal ``*`` (the string, or a list that
holds it) or names a ``NotPrincipal`` (everyone but those), and no condition narrows who can
use it. Conditions that narrow are the ones an anonymous caller cannot simply claim: the
source IP range and the source VPC (both set by the network, not by the caller), and the
AccessKey id (anonymous requests have none), each with an operator that lists who is let
in. A user agent, a referer, the time, the transport, a prefix, do not: anyone can send any
of them. A negative operator (``NotIpAddress``, ``StringNotEquals``) narrows nothing either:
everyone else gets in.

How OSS reads an odd document cannot be checked offline, so every judgement here errs
towards "anyone": a name given twice, or in two spellings that differ only in case
(``Effect`` and ``effect``), has several readings, and a statement that allows anyone in
any reading is removed, while one that is a ``Deny`` in any reading is kept. A statement
that is both cannot be fixed by removing statements: the verdict says so and nothing is
written. A condition with an empty value, a repeated name or a shape not understood
narrows nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Iterable
from typing import Any, TypeVar

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
# A dual-stack server sees an IPv4 caller as ::ffff:a.b.c.d, so an IPv6 range inside this
# block names IPv4 callers, and is judged with the IPv4 ranges (::ffff:0:0/96 is all of them).
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_Network = TypeVar("_Network", ipaddress.IPv4Network, ipaddress.IPv6Network)


class PolicyError(ValueError):
    """A policy document that cannot be read as JSON with a Statement list."""


@dataclasses.dataclass(frozen=True)
class PolicyVerdict:
    anonymous: int
    """How many statements let anyone in (in at least one reading)."""
    kept: int
    """How many statements stay."""
    remaining: str | None
    """The policy without them, or None when no statement would be left."""
    unfixable: str | None = None
    """Why no policy both removes every statement that lets anyone in and keeps every
    ``Deny``; then ``remaining`` is the policy unchanged, and nothing may be written."""


class _Members(tuple[tuple[str, Any], ...]):
    """A JSON object as its members in order, a repeated name included: ``json.loads``
    keeps only the last of a repeated name, and OSS may read another one. (A tuple, so that
    it is never taken for a JSON array.)"""


def analyse(text: str) -> PolicyVerdict:
    """The anonymous statements of ``text`` and the policy without them.

    The rest of the document keeps its names (repeated ones too), order and values; only the
    JSON layout may change, and a ``Statement`` whose statements all go is left out when
    another one stays. Raises PolicyError for a document that is not a JSON object with a
    Statement list (each one, when the name is given more than once).
    """
    document = _parse(text)
    if not isinstance(document, _Members):
        raise PolicyError("the bucket policy is not a JSON object")
    groups = [i for i, (name, _) in enumerate(document) if name.lower() == "statement"]
    if not groups:
        raise PolicyError("the bucket policy has no Statement")
    members: list[tuple[str, Any] | None] = list(document)
    anonymous = kept = number = 0
    both: list[int] = []
    for index in groups:
        name, statements = document[index]
        single = isinstance(statements, _Members)
        listed = [statements] if single else statements
        if not isinstance(listed, list):
            raise PolicyError("the bucket policy's Statement is not a list")
        left = []
        for statement in listed:
            number += 1
            if not allows_anyone(statement):
                left.append(statement)
            elif _denies(statement):
                both.append(number)
        anonymous += len(listed) - len(left)
        kept += len(left)
        if listed and not left:
            members[index] = None  # all gone: another Statement stays, or none does
        else:
            members[index] = (name, left[0] if single else left)
    if both:
        return PolicyVerdict(anonymous, kept, text, _unfixable(both))
    if not anonymous:
        return PolicyVerdict(0, kept, text)
    if not kept:
        return PolicyVerdict(anonymous, 0, None)
    try:
        remaining = _dumps(_Members(member for member in members if member is not None))
    except RecursionError:
        raise PolicyError("the bucket policy is nested too deeply to write back") from None
    return PolicyVerdict(anonymous, kept, remaining)


def allows_anyone(statement: Any) -> bool:
    """True when some reading of ``statement`` allows principal ``*`` (or names a
    ``NotPrincipal``) and no condition narrows it."""
    members = _members(statement)
    if members is None:
        return False
    if not any(_is(effect, "allow") for effect in _readings(members, "effect")):
        return False
    everyone = _readings(members, "notprincipal") or any(
        _names_everyone(principal) for principal in _readings(members, "principal")
    )
    if not everyone:
        return False
    conditions = _readings(members, "condition")
    return not conditions or not all(_narrowed(condition) for condition in conditions)


def same_meaning(first: str | None, second: str | None) -> bool:
    """True when two policy texts (None: no policy) parse to the same document: the same
    members, repeated names included, in any order of names."""
    if first is None or second is None:
        return first is second
    try:
        return bool(_canonical(_parse(first)) == _canonical(_parse(second)))
    except (PolicyError, RecursionError):
        return first == second


def _parse(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_Members)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"the bucket policy is not JSON: {exc}") from None


def _dumps(value: Any) -> str:
    # json.dumps would keep one member of each repeated name: this writes them all.
    if isinstance(value, _Members):
        pairs = (f"{json.dumps(name, ensure_ascii=False)}: {_dumps(v)}" for name, v in value)
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _canonical(value: Any) -> Any:
    if isinstance(value, _Members):
        # Sorted by name only (a stable sort), so repeats keep their order.
        ordered = sorted(value, key=lambda member: member[0])
        return ("object", [(name, _canonical(v)) for name, v in ordered])
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _members(value: Any) -> list[tuple[Any, Any]] | None:
    """The members of a JSON object, parsed here or given as a dict; None for anything else."""
    if isinstance(value, _Members):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    return None


def _readings(members: list[tuple[Any, Any]], name: str) -> list[Any]:
    # OSS reads element names case-insensitively; which of two spellings, or of a repeated
    # name, it takes is not documented: each one is a reading.
    return [value for key, value in members if isinstance(key, str) and key.lower() == name]


def _repeats(members: list[tuple[Any, Any]]) -> bool:
    names = [key.lower() if isinstance(key, str) else key for key, _ in members]
    return len(set(names)) < len(names)


def _is(value: Any, word: str) -> bool:
    return isinstance(value, str) and value.strip().lower() == word


def _denies(statement: Any) -> bool:
    members = _members(statement)
    return members is not None and any(_is(e, "deny") for e in _readings(members, "effect"))


def _unfixable(numbers: list[int]) -> str:
    which = ", ".join(str(n) for n in numbers)
    subject = f"statement {which} allows" if len(numbers) == 1 else f"statements {which} each allow"
    return (
        f"the bucket policy's {subject} anyone in one reading and denies in another (an Effect"
        " given twice, or in spellings that differ only in case): no policy both removes and"
        " keeps a statement; not written, fix it by hand"
    )


def _names_everyone(principal: Any, *, nested: bool = False) -> bool:
    if isinstance(principal, str):
        return principal.strip() == "*"
    if isinstance(principal, list):
        return any(isinstance(item, str) and item.strip() == "*" for item in principal)
    members = _members(principal)
    if members is not None and not nested:  # {"ACS": "*"}-style, as some tools write it
        # One level only: a shape OSS does not document is not taken to mean "anyone",
        # since that would delete a statement nobody can say is anonymous.
        return any(_names_everyone(value, nested=True) for _, value in members)
    return False


def _narrowed(condition: Any) -> bool:
    """True when every reading of ``condition`` narrows who can use the statement.

    A condition applies only as a whole (all its tests hold), so one test that narrows is
    enough, but only in a condition whose every part is understood: an empty value, a name
    given twice or a block that is not an object may make OSS read the whole condition in a
    way that narrows nothing.
    """
    operators = _members(condition)
    if not operators or _repeats(operators):
        return False
    narrowing = False
    for operator, tests in operators:
        keys = _members(tests)
        if not keys or _repeats(keys) or not isinstance(operator, str):
            return False
        for key, values in keys:
            items = values if isinstance(values, list) else [values]
            if not isinstance(key, str) or not items or not all(map(_plain, items)):
                return False
            if operator.lower() in _NARROWING_OPERATORS and key.lower() in _NARROWING_KEYS:
                narrowing = narrowing or _lists_someone(key.lower(), items)
    return narrowing


def _plain(value: Any) -> bool:
    """A condition value OSS can compare: a string with something in it, a number, a bool."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float)  # bool is an int


def _lists_someone(key: str, items: list[Any]) -> bool:
    """True when the values name particular callers: not ``*`` or a pattern, and not
    address ranges so wide that they are everyone in all but name."""
    if not all(isinstance(item, str) for item in items):
        return False
    if any(c in item for item in items for c in "*?"):
        return False  # `vpc-*`, `1*`: a pattern matches callers nobody listed
    if key != "acs:sourceip":
        return True
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for item in items:
        address, slash, prefix = item.strip().partition("/")
        if "%" in address or (slash and not (prefix.isascii() and prefix.isdigit())):
            # Python also reads a netmask or hostmask after the slash ("/0.255.255.255" is
            # a /8 to it) and a zone ("fe80::1%eth0"); OSS documents addresses and CIDR
            # prefixes only, and may read those as anything, "everyone" included.
            return False
        try:
            network = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            return False  # not an address OSS could match: it narrows nothing we know
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        elif (mapped := _ipv4_of(network)) is not None:
            v4.append(mapped)
        else:
            v6.append(network)
            if network.supernet_of(_IPV4_MAPPED):
                v4.append(ipaddress.IPv4Network("0.0.0.0/0"))
    # Judged on the union: 0.0.0.0/1 with 128.0.0.0/1 is everyone as surely as /0.
    narrow4 = _addresses(v4) <= 1 << (32 - _WIDEST_PREFIX[4])
    narrow6 = _addresses(v6) <= 1 << (128 - _WIDEST_PREFIX[6])
    return narrow4 and narrow6


def _ipv4_of(network: ipaddress.IPv6Network) -> ipaddress.IPv4Network | None:
    """The IPv4 callers a range inside the IPv4-mapped block names; None outside it."""
    address = network.network_address.ipv4_mapped
    if address is None or network.prefixlen < _IPV4_MAPPED.prefixlen:
        return None
    return ipaddress.IPv4Network((address, network.prefixlen - _IPV4_MAPPED.prefixlen))


def _addresses(networks: Iterable[_Network]) -> int:
    return sum(network.num_addresses for network in ipaddress.collapse_addresses(networks))
