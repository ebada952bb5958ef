"""template.member.yml: the member role, in agreement with the code and with template.yml.

The role the hub assumes in each member account grants exactly the OSS actions the hub's
settings use (the same switches as template.yml), on that account's buckets, and trusts the
hub's function role and, when switched on, one operator role; no account id is written in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from resource_repair import selection
from resource_repair.member_access import session_policy
from resource_repair.settings import Settings
from resource_repair.tools.template import resolve_variables
from tests.test_template import COMBINATIONS, SWITCHES, switched_on
from tests.test_template import RAW as HUB_RAW

ROOT = Path(__file__).parent.parent
TEXT = (ROOT / "template.member.yml").read_text(encoding="utf-8")
HUB_TEXT = (ROOT / "template.yml").read_text(encoding="utf-8")
OSS_SWITCHES = ("policy", "exemptTag", "blockPublicAccess")
OSS_COMBINATIONS = [c for c in COMBINATIONS if set(c) <= set(OSS_SWITCHES)]


def role(text: str = TEXT) -> dict[str, Any]:
    raw = yaml.safe_load(text)
    assert raw["edition"] == "1.0.0"
    [entry] = raw["services"].values()
    assert entry["component"] == "ram"
    props: dict[str, Any] = resolve_variables(entry, raw["vars"])["props"]
    return props


def test_the_role_is_named_as_the_hub_expects_and_trusted_by_the_hub_function_only() -> None:
    raw = yaml.safe_load(TEXT)
    props = role()
    assert props["name"] == raw["vars"]["memberRoleName"]
    assert "service" not in props  # no cloud service may assume it, only the hub's roles
    [trust] = props["statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Action"] == ["sts:AssumeRole"]
    hub = raw["vars"]["hubAccountId"]
    assert trust["Principal"] == {"RAM": [f"acs:ram::{hub}:role/resource-repair-oss-acl"]}
    # The hub's function role is the role template.yml creates for its functions.
    hub_service = HUB_RAW["services"]["resource_repair"]["props"]["service"]
    assert raw["vars"]["hubRoleName"] == hub_service["role"]["name"]


def test_the_operator_role_is_trusted_only_when_switched_on() -> None:
    raw = yaml.safe_load(TEXT)
    [trust] = role(switched_on(("operatorRole",), TEXT))["statement"]
    hub, operator = raw["vars"]["hubAccountId"], raw["vars"]["operatorRoleName"]
    assert trust["Principal"]["RAM"] == [
        f"acs:ram::{hub}:role/resource-repair-oss-acl",
        f"acs:ram::{hub}:role/{operator}",
    ]


@pytest.mark.parametrize("names", OSS_COMBINATIONS, ids=lambda n: "+".join(n) or "default")
def test_each_documented_combination_grants_exactly_what_the_hub_settings_use(
    names: tuple[str, ...],
) -> None:
    props = role(switched_on(names, TEXT))
    environment = {"prepareRuleName": "test-oss-bucket-public-read-prohibited"}
    for name in names:
        environment.update(SWITCHES[name])
    settings = Settings.from_env(environment)
    [policy] = props["policies"]
    [statement] = policy["statement"]
    assert set(statement["Action"]) == selection.required_actions(settings)
    assert statement["Resource"] == ["acs:oss:*:${config(AccountID)}:*"]
    # The hub's session policy asks for the same actions: the role never refuses one.
    session = json.loads(session_policy("1111222233334444", selection.required_actions(settings)))
    assert set(session["Statement"][0]["Action"]) == set(statement["Action"])


def _block(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {name}:"))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


def test_the_oss_switches_are_the_same_as_template_ymls() -> None:
    assert _block(TEXT, "ossActions") == _block(HUB_TEXT, "ossActions")


def test_no_account_id_is_written_in_the_member_template() -> None:
    assert re.search(r"(?<!\d)\d{12,20}(?!\d)", TEXT) is None
    assert "${config(AccountID)}" in TEXT  # the member's own account, from its access
