"""template.fc3.yml: valid for the `fc3` component, and in agreement with template.yml.

The FC 3.0 template must deploy what the FC 2.0 one deploys: the same functions, handlers,
runtime, sizes, settings, role actions and triggers. The agreement tests below walk both
files generically (every function, every variable, every statement, every trigger), so a
change to one template that the other lacks fails here until both say the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from resource_repair import settings
from resource_repair.tools import fc_package
from resource_repair.tools.template import resolve_variables

ROOT = Path(__file__).parent.parent
TEXT3 = (ROOT / "template.fc3.yml").read_text(encoding="utf-8")
RAW3 = yaml.safe_load(TEXT3)
VARS3 = RAW3["vars"]
RESOURCES = {name: resolve_variables(entry, VARS3) for name, entry in RAW3["resources"].items()}
RAW2 = yaml.safe_load((ROOT / "template.yml").read_text(encoding="utf-8"))
VARS2 = RAW2["vars"]
SERVICES = {name: resolve_variables(entry, VARS2) for name, entry in RAW2["services"].items()}
SCHEMA3 = json.loads(
    (Path(__file__).parent / "schemas" / "devsapp-fc3-props.schema.json").read_text()
)
# How each edition spells "the deploying access's AccountID" (see the account test below).
ACCOUNT3 = "${config('AccountID')}"
ACCOUNT2 = "${config(AccountID)}"
SAME_ACCOUNT = "<account>"


def functions3() -> dict[str, dict[str, Any]]:
    """The fc3 resources' props, by function name."""
    return {
        e["props"]["functionName"]: e["props"]
        for e in RESOURCES.values()
        if e["component"] == "fc3"
    }


def functions2() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """template.yml's (service, function) pairs, by function name; triggers in the function."""
    found = {}
    for entry in SERVICES.values():
        props = entry["props"]
        found[props["function"]["name"]] = (
            props["service"],
            {**props["function"], "triggers": props.get("triggers", [])},
        )
    return found


def roles3() -> list[dict[str, Any]]:
    return [e["props"] for e in RESOURCES.values() if e["component"] == "ram"]


def same_account(value: Any) -> Any:
    """Both spellings of the account expression as one token, everywhere in ``value``."""
    if isinstance(value, dict):
        return {k: same_account(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same_account(v) for v in value]
    if isinstance(value, str):
        return value.replace(ACCOUNT3, SAME_ACCOUNT).replace(ACCOUNT2, SAME_ACCOUNT)
    return value


def statements(policies: list[Any]) -> list[dict[str, Any]]:
    assert [p for p in policies if isinstance(p, str)] == []  # no system policy attached
    return [s for p in policies for s in p["statement"]]


def grants(policies: list[Any]) -> dict[frozenset[str], frozenset[str]]:
    """What a role may do: each statement's actions -> the resources they apply to."""
    return {
        frozenset(s["Action"]): frozenset(same_account(s["Resource"]))
        for s in statements(policies)
        if s["Effect"] == "Allow"
    }


# -- the fc3 component's own rules ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(functions3()))
def test_props_validate_against_the_fc3_component_schema(name: str) -> None:
    jsonschema.validate(functions3()[name], SCHEMA3)


def test_the_fc2_role_block_would_fail_the_fc3_schema() -> None:
    """fc3 takes `role` as an ARN only: template.yml's role-creating block is refused,
    which is why the role comes from the `ram` resource."""
    service, _ = functions2()["oss_repair_acl_trigger"]
    broken = dict(functions3()["oss_repair_acl_trigger"], role=service["role"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA3)


def test_edition_3_and_the_account_in_serverless_devs_3s_spelling() -> None:
    """Serverless Devs 3 (@serverless-devs/parse-spec) compiles `${...}` as an expression,
    so the key is a quoted string: `config('AccountID')`, as its engine's fixtures and the
    fc3 component's templates write it, and as `s cli fc3 s2tos3` rewrites the 1.0.0
    spelling `config(AccountID)`. No account id is written in."""
    assert RAW3["edition"] == "3.0.0"
    assert "resources" in RAW3
    assert "services" not in RAW3
    assert re.search(r"(?<!\d)\d{12,20}(?!\d)", TEXT3) is None
    assert "config(AccountID)" not in TEXT3
    assert 'config("AccountID")' not in TEXT3
    assert TEXT3.count(ACCOUNT3) >= 5


def test_the_role_comes_from_the_ram_resource_deployed_first() -> None:
    [role] = roles3()
    assert next(iter(RESOURCES)) == "resource_repair_role"  # resources deploy in file order
    assert role["service"] == "fc.aliyuncs.com"  # trusted by Function Compute
    arn = f"acs:ram::{ACCOUNT3}:role/{role['name']}"
    for props in functions3().values():
        assert props["role"] == arn
    # devsapp/ram reads name, service and policies of {name, statement[Effect, Action,
    # Resource]}; role names are lower case in ARNs, so this one is written that way.
    assert role["name"] == role["name"].lower()
    for statement in statements(role["policies"]):
        assert set(statement) == {"Effect", "Action", "Resource"}


def test_the_cpu_suits_the_memory() -> None:
    """FC 3.0 sizes vCPU separately: a multiple of 0.05, with 1 to 4 GB of memory per vCPU
    (the 2023-03-30 API's CreateFunctionInput)."""
    for props in functions3().values():
        cpu, gigabytes = props["cpu"], props["memorySize"] / 1024
        assert round(cpu / 0.05, 9).is_integer()
        assert 1 <= gigabytes / cpu <= 4


def test_the_event_function_is_capped_by_reserved_concurrency() -> None:
    """FC 3.0 has no on-demand config; reserved concurrency is its per-function ceiling,
    and with one request per instance (python runtimes) it caps instances."""
    cap = functions3()["oss_repair_acl_trigger"]["concurrencyConfig"]["reservedConcurrency"]
    assert cap == VARS2["maxInstances"]
    assert "instanceConcurrency" not in functions3()["oss_repair_acl_trigger"]
    assert "concurrencyConfig" not in functions3()["oss_repair_acl_sweep"]


def test_the_mns_trigger_names_the_topic_by_arn_streams_and_has_no_filter() -> None:
    [trigger] = functions3()["oss_repair_acl_trigger"]["triggers"]
    assert trigger["triggerType"] == "mns_topic"
    region, topic = VARS3["region"], VARS3["topicName"]
    assert topic == "SMQTestConfig"
    assert trigger["sourceArn"] == f"acs:mns:{region}:{ACCOUNT3}:/topics/{topic}"
    assert trigger["triggerConfig"]["notifyContentFormat"] == "STREAM"
    assert "filterTag" not in trigger["triggerConfig"]
    assert trigger["invocationRole"].endswith(":role/AliyunMNSNotificationRole")


def test_a_delivery_fc_gives_up_on_goes_to_a_topic_the_role_may_publish_to() -> None:
    [role] = roles3()
    published = {
        r
        for s in statements(role["policies"])
        if s["Action"] == ["mns:PublishMessage"]
        for r in s["Resource"]
    }
    arn = f"acs:mns:{VARS3['region']}:{ACCOUNT3}:/topics/{VARS3['failureTopic']}/messages"
    for props in functions3().values():
        destination = props["asyncInvokeConfig"]["destinationConfig"]
        assert destination == {"onFailure": {"destination": arn}}
    assert arn in published


def test_deploying_builds_the_code_package_both_functions_upload() -> None:
    for entry in RESOURCES.values():
        if entry["component"] != "fc3":
            continue
        [step] = entry["actions"]["pre-deploy"]
        assert step["run"].startswith("python3 src/resource_repair/tools/fc_package.py")
        assert (ROOT / entry["props"]["code"]).resolve() == fc_package.DEFAULT_OUT.resolve()


def test_environment_variables_are_exactly_the_ones_the_code_reads() -> None:
    for props in functions3().values():
        assert set(props["environmentVariables"]) == set(settings.VARIABLES)


# -- agreement with template.yml, field by field ---------------------------------------------


def test_the_same_functions() -> None:
    assert set(functions3()) == set(functions2())


@pytest.mark.parametrize("name", sorted(functions2()))
@pytest.mark.parametrize(
    "field", ["handler", "runtime", "memorySize", "timeout", "description", "environmentVariables"]
)
def test_each_function_setting_agrees(name: str, field: str) -> None:
    _, function2 = functions2()[name]
    assert functions3()[name][field] == function2[field]


@pytest.mark.parametrize("name", sorted(functions2()))
def test_the_service_settings_each_function_inherited_agree(name: str) -> None:
    service2, _ = functions2()[name]
    props3 = functions3()[name]
    for field in ("internetAccess", "logConfig"):
        assert props3[field] == service2[field]
    assert (ROOT / props3["code"]).resolve() == (ROOT / functions2()[name][1]["codeUri"]).resolve()


@pytest.mark.parametrize("name", sorted(functions2()))
def test_the_async_settings_and_failure_destination_agree(name: str) -> None:
    async2 = same_account(functions2()[name][1]["asyncConfiguration"])
    async3 = same_account(functions3()[name]["asyncInvokeConfig"])
    for field in ("maxAsyncRetryAttempts", "maxAsyncEventAgeInSeconds"):
        assert async3[field] == async2[field]
    assert {k: v["destination"] for k, v in async3["destinationConfig"].items()} == async2[
        "destination"
    ]


def test_the_role_grants_the_same_actions_on_the_same_resources() -> None:
    [role] = roles3()
    service2, _ = functions2()["oss_repair_acl_trigger"]
    policies2 = service2["role"]["policies"]
    actions2 = {a for s in statements(policies2) for a in s["Action"]}
    actions3 = {a for s in statements(role["policies"]) for a in s["Action"]}
    assert actions3 == actions2
    assert grants(role["policies"]) == grants(policies2)
    assert [p["name"] for p in role["policies"]] == [p["name"] for p in policies2]
    # template.yml gives both functions one role (their shared service); so does this one.
    assert len({s["role"]["name"] for s, _ in functions2().values()}) == 1
    assert service2["role"]["name"] == role["name"]


@pytest.mark.parametrize("name", sorted(functions2()))
def test_the_triggers_agree(name: str) -> None:
    triggers2 = {t["name"]: t for t in functions2()[name][1]["triggers"]}
    triggers3 = {t["triggerName"]: t for t in functions3()[name]["triggers"]}
    assert set(triggers3) == set(triggers2)
    for trigger_name, t2 in triggers2.items():
        t3 = same_account(triggers3[trigger_name])
        t2 = same_account(t2)
        assert t3["triggerType"] == t2["type"]
        config2 = dict(t2["config"])
        if t2["type"] == "mns_topic":
            # FC 2.0 names the topic by name and region; FC 3.0 by its ARN.
            topic, region = config2.pop("topicName"), config2.pop("region")
            assert t3["sourceArn"] == f"acs:mns:{region}:{SAME_ACCOUNT}:/topics/{topic}"
            assert t3["invocationRole"] == t2["role"]
        assert t3["triggerConfig"] == config2


def test_the_shared_variables_agree() -> None:
    shared = set(VARS2) & set(VARS3)
    assert shared >= {
        "region",
        "topicName",
        "ruleName",
        "failureTopic",
        "remediationTopic",
        "dryRun",
    }
    assert {k: VARS3[k] for k in shared} == {k: VARS2[k] for k in shared}
    # Only what each edition needs differently: FC 2.0's cap is a command-line value, FC
    # 3.0's role name is what the ram resource and the functions' ARN share.
    assert set(VARS2) - shared == {"maxInstances"}
    assert set(VARS3) - shared == {"roleName"}


def _list_block(text: str, name: str) -> list[str]:
    """A vars list as written, commented-out entries included (the switchable options)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {name}:"))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


@pytest.mark.parametrize("name", [k for k, v in VARS2.items() if isinstance(v, list)])
def test_list_variables_offer_the_same_options_in_both_templates(name: str) -> None:
    """A list such as the role's OSS actions, with its commented-out options: switching an
    option on must mean the same in both files."""
    text2 = (ROOT / "template.yml").read_text(encoding="utf-8")
    assert _list_block(TEXT3, name) == _list_block(text2, name)


_SWITCH = re.compile(r"#\s*\[(\w+)\]")


def _switch_blocks(text: str) -> dict[str, list[str]]:
    """Every commented-out option, `# [name] ...` and the YAML commented out under it,
    dedented and with the account expression in one spelling, by name and place."""
    blocks: dict[str, list[str]] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _SWITCH.search(line)
        if match is None:
            continue
        body = []
        for following in lines[number + 1 :]:
            content = following.strip()
            # YAML under the switch: "# - item" or "#   key: value"; prose or code ends it.
            if not re.match(r"#( -|  )", content):
                break
            body.append(content[1:])
        indent = min((len(b) - len(b.lstrip()) for b in body), default=0)
        key = f"{match[1]}:{body[0].strip() if body else ''}"
        blocks[key] = [same_account(b[indent:]) for b in body]
    return blocks


def test_the_commented_out_options_are_the_same_in_both_templates() -> None:
    """The options a user switches on by uncommenting (role actions, role statements) exist
    in both files with the same content."""
    text2 = (ROOT / "template.yml").read_text(encoding="utf-8")
    assert _switch_blocks(TEXT3) == _switch_blocks(text2)


def test_a_drifted_template_would_be_caught() -> None:
    """The agreement checks compare content, not the file: one more statement or variable
    in template.yml than here is a difference they report."""
    [role] = roles3()
    service2, _ = functions2()["oss_repair_acl_trigger"]
    policies2 = [dict(p) for p in service2["role"]["policies"]]
    extra = {"Effect": "Allow", "Action": ["oss:PutBucketPublicAccessBlock"], "Resource": ["*"]}
    policies2[0] = {**policies2[0], "statement": [*policies2[0]["statement"], extra]}
    assert grants(role["policies"]) != grants(policies2)
    _, function2 = functions2()["oss_repair_acl_trigger"]
    drifted = {**function2["environmentVariables"], "newSetting": "x"}
    assert functions3()["oss_repair_acl_trigger"]["environmentVariables"] != drifted
