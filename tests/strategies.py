"""Hypothesis strategies: Cloud Config messages of every kind, mutated, in every delivery form."""

from __future__ import annotations

import base64
import ipaddress
import json
from typing import Any

from hypothesis import strategies as st

from tests.conftest import BUCKET, REGION, RULE_ID, RULE_NAME

ACCOUNT = "1698272328540001"

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)

HOSTILE_TEXT = [
    "x.evil.example.com/#",
    "evil.example.com:443/",
    "cn-hangzhou.evil.com",
    "cn-hangzhou\r\nHost: evil",
    "../../etc/passwd",
    "config-snapshot.evil.com",
    "config-snapshot/",
    "config-snapshot?acl",
    "CONFIG-SNAPSHOT",
    "\u202ecn-hangzhou",
    "cn-hangzhou\x00",
    "a" * 5000,
    "",
]


def _mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` four times in five, so that most examples get as far as OSS."""
    # one_of would merge repeated branches, so pick the branch by a weighted draw.
    return st.integers(0, 4).flatmap(lambda pick: rare if pick == 4 else usual)


def _maybe(strategy: st.SearchStrategy[Any], usual: Any) -> st.SearchStrategy[Any]:
    """Mostly the documented value (or one of them), sometimes anything at all."""
    documented = usual if isinstance(usual, st.SearchStrategy) else st.just(usual)
    return _mostly(documented, strategy)


buckets = _mostly(
    st.sampled_from([BUCKET, BUCKET, "other-bucket", "missing-bucket", "member-bucket"]),
    st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True)
    | st.sampled_from(HOSTILE_TEXT)
    | st.text(max_size=80)
    | json_values,
)
regions = _mostly(
    st.sampled_from([REGION, REGION, "cn-hangzhou", "xx-nowhere-9"]),
    st.sampled_from(HOSTILE_TEXT) | st.text(max_size=40) | json_values,
)
# Hub mode: a member account in memberAccounts, and one outside it whose role would still
# trust the hub (so only the allow-list stands between a message and an AssumeRole).
MEMBER = "1111222233334444"
OUTSIDER = "9999000011112222"
accounts = _mostly(
    st.sampled_from([ACCOUNT, int(ACCOUNT), 1.698272328540001e15]),
    st.sampled_from(["1111111111111111", MEMBER, OUTSIDER]) | json_values,
)
# The owner as the mutated field: the function's account, a member, an outsider, or junk.
hub_accounts = _mostly(
    st.sampled_from([ACCOUNT, MEMBER, int(MEMBER), OUTSIDER, int(OUTSIDER)]),
    st.sampled_from(["1111111111111111", f"{MEMBER} ", f"0{MEMBER}", MEMBER[:-1]]) | json_values,
)


def _non_compliance(
    owners: st.SearchStrategy[Any], *, owner_always: bool = False
) -> st.SearchStrategy[Any]:
    """Non-compliance messages; ``owner_always``: every one names an account (accountId),
    so that the owner is the field that varies."""
    qualifiers = st.fixed_dictionaries(
        {
            "resourceId": buckets,
            "regionId": regions,
            "configRuleName": _maybe(json_values, RULE_NAME),
        },
        optional={
            "resourceName": buckets,
            "resourceType": _maybe(
                st.sampled_from(["ACS::ECS::Instance", ""]) | json_values, "ACS::OSS::Bucket"
            ),
            "configRuleId": _maybe(json_values, RULE_ID),
            "resourceOwnerId": owners,
        },
    )
    return st.fixed_dictionaries(
        {
            "evaluationResultIdentifier": _mostly(
                st.fixed_dictionaries({"evaluationResultQualifier": qualifiers}),
                st.fixed_dictionaries({"evaluationResultQualifier": json_values}) | json_values,
            ),
            **({"accountId": owners} if owner_always else {}),
        },
        optional={
            "complianceType": _maybe(json_values, "NON_COMPLIANT"),
            "dataType": _maybe(json_values, "NonCompliantNotification"),
            "eventType": _maybe(json_values, "ResourceCompliance"),
            "annotation": json_values,
            **({} if owner_always else {"accountId": owners}),
            "sourceIdentifier": _maybe(
                json_values,
                # The managed rules with a remediation, and one without.
                st.sampled_from(
                    [
                        "oss-bucket-public-read-prohibited",
                        "oss-bucket-public-write-prohibited",
                        "oss-bucket-policy-no-any-anonymous",
                        "oss-bucket-anonymous-prohibited",
                    ]
                ),
            ),
            "extra": json_values,
        },
    )


non_compliance = _non_compliance(accounts)
other_messages = (
    st.fixed_dictionaries(
        {
            "dataType": st.just("ConfigurationItemChangeNotification"),
            "configurationItem": json_values,
        }
    )
    | st.fixed_dictionaries(
        {"ResourceEventType": st.just("DISCOVERED"), "ResourceId": buckets, "Region": regions}
    )
    | st.fixed_dictionaries({"eventType": st.just("SnapshotDelivery")})
    | st.dictionaries(st.text(max_size=12), json_values, max_size=6)
)
messages = _mostly(non_compliance, other_messages)
hub_messages = _mostly(_non_compliance(hub_accounts, owner_always=True), other_messages)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


@st.composite
def deliveries(
    draw: st.DrawFn, of: st.SearchStrategy[Any] = messages
) -> tuple[bytes, dict[str, Any] | None]:
    """A delivery and the message inside it (None when the delivery is not a message)."""
    message = draw(of)
    text = json.dumps(message)
    form = draw(st.sampled_from(["stream", "attrs", "json", "json-plain", "plain", "broken"]))
    if form == "stream":
        return _b64(text).encode(), message
    if form == "attrs":
        return json.dumps({"body": _b64(text), "attrs": draw(json_values)}).encode(), message
    if form == "json":
        return json.dumps(
            {"TopicOwner": ACCOUNT, "MessageId": "1", "Message": _b64(text)}
        ).encode(), message
    if form == "json-plain":
        return json.dumps({"TopicName": "t", "Message": text}).encode(), message
    if form == "plain":
        return text.encode(), message
    return draw(broken(text)), None


@st.composite
def broken(draw: st.DrawFn, text: str) -> bytes:
    """Ways a delivery arrives damaged: cut, corrupted, not UTF-8, nested, or just noise."""
    how = draw(st.sampled_from(["cut", "flip", "utf8", "nested", "noise", "b64-noise"]))
    raw = _b64(text).encode()
    if how == "cut":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))] + b"!"
    if how == "flip":
        index = draw(st.integers(0, len(raw) - 1))
        return raw[:index] + bytes([draw(st.integers(128, 255))]) + raw[index + 1 :]
    if how == "utf8":
        return b'{"complianceType": "NON_COMPLIANT", "x": "\xff\xfe"}'
    if how == "nested":
        depth = draw(st.integers(100, 20_000))
        return b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    if how == "b64-noise":
        return base64.b64encode(draw(st.binary(max_size=300)))
    return draw(st.binary(max_size=300))


# -- bucket policies --------------------------------------------------------------------

_principals = (
    st.sampled_from(
        [
            "*",
            ["*"],
            ["1234567890123456", "*"],
            ["1234567890123456"],
            "1234567890123456",
            [],
            {"ACS": "*"},
        ]
    )
    | json_values
)
# Source IP ranges in the shapes that fooled the judgement before: the whole IPv4 space in
# pieces, IPv4 written as IPv4-mapped IPv6, IPv6 /8s and /16s, and empty values.
SOURCE_IP_SHAPES = [
    ["10.0.0.0/8", "11.0.0.0/8"],
    [f"{first}.0.0.0/8" for first in range(256)],
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["10.0.0.0/8", "10.1.0.0/16"],
    ["::ffff:0:0/96"],
    ["::ffff:203.0.113.0/120"],
    ["::ffff:10.0.0.0/104", "11.0.0.0/8"],
    ["2000::/8"],
    ["2001::/16"],
    ["2001::/16", "2002::/16"],
    [],
    [""],
]
_conditions = (
    st.sampled_from(
        [
            {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]}},
            {"IpAddress": {"acs:SourceIp": ["0.0.0.0/0"]}},
            {"NotIpAddress": {"acs:SourceIp": ["192.0.2.1"]}},
            {"StringEquals": {"acs:SourceVpc": ["vpc-1"]}},
            {"StringEquals": {"acs:SourceVpc": []}},
            {
                "IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]},
                "StringEquals": {"acs:SourceVpc": ""},
            },
            {"StringLike": {"acs:UserAgent": ["*"]}},
            {"StringLike": {"acs:Referer": ["https://example.com/*"]}},
            {"Bool": {"acs:SecureTransport": ["true"]}},
        ]
    )
    | st.sampled_from(SOURCE_IP_SHAPES).map(lambda ips: {"IpAddress": {"acs:SourceIp": ips}})
    | json_values
)
policy_statements = (
    st.fixed_dictionaries(
        {
            "Effect": _maybe(st.sampled_from(["Deny", "allow", "ALLOW"]) | json_values, "Allow"),
            "Principal": _principals,
        },
        optional={
            "Action": st.sampled_from([["oss:GetObject"], ["oss:*"], "oss:ListObjects"]),
            "Resource": st.just(["acs:oss:*:1698272328540001:config-snapshot/*"]),
            "Condition": _conditions,
            "Sid": st.text(max_size=8),
        },
    )
    | json_values
)
policies = (
    st.none()
    | st.fixed_dictionaries(
        {"Version": st.just("1"), "Statement": st.lists(policy_statements, max_size=5)}
    ).map(json.dumps)
    | st.sampled_from(["", "{", "[]", '{"Statement": {}}'])
)
tags = st.dictionaries(
    st.sampled_from(["website", "team", "public"]), st.sampled_from(["", "yes"]), max_size=2
)


# -- bucket policies as OSS may read them -------------------------------------------------


class Members(list[tuple[str, Any]]):
    """A JSON object as its members in order, so that a name can be given twice."""


def parse_members(text: str) -> Any:
    return json.loads(text, object_pairs_hook=Members)


def render(value: Any) -> str:
    """JSON text for ``value``, writing every member of a :class:`Members`."""
    if isinstance(value, Members):
        return "{" + ", ".join(f"{json.dumps(k)}: {render(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(item) for item in value) + "]"
    return json.dumps(value)


def _spellings(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name, name.lower(), name.upper()])


def _repeated(name: str, values: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[Any]:
    """Up to ``most`` members named ``name`` in some spelling."""
    return st.lists(st.tuples(_spellings(name), values), max_size=most)


_odd_conditions = _conditions | st.sampled_from(
    [
        # One narrowing test, and the same test spelled again with everyone in it.
        Members(
            [
                ("IpAddress", {"acs:SourceIp": ["203.0.113.0/24"]}),
                ("ipaddress", {"acs:SourceIp": ["0.0.0.0/0"]}),
            ]
        ),
        {"IpAddress": Members([("acs:SourceIp", ["203.0.113.0/24"]), ("acs:sourceip", [])])},
        {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}, "StringLike": "x"},
        {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}, "StringLike": {}},
        {},
    ]
)


@st.composite
def _odd_statement(draw: st.DrawFn, sid: str) -> Members:
    members = [
        *draw(
            st.lists(
                st.tuples(
                    _spellings("Effect"), st.sampled_from(["Allow", "Deny", "allow", " Deny"])
                ),
                min_size=1,
                max_size=2,
            )
        ),
        *draw(_repeated("Principal", _principals, 2)),
        *draw(_repeated("NotPrincipal", st.sampled_from([["1234567890123456"], "*", []]), 1)),
        *draw(_repeated("Condition", _odd_conditions, 2)),
        ("Action", ["oss:GetObject"]),
        ("Sid", sid),
    ]
    return Members(draw(st.permutations(members)))


@st.composite
def odd_policies(draw: st.DrawFn) -> str:
    """Policy texts whose names are given twice or spelled differently: each statement has a
    unique Sid, so that a test can tell which ones a fix took out."""
    groups = draw(
        st.lists(st.tuples(_spellings("Statement"), st.integers(0, 3)), min_size=1, max_size=2)
    )
    count = 0
    members: list[tuple[str, Any]] = [("Version", "1")]
    for name, size in groups:
        statements = []
        for _ in range(max(size, 1)):
            count += 1
            statements.append(draw(_odd_statement(f"s{count}")))
        single = size == 0  # the single-statement form
        members.append((name, statements[0] if single else statements))
    return render(Members(draw(st.permutations(members))))


def _ipv4_networks() -> st.SearchStrategy[ipaddress.IPv4Network]:
    prefixes = st.sampled_from([0, 1, 7, 8, 9, 16, 24, 32]) | st.integers(0, 32)
    return st.builds(
        lambda address, prefix: ipaddress.IPv4Network((address, prefix), strict=False),
        st.integers(0, 2**32 - 1),
        prefixes,
    )


def _ipv6_networks() -> st.SearchStrategy[ipaddress.IPv6Network]:
    # Outside the IPv4-mapped block: IPv4 reaches it through the written forms below.
    prefixes = st.sampled_from([0, 8, 15, 16, 17, 32, 64, 128]) | st.integers(0, 128)
    mapped = ipaddress.IPv6Network("::ffff:0:0/96")
    return st.builds(
        lambda address, prefix: ipaddress.IPv6Network((address, prefix), strict=False),
        st.integers(0, 2**128 - 1) | st.sampled_from([0x2000 << 112, 0x2001_0DB8 << 96]),
        prefixes,
    ).filter(lambda network: not network.overlaps(mapped))


source_ip_networks = st.lists(_ipv4_networks() | _ipv6_networks(), min_size=1, max_size=3)


@st.composite
def written_source_ips(
    draw: st.DrawFn, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> list[str]:
    """The same addresses written otherwise: ranges cut into up to 256 pieces, IPv4 as
    IPv4-mapped IPv6, repeated, in any order."""
    written = []
    for network in networks:
        depth = draw(st.integers(0, min(8, network.max_prefixlen - network.prefixlen)))
        form = draw(st.sampled_from(["as is", "mapped", "mixed"]))
        for index, piece in enumerate(network.subnets(prefixlen_diff=depth)):
            mapped = form == "mapped" or (form == "mixed" and index % 2 == 0)
            if isinstance(piece, ipaddress.IPv4Network) and mapped:
                address = ipaddress.IPv6Address(f"::ffff:{piece.network_address}")
                written.append(f"{address}/{96 + piece.prefixlen}")
            else:
                written.append(str(piece))
    written += draw(st.lists(st.sampled_from(written), max_size=2))
    return list(draw(st.permutations(written)))
