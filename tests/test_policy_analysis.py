"""Which bucket policy statements let anyone in, and what is left without them."""

from __future__ import annotations

import ipaddress
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_repair.remediators.policy_analysis import (
    PolicyError,
    allows_anyone,
    analyse,
    same_meaning,
)
from tests.strategies import (
    Members,
    odd_policies,
    parse_members,
    source_ip_networks,
    written_source_ips,
)

BUCKET_ARN = "acs:oss:*:1234567890123456:example-bucket/*"


def statement(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Action": ["oss:GetObject"],
        "Principal": ["*"],
        "Resource": [BUCKET_ARN],
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


@pytest.mark.parametrize("principal", ["*", ["*"], ["1234567890123456", "*"], {"ACS": ["*"]}])
def test_an_allow_to_everyone_is_anonymous_in_every_principal_form(principal: object) -> None:
    assert allows_anyone(statement(Principal=principal))


@pytest.mark.parametrize(
    "fields",
    [
        {"Effect": "Deny"},
        {"Principal": ["1234567890123456"]},
        {"Principal": "20214760404935xxxx"},
        {"Principal": None},
        {"Principal": []},
    ],
    ids=["deny", "an-account", "a-string-account", "no-principal", "empty-list"],
)
def test_statements_that_do_not_allow_everyone_are_not_anonymous(fields: dict[str, Any]) -> None:
    assert not allows_anyone(statement(**fields))


@pytest.mark.parametrize(
    "condition",
    [
        {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]}},
        {"IpAddress": {"acs:SourceIp": "203.0.113.7"}},
        {"StringEquals": {"acs:SourceVpc": ["vpc-t4nlw426y44rd3iq4xxxx"]}},
        {"StringEquals": {"acs:AccessId": ["LTAI5tExampleOnly"]}},
        # Several conditions all apply: one that narrows is enough.
        {
            "StringLike": {"acs:UserAgent": ["*"]},
            "IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]},
        },
    ],
    ids=["ip-range", "one-ip", "vpc", "access-id", "ua-and-ip"],
)
def test_a_condition_on_the_network_or_the_key_narrows_who_can_use_it(
    condition: dict[str, Any],
) -> None:
    assert not allows_anyone(statement(Condition=condition))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"acs:UserAgent": ["curl/*"]}},
        {"StringLike": {"acs:Referer": ["https://example.com/*"]}},
        {"Bool": {"acs:SecureTransport": ["true"]}},
        {"DateLessThan": {"acs:CurrentTime": ["2030-01-01T00:00:00Z"]}},
        {"NotIpAddress": {"acs:SourceIp": ["192.0.2.1"]}},
        {"StringNotEquals": {"acs:SourceVpc": ["vpc-abc"]}},
        {"IpAddress": {"acs:SourceIp": ["0.0.0.0/0"]}},
        {"IpAddress": {"acs:SourceIp": ["::/0"]}},
        {"StringLike": {"acs:SourceVpc": ["*"]}},
        {"StringEquals": {"oss:Prefix": ["public/"]}},
    ],
    ids=[
        "user-agent",
        "referer",
        "https",
        "time",
        "not-ip",
        "not-vpc",
        "every-ipv4",
        "every-ipv6",
        "any-vpc",
        "prefix",
    ],
)
def test_conditions_anyone_can_meet_do_not_narrow(condition: dict[str, Any]) -> None:
    assert allows_anyone(statement(Condition=condition))


def test_only_the_anonymous_statements_go_and_the_rest_stays_as_it_was() -> None:
    deny = statement(Effect="Deny", Action=["oss:DeleteObject"])
    account = statement(Principal=["1234567890123456"], Action=["oss:PutObject"])
    vpc_only = statement(Condition={"StringEquals": {"acs:SourceVpc": ["vpc-1"]}})
    text = policy(statement(), deny, account, statement(Principal="*"), vpc_only)
    verdict = analyse(text)
    assert (verdict.anonymous, verdict.kept) == (2, 3)
    assert verdict.remaining is not None
    left = json.loads(verdict.remaining)
    assert left == {"Version": "1", "Statement": [deny, account, vpc_only]}
    assert list(left) == ["Version", "Statement"]  # key order kept


def test_nothing_left_means_no_policy() -> None:
    verdict = analyse(policy(statement(), statement(Principal="*", Action=["oss:ListObjects"])))
    assert (verdict.anonymous, verdict.kept, verdict.remaining) == (2, 0, None)


def test_a_policy_without_anonymous_statements_is_returned_untouched() -> None:
    text = policy(statement(Effect="Deny"))
    assert analyse(text).remaining == text
    assert analyse(text).anonymous == 0


def test_a_single_statement_object_and_lowercase_keys_are_understood() -> None:
    text = json.dumps({"version": "1", "statement": {"effect": "allow", "principal": "*"}})
    assert analyse(text).remaining is None
    kept = {"effect": "Deny", "principal": "*"}
    assert analyse(json.dumps({"statement": kept})).remaining == json.dumps({"statement": kept})


def test_unicode_in_the_policy_survives() -> None:
    account = statement(Principal=["1234567890123456"], Sid="读取")
    verdict = analyse(policy(statement(), account))
    assert verdict.remaining is not None
    assert json.loads(verdict.remaining)["Statement"] == [account]


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"Version": "1"}', '{"Statement": "x"}', "[" * 100_000]
)
def test_an_unreadable_policy_is_an_error_not_a_guess(text: str) -> None:
    with pytest.raises(PolicyError):
        analyse(text)


def test_same_meaning_ignores_layout_only() -> None:
    assert same_meaning('{"a": [1, 2]}', '{ "a":[1,2] }')
    assert not same_meaning('{"a": [1, 2]}', '{"a": [2, 1]}')
    assert same_meaning(None, None)
    assert not same_meaning(None, "{}")


def test_a_star_nested_deeper_than_oss_documents_is_not_taken_for_anyone() -> None:
    # Found by the property suite: {"ACS": {"x": "*"}} is no principal OSS documents, and
    # removing it would delete a statement nobody can say is anonymous.
    statement = {"Effect": "Allow", "Principal": {"ACS": {"x": "*"}}, "Action": ["oss:*"]}
    assert not allows_anyone(statement)
    assert allows_anyone({**statement, "Principal": {"ACS": ["*"]}})


@pytest.mark.parametrize(
    "condition",
    [
        {"IpAddress": {"acs:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},  # everyone, in halves
        {"IpAddress": {"acs:SourceIp": ["10.0.0.0/7"]}},  # wider than a /8
        {"StringLike": {"acs:SourceVpc": ["vpc-*"]}},  # any VPC
        {"StringLike": {"acs:AccessId": "LTAI?"}},
    ],
)
def test_a_condition_that_lets_nearly_anyone_in_does_not_narrow(condition: object) -> None:
    anyone = {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"]}
    assert allows_anyone({**anyone, "Condition": condition})


def test_an_office_range_or_a_named_vpc_still_narrows() -> None:
    anyone = {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"]}
    office = {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24", "198.51.100.7"]}}
    vpc = {"StringEquals": {"acs:SourceVpc": ["vpc-t4nb5oi8a1e2xyz"]}}
    assert not allows_anyone({**anyone, "Condition": office})
    assert not allows_anyone({**anyone, "Condition": vpc})


# -- documents OSS may read in more than one way ------------------------------------------


def anonymous(statement_text: str) -> bool:
    """Whether the one statement written as ``statement_text`` (names repeated as they
    are) is taken out of a policy."""
    return analyse(f'{{"Statement": [{statement_text}]}}').anonymous == 1


DENY_ALL_DELETES = {"Effect": "Deny", "Principal": "*", "Action": ["oss:DeleteObject"]}
ANYONE_READS = {"Effect": "Allow", "Principal": "*", "Action": ["oss:GetObject"]}
ANYONE_READS_TEXT = json.dumps(ANYONE_READS)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"Statement": [DENY_ALL_DELETES], "statement": [ANYONE_READS]}),
        # The same name twice: json.loads would keep only the last.
        f'{{"Statement": [{ANYONE_READS_TEXT}], "Statement": [{json.dumps(DENY_ALL_DELETES)}]}}',
    ],
    ids=["two-spellings", "repeated"],
)
def test_every_statement_list_is_read_and_loses_its_anonymous_statements(text: str) -> None:
    verdict = analyse(text)
    assert verdict.remaining is not None
    assert parse_members(verdict.remaining) == [("Statement", [list(DENY_ALL_DELETES.items())])]
    assert (verdict.anonymous, verdict.kept, verdict.unfixable) == (1, 1, None)


@pytest.mark.parametrize(
    "effects",
    [
        '"Effect": "Allow", "effect": "Deny"',
        '"Effect": "Deny", "Effect": "Allow"',
        '"Effect": "Allow", "Effect": "Deny"',
    ],
)
def test_an_allow_to_anyone_that_is_also_a_deny_is_not_written(effects: str) -> None:
    text = f'{{"Statement": [{{{effects}, "Principal": "*", "Action": ["oss:GetObject"]}}]}}'
    verdict = analyse(text)
    assert verdict.remaining == text
    assert verdict.unfixable is not None
    assert "statement 1 allows anyone in one reading and denies in another" in verdict.unfixable


def test_a_principal_given_twice_allows_anyone_if_either_does() -> None:
    text = '{"Effect": "Allow", "Principal": ["1234567890123456"], "principal": "*"}'
    assert anonymous(text)


def test_a_kept_statement_keeps_every_member_even_repeated_ones() -> None:
    kept = (
        '{"Effect": "Allow", "Principal": ["1234567890123456"],'
        ' "Action": ["oss:GetObject"], "Action": ["oss:PutObject"]}'
    )
    text = f'{{"Version": "1", "Statement": [{json.dumps(ANYONE_READS)}, {kept}]}}'
    verdict = analyse(text)
    assert verdict.remaining is not None
    assert parse_members(verdict.remaining) == [
        ("Version", "1"),
        ("Statement", [parse_members(kept)]),
    ]


def test_same_meaning_tells_repeated_names_apart() -> None:
    assert not same_meaning('{"a": 1, "a": 2}', '{"a": 2}')
    assert same_meaning('{"a": 1, "a": 2, "b": 3}', '{"b": 3, "a": 1, "a": 2}')


@pytest.mark.parametrize(
    "principal",
    [{"NotPrincipal": ["1234567890123456"]}, {"notprincipal": {"ACS": ["1234567890123456"]}}],
)
def test_an_allow_to_everyone_but_some_allows_anyone(principal: dict[str, Any]) -> None:
    assert allows_anyone({"Effect": "Allow", "Action": ["oss:GetObject"], **principal})
    assert allows_anyone({"Effect": " allow", "Principal": " *"})


# -- source IP ranges: unions, IPv6, IPv4-mapped IPv6 --------------------------------------


def from_ips(ips: object) -> dict[str, Any]:
    return statement(Condition={"IpAddress": {"acs:SourceIp": ips}})


@pytest.mark.parametrize(
    "ips",
    [
        ["10.0.0.0/8", "11.0.0.0/8"],  # two adjacent /8s: a /7
        ["10.0.0.0/8", "12.0.0.0/8"],  # two /8s apart: still twice a /8
        [f"{first}.0.0.0/8" for first in range(256)],  # every address, in /8s
        ["::ffff:0:0/96"],  # every IPv4 address, written as IPv6
        ["::ffff:10.0.0.0/104", "11.0.0.0/8"],  # a /7 in two notations
        ["::/80"],  # holds the IPv4-mapped block
        ["2000::/8"],  # a /8 of IPv6 is far more than anyone's
        ["2000::/15"],
        ["2001::/16", "2002::/16"],
    ],
)
def test_ranges_wider_than_a_slash_8_or_an_ipv6_slash_16_together_do_not_narrow(
    ips: list[str],
) -> None:
    assert allows_anyone(from_ips(ips))


@pytest.mark.parametrize(
    "ips",
    [
        ["10.0.0.0/8"],
        ["10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"],  # overlaps count once
        ["::ffff:203.0.113.0/120"],
        ["2001::/16"],
        ["10.0.0.0/8", "2001::/16"],  # each family within its limit
        ["2001::/16", "::ffff:10.0.0.0/104"],  # mapped ranges are IPv4's, not IPv6's
    ],
)
def test_ranges_up_to_a_slash_8_or_an_ipv6_slash_16_narrow(ips: list[str]) -> None:
    assert not allows_anyone(from_ips(ips))


# -- conditions that are empty, repeated or not understood ---------------------------------

OFFICE = {"acs:SourceIp": ["203.0.113.0/24"]}


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"IpAddress": {}},
        {"IpAddress": {"acs:SourceIp": []}},
        {"IpAddress": {"acs:SourceIp": ""}},
        {"IpAddress": {"acs:SourceIp": [" "]}},
        {"IpAddress": {"acs:SourceIp": None}},
        {"IpAddress": OFFICE, "StringEquals": {"acs:SourceVpc": []}},
        {"IpAddress": {**OFFICE, "acs:SourceVpc": ""}},
        {"IpAddress": {"acs:SourceIp": ["203.0.113.0/24", ""]}},
        {"IpAddress": OFFICE, "StringLike": {}},
        {"IpAddress": OFFICE, "StringLike": "acs:UserAgent"},
        {"IpAddress": OFFICE, "Bool": {"acs:SecureTransport": [["true"]]}},
    ],
)
def test_an_empty_or_malformed_condition_narrows_nothing(condition: dict[str, Any]) -> None:
    assert allows_anyone(statement(Condition=condition))


@pytest.mark.parametrize(
    "text",
    [
        # OSS may read either spelling, and only one narrows.
        '{"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"], "acs:sourceip": ["0.0.0.0/0"]}}',
        '{"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}, "ipaddress": {}}',
        # Each spelling of the operator complete: the one OSS reads may let anyone in.
        '{"IpAddress": {"acs:SourceIp": ["203.0.113.0/24"]},'
        ' "ipaddress": {"acs:SourceIp": ["0.0.0.0/0"]}}',
    ],
)
def test_a_condition_with_a_name_given_twice_narrows_nothing(text: str) -> None:
    anyone = json.dumps(statement())[:-1]  # the statement without its closing brace
    assert anonymous(f'{anyone}, "Condition": {text}}}')


def test_a_statement_with_two_conditions_is_narrowed_only_if_both_narrow() -> None:
    office = json.dumps({"IpAddress": OFFICE})
    text = f'{{"Effect": "Allow", "Principal": "*", "Condition": {office}, "condition": {{}}}}'
    assert anonymous(text)
    assert not anonymous(text.replace("{}}", f"{office}}}"))


# -- properties ------------------------------------------------------------------------


def readings(value: Any) -> Iterator[Any]:
    """Every document OSS could read ``value`` as: one member for each name, whatever its
    spelling. (Plain dicts, so that :func:`allows_anyone` judges each without ambiguity.)"""
    if isinstance(value, Members):
        groups: dict[str, list[tuple[str, Any]]] = {}
        for name, member in value:
            groups.setdefault(name.lower(), []).append((name, member))
        for chosen in itertools.product(*groups.values()):
            for values in itertools.product(*(list(readings(v)) for _, v in chosen)):
                yield {name: v for (name, _), v in zip(chosen, values, strict=True)}
    elif isinstance(value, list):
        for items in itertools.product(*(list(readings(item)) for item in value)):
            yield list(items)
    else:
        yield value


def _named(statement: Members, name: str) -> list[Any]:
    return [v for k, v in statement if k.lower() == name]


def _statements(document: Members) -> dict[str, Members]:
    found = {}
    for name, value in document:
        if name.lower() == "statement":
            for each in [value] if isinstance(value, Members) else value:
                found[dict(each)["Sid"]] = each
    return found


@given(text=odd_policies())
def test_every_reading_loses_its_anonymous_statements_and_keeps_its_denies(text: str) -> None:
    """Whatever reading OSS takes, no statement that allows anyone in it stays, and no
    Deny goes; when one statement is both, nothing is written."""
    before = _statements(parse_members(text))
    public = {sid for sid, s in before.items() if any(map(allows_anyone, readings(s)))}
    denies = {
        sid
        for sid, s in before.items()
        if any(str(e).strip().lower() == "deny" for e in _named(s, "effect"))
    }
    star = {
        sid
        for sid, s in before.items()
        if any(str(e).strip().lower() == "allow" for e in _named(s, "effect"))
        and (_named(s, "notprincipal") or any(_anyone_at_all(p) for p in _named(s, "principal")))
    }
    verdict = analyse(text)
    if public & denies or verdict.unfixable:
        assert verdict.unfixable
        assert star & denies
        assert verdict.remaining == text
        return
    after = {} if verdict.remaining is None else _statements(parse_members(verdict.remaining))
    removed = set(before) - set(after)
    assert public <= removed <= star  # never judged less public than some reading is
    assert not removed & denies
    assert verdict.anonymous == len(removed)
    assert all(after[sid] == before[sid] for sid in after)  # the rest exactly as it was
    if verdict.remaining is not None:
        others = [m for m in parse_members(verdict.remaining) if m[0].lower() != "statement"]
        assert others == [m for m in parse_members(text) if m[0].lower() != "statement"]


def _anyone_at_all(principal: Any) -> bool:
    """``*`` anywhere in a principal: the outer bound of what may be taken for anyone."""
    return "*" in json.dumps(principal)


def _narrows_by_the_documented_rule(networks: list[Any]) -> bool:
    """README: ranges that together cover no more than a /8, IPv6 no more than a /16."""
    v4 = [n for n in networks if n.version == 4]
    v6 = [n for n in networks if n.version == 6]
    size = lambda ns: sum(n.num_addresses for n in ipaddress.collapse_addresses(ns))  # noqa: E731
    return size(v4) <= 2**24 and size(v6) <= 2**112


@given(data=st.data(), networks=source_ip_networks)
def test_source_ip_ranges_are_judged_on_their_union_however_written(
    data: st.DataObject, networks: list[Any]
) -> None:
    written = data.draw(written_source_ips(networks))
    narrows = _narrows_by_the_documented_rule(networks)
    assert allows_anyone(from_ips([str(n) for n in networks])) is not narrows
    assert allows_anyone(from_ips(written)) is not narrows


@given(
    condition=st.sampled_from(
        [
            {"IpAddress": OFFICE},
            {"StringEquals": {"acs:SourceVpc": ["vpc-t4nb5oi8a1e2xyz"]}},
            {"IpAddress": OFFICE, "StringLike": {"acs:UserAgent": ["curl/*"]}},
        ]
    ),
    operator=st.sampled_from(["IpAddress", "StringEquals", "StringLike", "Bool", "DateLessThan"]),
    key=st.sampled_from(["acs:SourceVpc", "acs:AccessId", "acs:UserAgent", "acs:Referer"]),
    empty=st.sampled_from([[], "", " ", None, [""], ["vpc-1", ""], {}, [[]]]),
)
def test_an_empty_value_anywhere_in_a_condition_narrows_nothing(
    condition: dict[str, Any], operator: str, key: str, empty: object
) -> None:
    assert not allows_anyone(statement(Condition=condition))
    spoilt = {**condition, operator: {**condition.get(operator, {}), key: empty}}
    assert allows_anyone(statement(Condition=spoilt))
