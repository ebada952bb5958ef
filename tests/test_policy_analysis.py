"""Which bucket policy statements let anyone in, and what is left without them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resource_repair.remediators.policy_analysis import (
    PolicyError,
    allows_anyone,
    analyse,
    same_meaning,
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
