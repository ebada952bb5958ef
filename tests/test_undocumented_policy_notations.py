"""A bucket policy judged narrower than OSS may read it."""

from __future__ import annotations

import json

import pytest

from resource_repair.remediators.policy_analysis import analyse


def _anyone_from(source_ip: str) -> str:
    statement = {
        "Effect": "Allow",
        "Action": ["oss:GetObject"],
        "Principal": ["*"],
        "Resource": ["acs:oss:*:*:shop/*"],
        "Condition": {"IpAddress": {"acs:SourceIp": [source_ip]}},
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.mark.parametrize(
    "source_ip",
    [
        "10.0.0.0/255.0.0.0",  # a netmask: a /8 to Python
        "10.0.0.0/0.255.255.255",  # a hostmask: a /8 to Python, "/0" to a careless reader
        "fe80::1%eth0/128",  # a zone
    ],
)
def test_a_source_ip_in_a_notation_oss_does_not_document_narrows_nothing(
    source_ip: str,
) -> None:
    assert analyse(_anyone_from(source_ip)).anonymous == 1


def test_a_documented_cidr_still_narrows() -> None:
    assert analyse(_anyone_from("10.0.0.0/8")).anonymous == 0
    assert analyse(_anyone_from("192.168.1.7")).anonymous == 0
