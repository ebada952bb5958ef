"""``resource-repair doctor``: every check passes on a cloud set up as the template says, and
each thing a first deployment gets wrong is one FAIL line saying what to do.

Every service is a fake: STS, RAM and Cloud Config inside aliyunsdkcore's vendored requests,
FC inside requests, MNS over loopback HTTP. Any other host fails to resolve, as offline.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from resource_repair.config_api import SITES, SWEEP_PERMISSIONS
from resource_repair.remediators.acl import AclRemediator
from resource_repair.testing import FakeCredentials
from resource_repair.testing.config import ConfigBackend, FakeRule, mock_config_api
from resource_repair.testing.fc_api import FcApiBackend, FunctionAnswer, mock_fc_api
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from resource_repair.testing.ram import RamBackend, mock_ram
from resource_repair.testing.sts import StsBackend, mock_sts
from resource_repair.tools import doctor
from resource_repair.tools.template import load_template

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "template.yml"
CALLER = FakeCredentials(
    "LTAI5tDoctorKeyDoNotLog01", "DoctorSecretDoNotLog0123456789", account_id="5555000011112222"
)
ACCOUNT = CALLER.account_id
OTHER_ACCOUNT = "1698272328540001"
RULE_ID = "cr-5f1e00c0ffee00a80001"
DEPLOYED = load_template(TEMPLATE, account_id=ACCOUNT)
REGION = DEPLOYED.region
TOPIC = str(DEPLOYED.variables["topicName"])
RULE_NAME = DEPLOYED.environment["prepareRuleName"]
FAILURE_TOPIC = DEPLOYED.environment.get("failureTopic", "")
TRIGGER = next(t for t in DEPLOYED.props["triggers"] if t["type"] == "mns_topic")
ROLE_ARN_NAME = "resource-repair-oss-acl"
TOPIC_ARN = f"acs:mns:{REGION}:{ACCOUNT}:/topics/{TOPIC}"
# The template's other functions in the same service (the sweep) and their triggers.
COMPANIONS = {
    entry["props"]["function"]["name"]: [t["name"] for t in entry["props"].get("triggers", [])]
    for entry in yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["services"].values()
    if entry["props"]["function"]["name"] != DEPLOYED.function
}


# -- the cloud, set up as the README says ------------------------------------------------------


@dataclasses.dataclass
class Cloud:
    sts: StsBackend
    config: ConfigBackend
    rule: FakeRule
    mns: MnsBackend
    mns_url: str
    fc: FcApiBackend
    ram: RamBackend


@pytest.fixture(autouse=True)
def offline(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's offline, with the caller's keys."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", CALLER.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", CALLER.access_key_secret)
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)


def role_statements() -> list[dict[str, Any]]:
    """The role policy exactly as the template deploys it, for the caller's account."""
    [policy] = DEPLOYED.props["service"]["role"]["policies"]
    return list(policy["statement"])


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    mns = MnsBackend(account_id=ACCOUNT, credentials=(CALLER,))
    for topic in filter(None, (TOPIC, FAILURE_TOPIC)):
        mns.create_topic(topic)
    with (
        mock_config_api() as config,
        mock_sts() as sts,
        mock_ram() as ram,
        mock_fc_api() as fc,
        fake_mns_server(mns) as server,
    ):
        sts.register(CALLER)
        config.credentials[CALLER.access_key_id] = CALLER
        rule = config.add_rule(RULE_NAME, RULE_ID)
        config.add_delivery_channel(TOPIC_ARN)
        ram.register(CALLER)
        ram.attach(ROLE_ARN_NAME, ram.add_policy("ResourceRepairBucketAcl", role_statements()))
        fc.credentials[CALLER.access_key_id] = CALLER
        fc.add_service(DEPLOYED.service, f"acs:ram::{ACCOUNT}:role/{ROLE_ARN_NAME}")
        fc.deploy(DEPLOYED.service, DEPLOYED.function, lambda _: FunctionAnswer(b"{}"))
        fc.add_trigger(
            DEPLOYED.service,
            DEPLOYED.function,
            TRIGGER["name"],
            source_arn=TOPIC_ARN,
            config=dict(TRIGGER["config"]),
        )
        for function, triggers in COMPANIONS.items():
            fc.deploy(DEPLOYED.service, function, lambda _: FunctionAnswer(b"{}"))
            for trigger in triggers:
                fc.add_trigger(DEPLOYED.service, function, trigger, trigger_type="timer")
        yield Cloud(sts, config, rule, mns, server.url, fc, ram)


def run_doctor(cloud: Cloud | None, *extra: str) -> tuple[int, list[str], str]:
    """Exit code, the check lines (stdout) and stderr."""
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    argv = ["-t", str(TEMPLATE), *extra]
    if cloud is not None and "--mns-endpoint" not in extra:
        argv += ["--mns-endpoint", cloud.mns_url.removeprefix("http://")]
    out, err = io.StringIO(), io.StringIO()
    code = doctor.run(parser.parse_args(argv), out, err)
    lines = out.getvalue().splitlines()
    for line in lines:  # one line per check, nothing else
        assert re.match(r"(ok|FAIL|skip) ", line), line
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, lines, err.getvalue()


def line_of(lines: list[str], check: str) -> str:
    [found] = [line for line in lines if line.split()[1] == check]
    return found


def status(lines: list[str], check: str) -> str:
    return line_of(lines, check).split()[0]


def template_with(tmp_path: Path, **variables: str) -> str:
    """A copy of the template with some of its ``vars`` changed."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in variables.items():
        text, count = re.subn(rf"(?m)^  {name}: .*$", f"  {name}: {value}", text)
        assert count == 1, name
    path = tmp_path / "template.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- all well ------------------------------------------------------------------------------


def test_a_cloud_set_up_as_the_template_says_passes_every_check(cloud: Cloud) -> None:
    code, lines, err = run_doctor(cloud)
    assert code == 0, lines
    checks = [line.split()[1] for line in lines]
    assert checks == [
        "account",
        "settings",
        "sweep-time",
        "rule",
        "topic",
        *(["failureTopic"] if FAILURE_TOPIC else []),
        "delivery",
        "service",
        "function",
        "trigger",
        "role",
        *(["sweep"] if COMPANIONS else []),
    ]
    assert all(line.startswith("ok ") for line in lines), lines
    assert ACCOUNT in line_of(lines, "account")  # from STS: no --account-id was given
    assert RULE_ID in line_of(lines, "rule")
    assert "ACTIVE" in line_of(lines, "rule")
    assert "all" in err
    assert "passed" in err
    # Reads only, and each of the role's required actions was found in the template's policy.
    assert cloud.config.operations() == ["ListConfigRules", "ListConfigDeliveryChannels"]
    for action in (*AclRemediator.PERMISSIONS, *SWEEP_PERMISSIONS):
        assert action in line_of(lines, "role")


def test_nothing_secret_reaches_the_output(cloud: Cloud) -> None:
    cloud.config.fail_next(
        2,
        status=400,
        code="SignatureDoesNotMatch",
        message="Specified signature is not matched with our calculation. server string to sign is:"
        f"POST&%2F&AccessKeyId%3D{CALLER.access_key_id}%26SecurityToken%3Dsecret-token-value",
    )
    code, lines, err = run_doctor(cloud)
    assert code == 1
    text = "\n".join(lines) + err
    assert "SignatureDoesNotMatch" in line_of(lines, "rule")
    for secret in (CALLER.access_key_secret, CALLER.access_key_id, "secret-token-value"):
        assert secret not in text
    assert "access key" in line_of(lines, "rule")  # what to do: the keys were refused


def test_a_rule_is_found_by_its_id_or_managed_identifier(cloud: Cloud, tmp_path: Path) -> None:
    template = template_with(tmp_path, ruleName=f"{RULE_ID},oss-bucket-public-read-prohibited")
    code, lines, _ = run_doctor(cloud, "-t", template)
    assert code == 0, lines
    rule_lines = [line for line in lines if line.split()[1] == "rule"]
    assert len(rule_lines) == 2
    assert all(line.startswith("ok ") for line in rule_lines)


def test_skip_deployed_checks_only_what_exists_before_deploying(cloud: Cloud) -> None:
    cloud.fc.services.clear()
    code, lines, err = run_doctor(cloud, "--skip-deployed")
    assert code == 0, lines
    for check in ("service", "function", "trigger", "role"):
        assert status(lines, check) == "skip"
        assert "--skip-deployed" in line_of(lines, check)
    assert cloud.fc.reads == []
    assert "skipped" in err


def test_the_account_from_the_command_line_asks_sts_nothing(cloud: Cloud) -> None:
    code, lines, _ = run_doctor(cloud, "--account-id", ACCOUNT)
    assert code == 0, lines
    assert "--account-id" in line_of(lines, "account")
    assert cloud.sts.calls == []


# -- each failing check ----------------------------------------------------------------------


def test_unknown_credentials_fail_the_account_and_skip_what_needs_it(cloud: Cloud) -> None:
    cloud.sts.credentials.pop(CALLER.access_key_id)
    code, lines, err = run_doctor(cloud)
    assert code == 1
    assert status(lines, "account") == "FAIL"
    assert "InvalidAccessKeyId.NotFound" in line_of(lines, "account")
    assert "--account-id" in line_of(lines, "account")  # the way out
    for check in ("topic", "delivery", "service", "function", "trigger", "role"):
        assert status(lines, check) == "skip", check
        assert "account" in line_of(lines, check)
    assert "failed" in err


def test_a_rule_that_does_not_exist_fails_and_names_the_rules_there(cloud: Cloud) -> None:
    cloud.config.rules.clear()
    cloud.config.add_rule("someone-elses-rule", "cr-1")
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "rule")
    assert line.startswith("FAIL ")
    assert "someone-elses-rule" in line
    assert "vars.ruleName" in line


def test_a_rule_name_that_would_steer_the_terminal_is_shown_escaped(cloud: Cloud) -> None:
    # Anyone who can create a Config rule in the account names it.
    cloud.config.rules.clear()
    cloud.config.add_rule("x\x1b[2J\x1b[1;1Hok    rule              all fine\r\u202e", "cr-1")
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "rule")
    assert line.startswith("FAIL ")
    for control in ("\x1b", "\r", "\u202e"):
        assert control not in line
    assert "\\x1b[2J" in line  # shown for what it is


def test_an_inactive_rule_fails(cloud: Cloud) -> None:
    cloud.rule.state = "INACTIVE"
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "rule")
    assert line.startswith("FAIL ")
    assert "INACTIVE" in line
    assert "enable" in line.lower()


def test_a_rule_that_does_not_look_at_buckets_fails(cloud: Cloud) -> None:
    cloud.rule.resource_types = "ACS::ECS::Instance"
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "ACS::OSS::Bucket" in line_of(lines, "rule")


def test_an_empty_rule_setting_fails(cloud: Cloud, tmp_path: Path) -> None:
    code, lines, _ = run_doctor(cloud, "-t", template_with(tmp_path, ruleName='""'))
    assert code == 1
    assert "ignores every message" in line_of(lines, "rule")


def test_rules_that_cannot_be_listed_fail_with_the_permission_to_grant(cloud: Cloud) -> None:
    cloud.config.fail_next(2, status=403, code="NoPermission")
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "config:ListConfigRules" in line_of(lines, "rule")
    assert "config:ListConfigDeliveryChannels" in line_of(lines, "delivery")


def test_a_missing_topic_fails_and_says_where_to_create_it(cloud: Cloud) -> None:
    cloud.mns.topics.pop(TOPIC)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "topic")
    assert line.startswith("FAIL ")
    assert f"{TOPIC} does not exist in {REGION}" in line
    assert "create topic" in line
    assert status(lines, "delivery") == "ok"  # the channel itself is still checked


def test_a_missing_failure_topic_fails(cloud: Cloud) -> None:
    assert FAILURE_TOPIC, "the template's failureTopic"
    cloud.mns.topics.pop(FAILURE_TOPIC)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert status(lines, "topic") == "ok"
    assert status(lines, "failureTopic") == "FAIL"
    assert "vars.failureTopic" in line_of(lines, "failureTopic")


ONLY_ECS = [{"filterType": "ResourceType", "values": ["ACS::ECS::Instance"], "multiple": True}]
HIGH_RISK_ONLY = [{"filterType": "RuleRiskLevel", "value": "1", "multiple": False}]


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        (None, "no delivery channel sends to"),
        ({"target_arn": f"acs:mns:{REGION}:{ACCOUNT}:/topics/other"}, "/topics/other"),
        ({"target_arn": f"acs:mns:{REGION}:{OTHER_ACCOUNT}:/topics/{TOPIC}"}, OTHER_ACCOUNT),
        ({"status": 0}, "disabled"),
        ({"non_compliant_notification": False}, "non-compliance"),
        ({"channel_type": "OSS"}, "no MNS channel"),
        ({"condition": json.dumps(ONLY_ECS)}, "exclude ACS::OSS::Bucket"),
        ({"condition": json.dumps(HIGH_RISK_ONLY)}, "risk level"),
    ],
)
def test_a_delivery_channel_that_would_not_deliver_fails(
    cloud: Cloud, channel: dict[str, Any] | None, words: str
) -> None:
    cloud.rule.risk_level = 2  # medium: a high-risk-only channel drops its results
    cloud.config.delivery_channels.clear()
    if channel is not None:
        cloud.config.add_delivery_channel(**{"target_arn": TOPIC_ARN, **channel})
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "delivery")
    assert line.startswith("FAIL ")
    assert words in line
    assert "Fix:" in line


def test_a_service_not_yet_deployed_fails_and_skips_what_is_inside_it(cloud: Cloud) -> None:
    cloud.fc.services.clear()
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert status(lines, "service") == "FAIL"
    assert "s deploy -t" in line_of(lines, "service")
    for check in ("function", "trigger", "role"):
        assert status(lines, check) == "skip"
        assert DEPLOYED.service in line_of(lines, check)


def test_a_missing_function_fails_and_skips_its_trigger(cloud: Cloud) -> None:
    cloud.fc.function_configs.clear()
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert status(lines, "function") == "FAIL"
    assert "not deployed" in line_of(lines, "function")
    assert status(lines, "trigger") == "skip"
    assert status(lines, "role") == "ok"


def test_a_missing_trigger_fails(cloud: Cloud) -> None:
    cloud.fc.triggers.clear()
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "does not exist" in line_of(lines, "trigger")
    assert status(lines, "trigger") == "FAIL"


def test_a_trigger_on_another_topic_fails(cloud: Cloud) -> None:
    cloud.fc.add_trigger(
        DEPLOYED.service,
        DEPLOYED.function,
        TRIGGER["name"],
        source_arn=f"acs:mns:{REGION}:{ACCOUNT}:/topics/SomethingElse",
    )
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "trigger")
    assert line.startswith("FAIL ")
    assert "SomethingElse" in line
    assert TOPIC_ARN in line


@pytest.mark.parametrize("missing", ["function", "trigger"])
def test_a_sweep_not_deployed_fails(cloud: Cloud, missing: str) -> None:
    assert COMPANIONS, "the template's sweep function"
    if missing == "function":
        for function in COMPANIONS:
            del cloud.fc.function_configs[(DEPLOYED.service, function)]
    else:
        cloud.fc.triggers = {k: v for k, v in cloud.fc.triggers.items() if k[1] not in COMPANIONS}
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "sweep")
    assert line.startswith("FAIL ")
    assert "s deploy -t" in line
    assert status(lines, "function") == "ok"


def test_a_role_without_an_action_the_code_calls_fails_naming_it(cloud: Cloud) -> None:
    statements = role_statements()
    statements[0] = {**statements[0], "Action": ["oss:GetBucketInfo"]}
    cloud.ram.add_policy("ResourceRepairBucketAcl", statements)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    line = line_of(lines, "role")
    assert line.startswith("FAIL ")
    assert "lacks oss:PutBucketAcl" in line


def test_a_role_whose_policy_covers_another_accounts_buckets_fails(cloud: Cloud) -> None:
    """The trap of a template left with someone else's account id in its policy."""
    statements = [
        {**s, "Resource": [r.replace(ACCOUNT, OTHER_ACCOUNT) for r in s["Resource"]]}
        for s in role_statements()
    ]
    cloud.ram.add_policy("ResourceRepairBucketAcl", statements)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "oss:PutBucketAcl" in line_of(lines, "role")


def test_a_role_of_another_account_fails(cloud: Cloud) -> None:
    cloud.fc.add_service(DEPLOYED.service, f"acs:ram::{OTHER_ACCOUNT}:role/{ROLE_ARN_NAME}")
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert f"belongs to account {OTHER_ACCOUNT}" in line_of(lines, "role")


def test_a_service_without_a_role_fails(cloud: Cloud) -> None:
    cloud.fc.add_service(DEPLOYED.service, "")
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "no usable role" in line_of(lines, "role")


def test_a_broad_system_policy_counts_and_old_answers_are_read_by_version(cloud: Cloud) -> None:
    cloud.ram.roles[ROLE_ARN_NAME] = []
    cloud.ram.get_policy_without_document = True  # the document only from GetPolicyVersion
    for name, actions in (
        ("AliyunOSSFullAccess", ["oss:*"]),
        ("ConfigRead", ["config:List*", "config:Get*"]),
        ("Publish", ["mns:PublishMessage"]),
    ):
        policy = cloud.ram.add_policy(
            name, [{"Effect": "Allow", "Action": actions, "Resource": "*"}], policy_type="System"
        )
        cloud.ram.attach(ROLE_ARN_NAME, policy)
    code, lines, _ = run_doctor(cloud)
    assert code == 0, lines
    assert "GetPolicyVersion" in [action for action, _ in cloud.ram.calls]


def test_an_explicit_deny_wins_over_an_allow(cloud: Cloud) -> None:
    deny = cloud.ram.add_policy(
        "NoAclWrites", [{"Effect": "Deny", "Action": "oss:PutBucketAcl", "Resource": "*"}]
    )
    cloud.ram.attach(ROLE_ARN_NAME, deny)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "lacks oss:PutBucketAcl" in line_of(lines, "role")


def test_a_role_policies_cannot_be_read_says_which_permission_to_grant(cloud: Cloud) -> None:
    cloud.ram.roles.clear()
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "EntityNotExist.Role" in line_of(lines, "role")


def test_keys_a_service_does_not_know_fail_with_what_to_check(cloud: Cloud) -> None:
    cloud.mns.credentials.clear()
    cloud.fc.credentials.pop(CALLER.access_key_id)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    for check in ("topic", "service"):
        line = line_of(lines, check)
        assert "InvalidAccessKeyI" in line  # MNS says ...Id, FC ...ID
        assert "check the access key" in line


def test_the_site_option_picks_configs_endpoint(cloud: Cloud) -> None:
    run_doctor(cloud, "--site", "china")
    assert {call.host for call in cloud.config.calls} == {"config.cn-shanghai.aliyuncs.com"}


def test_the_site_names_are_configs() -> None:
    assert set(doctor.SITE_NAMES) == set(SITES)


def test_a_garbled_answer_is_one_fail_line_and_the_other_checks_still_run(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloud.fc, "read", lambda path, request_id: (200, {}, "[1, 2"))
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "not JSON" in line_of(lines, "service")
    assert status(lines, "delivery") == "ok"


def test_a_check_that_breaks_is_one_fail_line_not_a_traceback(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: doctor.Doctor) -> doctor.Finding:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(doctor.Doctor, "check_settings", broken)
    code, lines, _ = run_doctor(cloud)
    assert code == 1
    assert "RuntimeError: unexpected" in line_of(lines, "settings")
    assert status(lines, "role") == "ok"


# -- unreachable services and bad input ------------------------------------------------------


def test_unreachable_services_are_one_line_each_never_a_traceback() -> None:
    """No fake at all: every host fails to resolve, as on a machine without network."""
    code, lines, _err = run_doctor(None, "--account-id", ACCOUNT)
    assert code == 1
    for check in ("rule", "topic", "delivery", "service"):
        line = line_of(lines, check)
        assert line.startswith("FAIL "), line
        assert "cannot reach" in line
        assert "does not resolve" in line
    for check in ("function", "trigger", "role"):
        assert status(lines, check) == "skip"


def test_the_sdks_own_error_logs_stay_quiet(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aliyunsdkcore logs each failed request's query string (key id, signature, token)."""
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "CAISDoctorTokenDoNotLog0123456789")
    caplog.set_level(logging.INFO)
    logging.getLogger("aliyunsdkcore").setLevel(logging.INFO)  # as config_api's import sets it
    run_doctor(None, "--account-id", ACCOUNT, "--skip-deployed")
    assert not [r for r in caplog.records if r.name.startswith("aliyunsdkcore")]
    assert "CAISDoctorToken" not in caplog.text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--account-id", "12ab"], "--account-id"),
        (["-t", "no-such-template.yml"], "no-such-template.yml"),
        (["--mns-endpoint", "http://mns.example.com:80"], "loopback"),
        (["--config-endpoint", "config.example.com:80"], "127.0.0.1"),
    ],
)
def test_bad_input_is_exit_2_in_one_line_before_any_request(
    argv: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    doctor.add_arguments(parser)
    base = [] if "-t" in argv else ["-t", str(TEMPLATE)]
    out, err = io.StringIO(), io.StringIO()
    with mock_sts() as sts:
        code = doctor.run(parser.parse_args(base + argv), out, err)
    assert (code, out.getvalue()) == (2, "")
    [line] = err.getvalue().splitlines()
    assert words in line
    assert sts.calls == []


def test_no_credentials_is_exit_2_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    code, lines, err = run_doctor(None)
    assert (code, lines) == (2, [])
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in err
    assert len(err.splitlines()) == 1


def test_every_option_has_help_and_the_defaults_show() -> None:
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    doctor.add_arguments(parser)
    text = parser.format_help()
    for option in ("--template", "--account-id", "--profile", "--site", "--skip-deployed"):
        assert option in text
    assert "template.yml" in text
    assert "--mns-endpoint" not in text  # fakes only: not offered to users


# -- the sweep's time and an account group's rules (issues 16 §3, 17 §3) ----------------------


def template_text_with(tmp_path: Path, replacements: dict[str, str], **variables: str) -> str:
    """template_with, plus literal replacements in the text (settings that are no vars)."""
    path = Path(template_with(tmp_path, **variables))
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_settings_under_which_no_bucket_fits_the_sweeps_timeout_fail(
    cloud: Cloud, tmp_path: Path
) -> None:
    template = template_text_with(
        tmp_path,
        {
            'ossRequestTimeout: "5"': 'ossRequestTimeout: "20"',
            'ossMaxAttempts: "3"': 'ossMaxAttempts: "4"',
        },
        blockPublicAccess='"true"',
        exemptTag="public-on-purpose",
    )
    code, lines, _ = run_doctor(cloud, "-t", template, "--skip-deployed")
    assert code == 1
    line = line_of(lines, "sweep-time")
    assert line.startswith("FAIL ")
    for text in ("752 s", "588 s", "ossRequestTimeout=20", "ossMaxAttempts=4", "timeout"):
        assert text in line
    assert status(lines, "settings") == "ok"  # each setting is within its range


def test_the_default_settings_fit_the_sweeps_timeout(cloud: Cloud) -> None:
    code, lines, _ = run_doctor(cloud, "--skip-deployed")
    assert code == 0, lines
    line = line_of(lines, "sweep-time")
    assert line.startswith("ok ")
    assert "84 s" in line
    assert "588 s" in line


AGGREGATOR = "ca-a4e6626a7a8c0046"
GROUP_RULE = "cr-5a0e0066a7d3001b8b7f"


def group_template(tmp_path: Path, rule: str) -> str:
    return template_with(
        tmp_path,
        ruleName=rule,
        configAggregatorId=AGGREGATOR,
        memberRoleName="resource-repair-member",
        memberAccounts='"*"',
    )


@pytest.mark.parametrize("reference", [GROUP_RULE, "group-public-read"])
def test_an_account_groups_rule_is_checked_with_the_aggregate_reads(
    cloud: Cloud, tmp_path: Path, reference: str
) -> None:
    cloud.config.add_rule("group-public-read", GROUP_RULE, aggregator_id=AGGREGATOR)
    code, lines, _ = run_doctor(cloud, "-t", group_template(tmp_path, reference), "--skip-deployed")
    assert code == 0, lines
    line = line_of(lines, "rule")
    assert GROUP_RULE in line
    expected = ["ListAggregateConfigRules"]
    if reference.startswith("cr-"):
        expected.append("GetAggregateConfigRule")
        assert "built on oss-bucket-public-read-prohibited" in line
    assert [op for op in cloud.config.operations() if "Rule" in op] == expected
    assert all(
        c.params.get("AggregatorId") == AGGREGATOR
        for c in cloud.config.calls
        if "Aggregate" in c.action
    )


def test_an_account_groups_rule_that_cannot_be_read_fails_naming_the_permission(
    cloud: Cloud, tmp_path: Path
) -> None:
    cloud.config.add_rule("group-public-read", GROUP_RULE, aggregator_id=AGGREGATOR)
    cloud.config.fail_next(action="GetAggregateConfigRule", status=403, code="NoPermission")
    code, lines, _ = run_doctor(
        cloud, "-t", group_template(tmp_path, GROUP_RULE), "--skip-deployed"
    )
    assert code == 1
    line = line_of(lines, "rule")
    assert line.startswith("FAIL ")
    assert "config:GetAggregateConfigRule" in line


def test_a_role_without_the_aggregate_reads_fails_naming_them(cloud: Cloud, tmp_path: Path) -> None:
    """The role deployed from the default template lacks the [configAggregatorId] grants."""
    cloud.config.add_rule("group-public-read", GROUP_RULE, aggregator_id=AGGREGATOR)
    code, lines, _ = run_doctor(cloud, "-t", group_template(tmp_path, GROUP_RULE))
    assert code == 1
    line = line_of(lines, "role")
    assert line.startswith("FAIL ")
    for action in ("config:ListAggregateConfigRules", "config:GetAggregateConfigRule"):
        assert action in line
