"""Which remediation a message gets: by its managed rule, else by the configured entry."""

from __future__ import annotations

import pytest

from resource_repair.errors import ConfigurationError
from resource_repair.remediators.registry import POLICY_RULE, READ_RULE, WRITE_RULE, Remedy
from resource_repair.selection import dispatch, read_rule_selected, required_actions
from resource_repair.settings import Settings


def settings(rule_names: str, **env: str) -> Settings:
    return Settings.from_env({"prepareRuleName": rule_names, **env})


@pytest.mark.parametrize(
    ("identifier", "remedy"),
    [
        (READ_RULE, Remedy.ACL_PRIVATE),
        (WRITE_RULE, Remedy.ACL_NO_WRITE),
        (POLICY_RULE, Remedy.POLICY),
    ],
)
def test_the_messages_managed_rule_picks_the_remedy(identifier: str, remedy: Remedy) -> None:
    chosen = dispatch(identifier, ("my-rule", identifier), settings("my-rule"))
    assert (chosen.identifier, chosen.remedy) == (identifier, remedy)


def test_a_managed_rule_without_a_remediation_is_refused_with_a_reason() -> None:
    chosen = dispatch("oss-bucket-logging-enabled", ("my-rule",), settings("my-rule"))
    assert chosen.remedy is None
    assert "oss-bucket-logging-enabled" in chosen.reason
    assert POLICY_RULE in chosen.reason  # the reader learns what exists


def test_the_samples_plain_rule_name_still_means_the_acl_fix() -> None:
    configured = settings("test-oss-bucket-public-read-prohibited")
    chosen = dispatch(None, ("test-oss-bucket-public-read-prohibited",), configured)
    assert (chosen.identifier, chosen.remedy) == (READ_RULE, Remedy.ACL_PRIVATE)


def test_an_entry_binds_its_rule_to_a_remedy_for_messages_that_name_none() -> None:
    configured = settings(f"acl-rule,policy-rule={POLICY_RULE},cr-123={WRITE_RULE}")
    assert configured.rule_references == ("acl-rule", "policy-rule", "cr-123")
    assert dispatch(None, ("policy-rule", "cr-9"), configured).remedy is Remedy.POLICY
    assert dispatch(None, ("some-name", "cr-123"), configured).remedy is Remedy.ACL_NO_WRITE
    assert dispatch(None, ("acl-rule",), configured).remedy is Remedy.ACL_PRIVATE
    # The message's own identifier wins over the binding.
    assert dispatch(READ_RULE, ("policy-rule",), configured).remedy is Remedy.ACL_PRIVATE


def test_an_entry_that_is_an_identifier_means_that_identifiers_remedy() -> None:
    configured = settings(WRITE_RULE)
    assert dispatch(None, (WRITE_RULE,), configured).remedy is Remedy.ACL_NO_WRITE


def test_a_rule_name_with_an_equals_sign_is_still_a_name() -> None:
    configured = settings("team=storage")
    assert configured.rule_references == ("team=storage",)
    assert configured.rule_remedies == ()


def test_a_binding_to_an_unknown_identifier_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="oss-bucket-public-typo"):
        settings("my-rule=oss-bucket-public-typo")


def test_the_write_rule_goes_straight_to_private_only_with_the_read_rule_configured() -> None:
    own = ("my-write-rule", "cr-1")  # the references of the write rule's message
    assert not read_rule_selected(settings(WRITE_RULE), own)
    assert not read_rule_selected(settings("my-write-rule"), own)
    # A plain name may be any rule: only the read rule's identifier or a binding counts.
    assert not read_rule_selected(settings("my-write-rule,my-policy-rule"), own)
    assert read_rule_selected(settings(f"my-write-rule,my-read-rule={READ_RULE}"), own)
    assert read_rule_selected(settings(f"{WRITE_RULE},{READ_RULE}"), own)
    assert read_rule_selected(settings(f"w={WRITE_RULE},r={READ_RULE}"), own)
    assert not read_rule_selected(settings(f"w={WRITE_RULE},p={POLICY_RULE}"), own)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"oss:GetBucketInfo", "oss:PutBucketAcl"}),
        (
            {"prepareRuleName": POLICY_RULE},
            {
                "oss:GetBucketInfo",
                "oss:GetBucketPolicy",
                "oss:PutBucketPolicy",
                "oss:DeleteBucketPolicy",
            },
        ),
        (
            {"exemptTag": "keep=public", "blockPublicAccess": "true"},
            {
                "oss:GetBucketInfo",
                "oss:PutBucketAcl",
                "oss:GetBucketTagging",
                "oss:GetBucketPublicAccessBlock",
                "oss:PutBucketPublicAccessBlock",
            },
        ),
    ],
)
def test_required_actions_follow_the_settings(env: dict[str, str], expected: set[str]) -> None:
    env = {"prepareRuleName": "my-rule", **env}
    assert required_actions(Settings.from_env(env)) == expected


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("", None),
        ("public", ("public", None)),
        ("keep=yes", ("keep", "yes")),
        ("a=b=c", ("a", "b=c")),
        ("k=", ("k", "")),
    ],
)
def test_exempt_tag_is_a_key_or_a_key_and_value(
    value: str, parsed: tuple[str, str | None] | None
) -> None:
    assert Settings.from_env({"exemptTag": value}).exempt_tag == parsed


@pytest.mark.parametrize("value", ["=value", "k" * 129, "k=" + "v" * 257])
def test_a_malformed_exempt_tag_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="exemptTag"):
        Settings.from_env({"exemptTag": value})


def test_block_public_access_is_a_boolean() -> None:
    assert Settings.from_env({"blockPublicAccess": "true"}).block_public_access is True
    with pytest.raises(ConfigurationError, match="blockPublicAccess"):
        Settings.from_env({"blockPublicAccess": "sometimes"})


def test_remediation_asks_the_registry_rather_than_choosing_a_remediator_itself() -> None:
    """A new managed rule is one module in remediators/ and one registry entry: the path
    every bucket takes (remediation.py) names no remediator of its own."""
    import ast
    from pathlib import Path

    from resource_repair import remediation
    from resource_repair.remediators.registry import REMEDIATIONS

    tree = ast.parse(Path(remediation.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    fixes = {entry.build.__module__ for entry in REMEDIATIONS.values()}
    assert fixes == {"resource_repair.remediators.acl", "resource_repair.remediators.policy"}
    assert imported.isdisjoint(fixes)
