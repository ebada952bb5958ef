"""Settings from the environment, and the checks made before any request."""

from __future__ import annotations

import pytest

from resource_repair.errors import ConfigurationError, InvalidEventError
from resource_repair.settings import VARIABLES, EndpointMode, Settings
from resource_repair.validation import check_bucket_name, check_region_id


def test_defaults_are_safe() -> None:
    settings = Settings.from_env({})
    assert settings.rule_references == ()
    assert settings.dry_run is False
    assert settings.exempt_buckets == frozenset()
    assert settings.endpoint_mode is EndpointMode.AUTO
    assert settings.request_timeout == 5.0
    assert settings.max_attempts == 3


def test_lists_are_comma_separated_and_trimmed() -> None:
    settings = Settings.from_env(
        {"prepareRuleName": " rule-a ,cr-123,, ", "exemptBuckets": "site-a, site-b"}
    )
    assert settings.rule_references == ("rule-a", "cr-123")
    assert settings.exempt_buckets == {"site-a", "site-b"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"dryRun": "maybe"}, "dryRun='maybe' is not true or false"),
        (
            {"ossEndpointMode": "both"},
            "ossEndpointMode='both' is not one of auto, public, internal",
        ),
        ({"ossRequestTimeout": "fast"}, "ossRequestTimeout='fast' is not a number"),
        ({"ossRequestTimeout": "600"}, "outside 0.5..60"),
        ({"ossMaxAttempts": "2.5"}, "ossMaxAttempts='2.5' is not a number"),
        ({"ossMaxAttempts": "0"}, "outside 1..10"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Settings.from_env(env)


@pytest.mark.parametrize("value", ["TRUE", "1", "yes", "on"])
def test_dry_run_accepts_the_usual_spellings(value: str) -> None:
    assert Settings.from_env({"dryRun": value}).dry_run


def test_variable_names_are_letters_and_digits_only() -> None:
    assert all(name.isascii() and name.isalnum() for name in VARIABLES)


@pytest.mark.parametrize("name", ["abc", "config-snapshot", "a" * 63, "0-9", "bucket-2024"])
def test_valid_bucket_names(name: str) -> None:
    check_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "-abc",
        "abc-",
        "Abc",
        "a_b",
        "a.b",
        "evil.example.com/x#",
        "a b",
        "\uff41\uff42\uff43",
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(InvalidEventError):
        check_bucket_name(name)


@pytest.mark.parametrize(
    "region",
    [
        "cn-hangzhou",
        "ap-southeast-1",
        "eu-central-1",
        "us-west-1",
        "cn-shanghai-finance-1",
        "cn-north-2-gov-1",
        "cn-wuhan-lr",
    ],
)
def test_valid_region_ids(region: str) -> None:
    check_region_id(region)


@pytest.mark.parametrize(
    "region",
    [
        "x.evil.example.com/#",
        "cn-hangzhou.evil.com",
        "cn-hangzhou\n",
        "CN-HANGZHOU",
        "cn",
        "cn-hangzhou:443",
        "cn-hangzhou@evil",
        "",
        "c-" + "a" * 40,
        "cn-hangzhou/",
    ],
)
def test_invalid_region_ids(region: str) -> None:
    with pytest.raises(InvalidEventError):
        check_region_id(region)
