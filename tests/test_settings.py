"""Settings from the environment, and the checks made before any request."""

from __future__ import annotations

import pytest

from resource_repair.errors import ConfigurationError, InvalidEventError
from resource_repair.settings import LOCAL_ONLY_VARIABLES, VARIABLES, EndpointMode, Settings
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
    names = (*VARIABLES, *LOCAL_ONLY_VARIABLES)
    assert "ossEndpointOverrideAllowPrivate" in LOCAL_ONLY_VARIABLES
    assert all(name.isascii() and name.isalnum() for name in names)


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        ("  HTTP://LocalHost:8080 ", "http://localhost:8080"),
        ("https://127.10.20.30:443", "https://127.10.20.30:443"),
        ("http://127.0.0.1:65535", "http://127.0.0.1:65535"),
    ],
)
def test_override_accepts_loopback_with_a_port(value: str, endpoint: str) -> None:
    assert Settings.from_env({"ossEndpointOverride": value}).endpoint_override == endpoint


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://100.100.100.200:80", "metadata service"),
        ("http://169.254.169.254:80", "link-local"),
        ("http://8.8.8.8:9000", "not a loopback or private address"),
        ("http://47.88.1.1:9000", "not a loopback or private address"),
        ("http://0.0.0.0:9000", "not a loopback or private address"),
        ("http://100.64.0.1:9000", "not a loopback or private address"),
        ("http://10.0.0.5:9000", "set ossEndpointOverrideAllowPrivate=true"),
        ("http://172.17.0.1:9000", "set ossEndpointOverrideAllowPrivate=true"),
        ("http://192.168.1.10:9000", "set ossEndpointOverrideAllowPrivate=true"),
        ("http://127.0.0.1:x", "needs a port from 1 to 65535"),
        ("http://127.0.0.1:99999", "needs a port from 1 to 65535"),
        ("http://127.0.0.1:0", "needs a port from 1 to 65535"),
        ("http://127.0.0.1:" + "9" * 5000, "needs a port from 1 to 65535"),
        ("http://127.0.0.1", "needs a port from 1 to 65535"),
        ("http://127.0.0.1:", "needs a port from 1 to 65535"),
        ("http://127.0.0.1:\uff19\uff10\uff10\uff10", "needs a port from 1 to 65535"),
        ("http://[::1]:9000", "IPv6, which oss2 cannot address"),
        ("http://[::1]", "IPv6, which oss2 cannot address"),
        ("http://[::ffff:127.0.0.1]:9000", "IPv6, which oss2 cannot address"),
        ("http://[::1:9000", "nothing more"),
        ("http://::1:9000", "nothing more"),
        ("http://127.1:9000", "must name 127.0.0.1"),
        ("http://localhost.:9000", "must name 127.0.0.1"),
        ("http://127.0.0.1:9000?x=1", "nothing more"),
        ("http://127.0.0.1:90\n00", "needs a port"),
    ],
)
def test_override_refuses_what_is_not_loopback_or_is_malformed(value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match="ossEndpointOverride=") as refused:
        Settings.from_env({"ossEndpointOverride": value})
    assert problem in str(refused.value)


@pytest.mark.parametrize("value", ["http://10.0.0.5:9000", "http://172.31.255.1:9000"])
def test_a_private_override_needs_the_explicit_second_setting(value: str) -> None:
    env = {"ossEndpointOverride": value, "ossEndpointOverrideAllowPrivate": "true"}
    settings = Settings.from_env(env)
    assert settings.endpoint_override == value
    assert settings.endpoint_override_allow_private


@pytest.mark.parametrize(
    "value", ["http://100.100.100.200:80", "http://169.254.0.1:80", "http://8.8.8.8:80"]
)
def test_allowing_private_addresses_never_allows_public_or_metadata_ones(value: str) -> None:
    env = {"ossEndpointOverride": value, "ossEndpointOverrideAllowPrivate": "true"}
    with pytest.raises(ConfigurationError, match="ossEndpointOverride="):
        Settings.from_env(env)


def test_a_password_in_the_override_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ConfigurationError, match="ossEndpointOverride") as refused:
        Settings.from_env({"ossEndpointOverride": "http://user:hunter2@127.0.0.1:9000"})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "entry",
    [
        "Config-Snapshot",
        "config-snapshot.oss-ap-southeast-1.aliyuncs.com",
        "oss://config-snapshot",
        "config_snapshot",
        "ab",
        "x" * 64,
    ],
)
def test_an_exempt_entry_that_is_not_a_bucket_name_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ConfigurationError, match="exemptBuckets entry") as refused:
        Settings.from_env({"exemptBuckets": f"site-a, {entry}"})
    assert "not a valid OSS bucket name" in str(refused.value)
    assert len(str(refused.value)) < 400


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
