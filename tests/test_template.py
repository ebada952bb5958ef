"""template.yml: valid for the `fc` component, and in agreement with the code it deploys."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import jsonschema
import pytest

from resource_repair.remediator import AclRemediator
from resource_repair.settings import VARIABLES
from resource_repair.tools.template import TemplateError, load_template

ROOT = Path(__file__).parent.parent
TEMPLATE = load_template(ROOT / "template.yml")
SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "devsapp-fc-props.schema.json").read_text()
)


def test_props_validate_against_the_fc_component_schema() -> None:
    jsonschema.validate(TEMPLATE.props, SCHEMA)


def test_a_broken_template_would_fail_the_schema() -> None:
    broken = dict(TEMPLATE.props, function=dict(TEMPLATE.props["function"], runtime="python3.12"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_the_samples_names_are_kept() -> None:
    assert TEMPLATE.service == "resource_repair"
    assert TEMPLATE.function == "oss_repair_acl_trigger"
    trigger = TEMPLATE.props["triggers"][0]
    assert trigger["name"] == "ConfigRuleNonComplianceSMQTrigger"
    assert trigger["config"]["topicName"] == "SMQTestConfig"
    assert TEMPLATE.environment["prepareRuleName"] == "test-oss-bucket-public-read-prohibited"


def test_handler_resolves_to_a_function_taking_event_and_context() -> None:
    module_name, _, function_name = TEMPLATE.handler.partition(".")
    path = ROOT / TEMPLATE.code_uri / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"deployed_{module_name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = getattr(module, function_name)
    assert list(inspect.signature(handler).parameters) == ["event", "context"]


def test_runtime_is_python310() -> None:
    assert TEMPLATE.runtime == "python3.10"


def test_environment_variables_are_exactly_the_ones_the_code_reads() -> None:
    assert set(TEMPLATE.environment) == set(VARIABLES)
    assert all(name.isascii() and name.isalnum() for name in TEMPLATE.environment)


def test_template_defaults_parse_as_valid_settings() -> None:
    from resource_repair.settings import Settings

    settings = Settings.from_env(TEMPLATE.environment)
    assert settings.dry_run is False
    assert settings.rule_references == ("test-oss-bucket-public-read-prohibited",)


def test_role_policy_grants_exactly_what_the_remediator_declares() -> None:
    role = TEMPLATE.props["service"]["role"]
    custom = [p for p in role["policies"] if isinstance(p, dict)]
    assert [p for p in role["policies"] if isinstance(p, str)] == []  # no system policy attached
    actions = {a for p in custom for s in p["statement"] for a in s["Action"]}
    assert actions == set(AclRemediator.PERMISSIONS)
    resources = {r for p in custom for s in p["statement"] for r in s["Resource"]}
    assert resources == {f"acs:oss:*:{TEMPLATE.variables['accountId']}:*"}


def test_trigger_delivers_stream_without_a_filter_through_the_mns_role() -> None:
    trigger = TEMPLATE.props["triggers"][0]
    assert trigger["type"] == "mns_topic"
    assert trigger["config"]["notifyContentFormat"] == "STREAM"
    assert "filterTag" not in trigger["config"]
    assert trigger["role"].endswith(":role/AliyunMNSNotificationRole")


def test_timeout_holds_the_worst_case_retry_budget() -> None:
    from resource_repair.settings import Settings

    settings = Settings.from_env(TEMPLATE.environment)
    worst_case = 3 * settings.max_attempts * settings.request_timeout + 3 * 2.0
    assert TEMPLATE.timeout >= worst_case
    assert TEMPLATE.props["function"]["asyncConfiguration"]["maxAsyncRetryAttempts"] >= 1


def test_deployed_code_keeps_everything_the_handler_imports() -> None:
    """src/.fcignore leaves tools and test doubles out; the handler must not need them."""
    patterns = [
        line.strip()
        for line in (ROOT / "src" / ".fcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    probe = (
        "import sys, index, resource_repair.oss_client, resource_repair.remediator;"
        "print('\\n'.join(m.__file__ for n, m in list(sys.modules.items())"
        " if n == 'index' or n.startswith('resource_repair')))"
    )
    files = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT / "src"
    ).stdout.split()
    src = (ROOT / "src").resolve()
    relative = [str(Path(f).resolve().relative_to(src)) for f in files]
    assert "resource_repair/handler.py" in relative
    excluded = [f for f in relative for p in patterns if fnmatch(f, p) or fnmatch(f, p + "*")]
    assert excluded == []


def test_unknown_variables_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("services:\n  s:\n    component: fc\n    props:\n      region: ${vars.nope}\n")
    with pytest.raises(TemplateError, match=r"\$\{vars.nope\} is used but not defined"):
        load_template(path)
