"""template.yml: valid for the `fc` component, and in agreement with the code it deploys.

The template has two `services:` entries (the `fc` component deploys one function per entry)
naming one FC service: the event function and the sweep. They are read here straight from
the YAML, ``${vars.*}`` resolved as Serverless Devs does.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from resource_repair import config_remediation, notify, selection, settings, sweep
from resource_repair.config_api import AGGREGATE_SWEEP_PERMISSIONS, SWEEP_PERMISSIONS
from resource_repair.member_access import HUB_PERMISSIONS
from resource_repair.remediators import public_access_block, registry
from resource_repair.remediators.acl import AclRemediator
from resource_repair.remediators.policy import PolicyRemediator
from resource_repair.settings import Settings
from resource_repair.tools import fc_package
from resource_repair.tools.template import TemplateError, load_template, resolve_variables

ROOT = Path(__file__).parent.parent
TEXT = (ROOT / "template.yml").read_text(encoding="utf-8")
RAW = yaml.safe_load(TEXT)
VARS = RAW["vars"]
ENTRIES: dict[str, dict[str, Any]] = {
    name: resolve_variables(entry, VARS) for name, entry in RAW["services"].items()
}
EVENT = ENTRIES["resource_repair"]["props"]
SWEEP = ENTRIES["resource_repair_sweep"]["props"]
SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "devsapp-fc-props.schema.json").read_text()
)
# What Serverless Devs substitutes with the deploying access's AccountID (see below).
ACCOUNT = "${config(AccountID)}"


def role_statements() -> list[dict[str, Any]]:
    policies = EVENT["service"]["role"]["policies"]
    assert [p for p in policies if isinstance(p, str)] == []  # no system policy attached
    return [s for p in policies for s in p["statement"]]


@pytest.mark.parametrize("entry", ["resource_repair", "resource_repair_sweep"])
def test_props_validate_against_the_fc_component_schema(entry: str) -> None:
    assert ENTRIES[entry]["component"] == "fc"
    jsonschema.validate(ENTRIES[entry]["props"], SCHEMA)


def test_a_broken_template_would_fail_the_schema() -> None:
    broken = dict(EVENT, function=dict(EVENT["function"], runtime="python3.12"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_both_functions_are_one_service_written_once() -> None:
    entries = list(RAW["services"].values())
    assert [e["props"]["function"]["name"] for e in entries] == [
        "oss_repair_acl_trigger",
        "oss_repair_acl_sweep",
    ]
    # An alias loads as the very same object: the block exists once in the file.
    first, second = (e["props"] for e in entries)
    assert first["service"] is second["service"]
    assert first["function"]["environmentVariables"] is second["function"]["environmentVariables"]
    assert TEXT.count("service: &service") == 1
    assert TEXT.count("service: *service") == 1
    assert first["region"] == second["region"]


def test_the_samples_names_are_kept() -> None:
    assert EVENT["service"]["name"] == "resource_repair"
    assert EVENT["function"]["name"] == "oss_repair_acl_trigger"
    trigger = EVENT["triggers"][0]
    assert trigger["name"] == "ConfigRuleNonComplianceSMQTrigger"
    assert trigger["config"]["topicName"] == "SMQTestConfig"
    environment = EVENT["function"]["environmentVariables"]
    assert environment["prepareRuleName"] == "test-oss-bucket-public-read-prohibited"


@pytest.mark.parametrize(("props", "handler"), [(EVENT, "index.handler"), (SWEEP, "index.sweep")])
def test_handler_resolves_to_a_function_taking_event_and_context(
    props: dict[str, Any], handler: str
) -> None:
    assert props["function"]["handler"] == handler
    module_name, _, function_name = handler.partition(".")
    path = ROOT / "src" / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"deployed_{module_name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, function_name)
    assert list(inspect.signature(function).parameters) == ["event", "context"]


def test_runtime_is_python310() -> None:
    assert EVENT["function"]["runtime"] == SWEEP["function"]["runtime"] == "python3.10"


def test_environment_variables_are_exactly_the_ones_the_code_reads() -> None:
    environment = EVENT["function"]["environmentVariables"]
    read = set(settings.VARIABLES)
    assert set(environment) == read
    assert all(name.isascii() and name.isalnum() for name in environment)


def test_template_defaults_parse_as_valid_settings() -> None:
    environment = EVENT["function"]["environmentVariables"]
    parsed = Settings.from_env(environment)
    assert parsed.dry_run is True  # a first deployment only reports
    assert parsed.rule_references == ("test-oss-bucket-public-read-prohibited",)
    assert parsed.exempt_tag is None
    assert parsed.block_public_access is False
    topics = notify.NotifySettings.from_env(environment)
    assert topics.failure_topic == VARS["failureTopic"]
    assert topics.remediation_topic is None  # off unless a topic is named


def test_role_grants_exactly_what_the_code_declares() -> None:
    actions = {a for s in role_statements() for a in s["Action"]}
    assert actions == {
        *AclRemediator.PERMISSIONS,
        *SWEEP_PERMISSIONS,
        *config_remediation.PERMISSIONS,
        "mns:PublishMessage",
    }


# The documented switches: a block of commented actions under vars.ossActions, marked
# `# [name]`, and the settings that go with it.
SWITCHES: dict[str, dict[str, str]] = {
    "policy": {
        "prepareRuleName": "test-oss-bucket-public-read-prohibited,"
        "oss-bucket-policy-no-any-anonymous"
    },
    "exemptTag": {"exemptTag": "public-on-purpose"},
    "blockPublicAccess": {"blockPublicAccess": "true"},
    "memberRoleName": {"memberRoleName": "resource-repair-member", "memberAccounts": "*"},
    "configAggregatorId": {"configAggregatorId": "ca-a4e6626a7a8c0046"},
}
COMBINATIONS = [
    tuple(name for i, name in enumerate(SWITCHES) if mask >> i & 1)
    for mask in range(2 ** len(SWITCHES))
]


def switched_on(names: tuple[str, ...], text: str = TEXT) -> str:
    """template.yml (or ``text``) with the ``# [name]`` blocks of ``names`` uncommented,
    as the README tells the reader to do."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    block: str | None = None
    for line in lines:
        marker = re.match(r"\s*# \[(\w+)\]", line)
        if marker:
            block = marker[1]
        elif block is not None and re.match(r"\s*# (- |  )", line):
            # A list item, or the continuation of one (a whole policy statement).
            if block in names:
                line = line.replace("# ", "", 1)
        else:
            block = None
        out.append(line)
    return "".join(out)


def test_every_documented_switch_has_its_block() -> None:
    for name in SWITCHES:
        assert f"# [{name}]" in TEXT
        assert switched_on((name,)) != TEXT


@pytest.mark.parametrize("names", COMBINATIONS, ids=lambda n: "+".join(n) or "default")
def test_each_documented_combination_grants_exactly_what_its_settings_use(
    names: tuple[str, ...],
) -> None:
    raw = yaml.safe_load(switched_on(names))
    for name in names:  # the template's variables set as the comments say
        raw["vars"].update({k: v for k, v in SWITCHES[name].items() if k in raw["vars"]})
    props = resolve_variables(raw["services"]["resource_repair"], raw["vars"])["props"]
    environment = dict(props["function"]["environmentVariables"])
    for name in names:
        environment.update(SWITCHES[name])
    parsed = Settings.from_env(environment)
    statements = [s for p in props["service"]["role"]["policies"] for s in p["statement"]]
    oss = {a for s in statements for a in s["Action"] if a.startswith("oss:")}
    assert oss == selection.required_actions(parsed)
    config = {a for s in statements for a in s["Action"] if a.startswith("config:")}
    aggregate = (
        (*AGGREGATE_SWEEP_PERMISSIONS, *config_remediation.AGGREGATE_PERMISSIONS)
        if parsed.config_aggregator_id
        else ()
    )
    assert config == {*SWEEP_PERMISSIONS, *config_remediation.PERMISSIONS, *aggregate}
    # sts:AssumeRole only in hub mode, and only on the member role's name.
    sts = [s for s in statements if any(a.startswith("sts:") for a in s["Action"])]
    if parsed.member_role_name is None:
        assert sts == []
    else:
        assert sts == [
            {
                "Effect": "Allow",
                "Action": list(HUB_PERMISSIONS),
                "Resource": [f"acs:ram::*:role/{parsed.member_role_name}"],
            }
        ]
    # Both functions share the one role (the sweep's entry aliases the same service).
    sweep_props = raw["services"]["resource_repair_sweep"]["props"]
    assert (
        sweep_props["service"]["role"]
        == raw["services"]["resource_repair"]["props"]["service"]["role"]
    )


def test_the_registry_lists_the_same_actions_the_remediators_declare() -> None:
    assert registry.ACTIONS[registry.Remedy.ACL_PRIVATE] == AclRemediator.PERMISSIONS
    assert registry.ACTIONS[registry.Remedy.ACL_NO_WRITE] == AclRemediator.PERMISSIONS
    assert registry.ACTIONS[registry.Remedy.POLICY] == PolicyRemediator.PERMISSIONS
    assert registry.BLOCK_PUBLIC_ACCESS_ACTIONS == public_access_block.PERMISSIONS


def test_role_is_scoped_to_the_deploying_account_and_the_two_topics() -> None:
    by_service = {s["Action"][0].split(":")[0]: s["Resource"] for s in role_statements()}
    assert by_service["oss"] == [f"acs:oss:*:{ACCOUNT}:*"]
    assert by_service["config"] == [f"acs:config:*:{ACCOUNT}:*"]
    region = VARS["region"]
    assert by_service["mns"] == [
        f"acs:mns:{region}:{ACCOUNT}:/topics/{VARS['failureTopic']}/messages",
        f"acs:mns:{region}:{ACCOUNT}:/topics/{VARS['remediationTopic']}/messages",
    ]


def test_no_account_id_is_written_in_the_template() -> None:
    """Serverless Devs runs `edition: 1.0.0` YAML through @serverless-devs/core, whose
    variable parser looks up the literal text between the parentheses of ``config(...)``
    in the access's credentials: ``${config(AccountID)}`` resolves there, while the quoted
    spelling of the version 3 docs would look up a key named ``'AccountID'`` and stay."""
    assert re.search(r"(?<!\d)\d{12,20}(?!\d)", TEXT) is None
    assert "config('AccountID')" not in TEXT
    assert 'config("AccountID")' not in TEXT
    arns = [
        EVENT["triggers"][0]["role"],
        EVENT["function"]["asyncConfiguration"]["destination"]["onFailure"],
    ]
    assert all(f":{ACCOUNT}:" in arn for arn in arns)


def test_a_delivery_fc_gives_up_on_goes_to_the_failure_topic_the_role_may_publish_to() -> None:
    region, topic = VARS["region"], VARS["failureTopic"]
    arn = f"acs:mns:{region}:{ACCOUNT}:/topics/{topic}/messages"
    for props in (EVENT, SWEEP):
        assert props["function"]["asyncConfiguration"]["destination"] == {"onFailure": arn}
    published = {
        r for s in role_statements() if s["Action"] == ["mns:PublishMessage"] for r in s["Resource"]
    }
    assert arn in published


def test_trigger_delivers_stream_without_a_filter_through_the_mns_role() -> None:
    trigger = EVENT["triggers"][0]
    assert trigger["type"] == "mns_topic"
    assert trigger["config"]["notifyContentFormat"] == "STREAM"
    assert "filterTag" not in trigger["config"]
    assert trigger["role"].endswith(":role/AliyunMNSNotificationRole")


def test_the_sweep_runs_on_a_timer_every_six_hours_by_default_and_is_never_replayed() -> None:
    [trigger] = SWEEP["triggers"]
    assert trigger["type"] == "timer"
    assert trigger["config"]["enable"] is True
    assert trigger["config"]["cronExpression"] == VARS["sweepSchedule"] == "@every 6h"
    assert SWEEP["function"]["asyncConfiguration"]["maxAsyncRetryAttempts"] == 0


def test_timeout_holds_the_worst_case_retry_budget() -> None:
    parsed = Settings.from_env(EVENT["function"]["environmentVariables"])
    worst_case = 3 * parsed.max_attempts * parsed.request_timeout + 3 * 2.0
    assert EVENT["function"]["timeout"] >= worst_case
    assert EVENT["function"]["asyncConfiguration"]["maxAsyncRetryAttempts"] >= 1


def test_the_sweeps_timeout_holds_at_least_one_bucket_and_its_margins() -> None:
    parsed = Settings.from_env(SWEEP["function"]["environmentVariables"])
    needed = sweep.bucket_budget(parsed) + sweep._RETURN_MARGIN + sweep._NOTIFY_SECONDS
    assert SWEEP["function"]["timeout"] >= 5 * needed  # room for far more than one bucket


def test_deploying_builds_the_code_package_that_both_functions_upload() -> None:
    for entry in ENTRIES.values():
        [step] = entry["actions"]["pre-deploy"]
        assert step["run"].startswith("python3 src/resource_repair/tools/fc_package.py")
        assert "--python-version 3.10" in step["run"]
        assert (ROOT / step["path"] / "src" / "resource_repair" / "tools").is_dir()
        code = (ROOT / entry["props"]["function"]["codeUri"]).resolve()
        assert code == fc_package.DEFAULT_OUT.resolve()


def test_the_event_function_is_capped_after_deploying() -> None:
    [step] = ENTRIES["resource_repair"]["actions"]["post-deploy"]
    assert step["component"] == f"fc ondemand put --qualifier LATEST --max {VARS['maxInstances']}"
    assert isinstance(VARS["maxInstances"], int)
    assert 1 <= VARS["maxInstances"] <= 20


def test_deployed_code_keeps_everything_the_handlers_import() -> None:
    """src/.fcignore leaves tools and test doubles out; the handlers must not need them."""
    patterns = fc_package.ignore_patterns(ROOT / "src" / ".fcignore")
    probe = (
        "import sys, index, resource_repair.oss_client, resource_repair.remediators.acl,"
        " resource_repair.sweep, resource_repair.config_api, resource_repair.notify;"
        "print('\\n'.join(m.__file__ for n, m in list(sys.modules.items())"
        " if n == 'index' or n.startswith('resource_repair')))"
    )
    files = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT / "src"
    ).stdout.split()
    src = (ROOT / "src").resolve()
    relative = [str(Path(f).resolve().relative_to(src)) for f in files]
    assert {"resource_repair/handler.py", "resource_repair/sweep.py"} <= set(relative)
    excluded = [f for f in relative for p in patterns if fnmatch(f, p) or fnmatch(f, p + "*")]
    assert excluded == []


def test_unknown_variables_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("services:\n  s:\n    component: fc\n    props:\n      region: ${vars.nope}\n")
    with pytest.raises(TemplateError, match=r"\$\{vars.nope\} is used but not defined"):
        load_template(path)


def test_both_functions_start_in_dry_run_from_one_variable() -> None:
    """A first deployment only reports: a new rule's first evaluation names every public
    bucket, websites included, and the sweep would make them all private."""
    assert VARS["dryRun"] == "true"
    assert re.findall(r"dryRun: (.*)", TEXT) == ['"true"', "${vars.dryRun}"]
    for function in (EVENT, SWEEP):
        assert Settings.from_env(function["function"]["environmentVariables"]).dry_run
