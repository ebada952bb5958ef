"""Hypothesis strategies: Cloud Config messages of every kind, mutated, in every delivery form."""

from __future__ import annotations

import base64
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
_conditions = (
    st.sampled_from(
        [
            {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]}},
            {"IpAddress": {"acs:SourceIp": ["0.0.0.0/0"]}},
            {"NotIpAddress": {"acs:SourceIp": ["192.0.2.1"]}},
            {"StringEquals": {"acs:SourceVpc": ["vpc-1"]}},
            {"StringLike": {"acs:UserAgent": ["*"]}},
            {"StringLike": {"acs:Referer": ["https://example.com/*"]}},
            {"Bool": {"acs:SecureTransport": ["true"]}},
        ]
    )
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
