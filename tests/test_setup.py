"""``resource-repair setup`` against the fakes: plan (reads only), apply, a second apply
that changes nothing, teardown of only what it made, account groups, each refusal."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_repair import cli
from resource_repair.testing.config import ConfigBackend, mock_config_api
from resource_repair.testing.identities import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from resource_repair.testing.ram import RamBackend, mock_ram
from resource_repair.testing.sts import StsBackend, mock_sts

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = DEFAULT_ACCOUNT_ID
RULE = "test-oss-bucket-public-read-prohibited"
TOPICS = ["SMQTestConfig", "resource-repair-failures"]
MUTATIONS = ("Create", "Delete", "Update", "Put", "Start")


@dataclasses.dataclass
class Cloud:
    config: ConfigBackend
    mns: MnsBackend
    mns_url: str
    ram: RamBackend
    sts: StsBackend
    template: Path


@pytest.fixture(autouse=True)
def offline(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's offline, with the caller's keys."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", DEFAULT_CREDENTIALS.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEFAULT_CREDENTIALS.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", DEFAULT_CREDENTIALS.security_token)
    monkeypatch.delenv("mnsEndpointOverride", raising=False)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    template = tmp_path / "template.yml"
    shutil.copy(ROOT / "template.yml", template)
    mns = MnsBackend()
    with (
        mock_config_api() as config,
        mock_sts() as sts,
        mock_ram() as ram,
        fake_mns_server(mns) as server,
    ):
        sts.register(DEFAULT_CREDENTIALS)
        ram.add_role("AliyunServiceRoleForConfig")
        yield Cloud(config, mns, server.url, ram, sts, template)


def setup(
    cloud: Cloud, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[str], str]:
    argv = ["setup", "-t", str(cloud.template), "--env", f"mnsEndpointOverride={cloud.mns_url}"]
    code = cli.main([*argv, *extra])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def writes(cloud: Cloud) -> list[str]:
    return [a for a in cloud.config.operations() if a.startswith(MUTATIONS)]


def test_the_plan_only_reads_and_says_what_it_would_create(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = setup(cloud, capsys)
    assert code == 0
    assert writes(cloud) == []
    assert cloud.mns.topics == {}
    created = [line for line in lines if line.startswith("create")]
    assert len(created) == 4, lines  # two topics, the rule, the delivery channel
    assert any(RULE in line and "oss-bucket-public-read-prohibited" in line for line in created)
    assert lines[-1] == "4 change(s) planned: run again with --apply to make them"
    assert not (cloud.template.parent / ".resource-repair-setup.json").exists()


def test_apply_creates_everything_marked_and_a_second_apply_changes_nothing(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = setup(cloud, capsys, "--apply")
    assert code == 0, lines
    assert sorted(cloud.mns.topics) == sorted(TOPICS)
    [rule] = cloud.config.rules.values()
    assert (rule.name, rule.source_identifier, rule.resource_types) == (
        RULE,
        "oss-bucket-public-read-prohibited",
        "ACS::OSS::Bucket",
    )
    assert rule.trigger_types == "ConfigurationItemChangeNotification"
    assert rule.tags == (("resource-repair", "setup"),)
    [channel] = cloud.config.delivery_channels
    assert channel.target_arn == f"acs:mns:ap-southeast-1:{ACCOUNT}:/topics/SMQTestConfig"
    assert channel.non_compliant_notification
    assert not channel.change_notification
    assert json.loads(channel.condition) == [
        {"filterType": "ResourceType", "values": ["ACS::OSS::Bucket"], "multiple": True}
    ]
    assert any("not deployed yet" in line and "backfill" in line for line in lines)
    record = json.loads((cloud.template.parent / ".resource-repair-setup.json").read_text())
    assert sorted(record[f"{ACCOUNT}/ap-southeast-1"]["topics"]) == sorted(TOPICS)

    before = writes(cloud)
    code, lines, _ = setup(cloud, capsys, "--apply")
    assert code == 0
    assert writes(cloud) == before
    assert lines[-1] == "nothing to change: everything is in place"
    assert not [line for line in lines if line.startswith(("create", "created"))]


def test_teardown_removes_only_what_setup_made(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.mns.create_topic("resource-repair-failures")  # someone's, found in place
    foreign = cloud.config.add_delivery_channel("acs:mns:ap-southeast-1:1:/topics/other")
    assert setup(cloud, capsys, "--apply")[0] == 0
    code, lines, _ = setup(cloud, capsys, "--teardown")
    assert code == 0
    assert sum(line.startswith("remove") for line in lines) == 3, lines
    assert "SMQTestConfig" in cloud.mns.topics
    assert cloud.config.rules

    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert code == 0, lines
    assert sorted(cloud.mns.topics) == ["resource-repair-failures"]
    assert cloud.config.rules == {}
    assert cloud.config.delivery_channels == [foreign]
    assert not (cloud.template.parent / ".resource-repair-setup.json").exists()
    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert lines[-1] == "nothing to change: everything is in place"


def test_teardown_keeps_a_rule_and_a_channel_that_only_look_like_setups(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone's rule of prepareRuleName, tagged with setup's key but not its value, and a
    # channel to the topic with setup's name but not its description: neither is setup's.
    rule = cloud.config.add_rule(RULE)
    rule.tags = (("resource-repair", "theirs"),)
    theirs = cloud.config.add_delivery_channel(
        f"acs:mns:ap-southeast-1:{ACCOUNT}:/topics/SMQTestConfig", name="resource-repair-setup"
    )
    assert setup(cloud, capsys, "--apply")[0] == 0
    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert code == 0, lines
    assert any(line.startswith("found") and "is not setup's: kept" in line for line in lines)
    assert list(cloud.config.rules.values()) == [rule]
    assert cloud.config.delivery_channels == [theirs]


def test_teardown_refuses_a_topic_others_subscribe_to_unless_forced(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    from resource_repair.testing.mns import FakeSubscription

    assert setup(cloud, capsys, "--apply")[0] == 0
    trigger = FakeSubscription(f"acs:fc:ap-southeast-1:{ACCOUNT}:services/resource_repair")
    cloud.mns.subscribe("SMQTestConfig", "fc-trigger", trigger)
    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply")
    assert code == 1
    assert any("fc-trigger" in line and "s remove" in line for line in lines), lines
    assert any(line.startswith("warn") and "appear deployed" in line for line in lines)
    assert "SMQTestConfig" in cloud.mns.topics
    assert cloud.config.rules
    code, lines, _ = setup(cloud, capsys, "--teardown", "--apply", "--force")
    assert code == 0, lines
    assert cloud.mns.topics == {}


def test_an_existing_rule_is_used_as_it_is_with_warnings_and_its_results_counted(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    rule = cloud.config.add_rule(RULE)
    rule.state = "INACTIVE"
    rule.scope = {"RegionIdsScope": "cn-hangzhou"}
    cloud.config.add_results(rule, ["site-a", "site-b", "downloads", "logs"])
    code, lines, _ = setup(cloud, capsys)
    assert code == 0
    assert any(line.startswith("found") and rule.rule_id in line for line in lines)
    warnings = [line for line in lines if line.startswith("warn")]
    assert any("INACTIVE" in line for line in warnings)
    assert any("limited to regions" in line for line in warnings)
    [count] = [line for line in lines if "reports 4 buckets non-compliant" in line]
    assert "site-a, site-b, downloads, ..." in count
    assert "exemptBuckets" in count
    assert "dryRun is on" in count


def test_apply_with_a_subscription_to_the_failure_topic(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = "https://hooks.example.com/x?token=s3cr3t-hook-token"
    code, lines, _ = setup(cloud, capsys, "--apply", "--notify-url", hook)
    assert code == 0
    [subscription] = cloud.mns.subscriptions["resource-repair-failures"].values()
    assert subscription.endpoint == hook
    assert subscription.notify_content_format == "SIMPLIFIED"
    assert any("https://hooks.example.com/x?..." in line for line in lines)
    assert "s3cr3t" not in "\n".join(lines)
    code, lines, _ = setup(cloud, capsys, "--apply", "--notify-url", hook)
    assert any(line.startswith("found  subscribe") for line in lines), lines
    assert setup(cloud, capsys, "--teardown", "--apply")[0] == 0
    assert cloud.mns.topics == {}


def test_notify_email_is_refused_without_a_mail_sender(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _lines, err = setup(cloud, capsys, "--notify-email", "ops@example.com")
    assert code == 2
    assert "notifyMailSender" in err
    assert "Traceback" not in err
    code, _, _ = setup(
        cloud,
        capsys,
        "--apply",
        "--notify-email",
        "ops@example.com",
        "--env",
        "notifyMailSender=alerts@example.com",
    )
    assert code == 0
    [subscription] = cloud.mns.subscriptions["resource-repair-failures"].values()
    assert subscription.endpoint == "mail:directmail:ops@example.com"


def test_a_missing_rule_id_is_named_and_nothing_is_made(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = setup(cloud, capsys, "--apply", "--env", "prepareRuleName=cr-0000missing")
    assert code == 1
    assert any(line.startswith("FAIL") and "cr-0000missing" in line for line in lines)
    assert writes(cloud) == []
    assert cloud.mns.topics == {}


@pytest.mark.parametrize(
    "identifier", ["oss-bucket-public-read-prohibited", "oss-bucket-public-write-prohibited"]
)
def test_a_bare_managed_rule_identifier_is_refused_with_advice(
    cloud: Cloud, capsys: pytest.CaptureFixture[str], identifier: str
) -> None:
    ref = f"prepareRuleName={identifier}"
    code, lines, _ = setup(cloud, capsys, "--apply", "--env", ref)
    assert code == 1
    assert any("name a rule instead" in line for line in lines), lines
    assert cloud.config.rules == {}


def test_a_plain_name_bound_to_a_managed_rule_is_built_on_it(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = "prepareRuleName=no-write=oss-bucket-public-write-prohibited"
    assert setup(cloud, capsys, "--apply", "--env", ref)[0] == 0
    [rule] = cloud.config.rules.values()
    assert (rule.name, rule.source_identifier) == ("no-write", "oss-bucket-public-write-prohibited")


def test_at_the_channel_limit_it_names_the_channels_and_changes_nothing(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(5):
        cloud.config.add_delivery_channel(f"acs:mns:ap-southeast-1:{ACCOUNT}:/topics/t{n}")
    code, lines, _ = setup(cloud, capsys, "--apply")
    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert all(c.channel_id in line for c in cloud.config.delivery_channels)
    assert writes(cloud) == []
    assert cloud.mns.topics == {}


def test_someone_elses_channel_to_the_topic_is_reported_and_left_alone(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = cloud.config.add_delivery_channel(
        f"acs:mns:ap-southeast-1:{ACCOUNT}:/topics/SMQTestConfig"
    )
    code, lines, _ = setup(cloud, capsys, "--apply")
    assert code == 0
    assert any(theirs.channel_id in line and "not setup's" in line for line in lines)
    assert len(cloud.config.delivery_channels) == 2
    assert cloud.config.delivery_channels[0] == theirs


@pytest.mark.parametrize(
    ("scene", "words"),
    [
        ("config", "Cloud Config is not activated"),
        ("role", "AliyunServiceRoleForConfig does not exist"),
        ("smq", "SMQ is not activated"),
    ],
)
def test_preconditions_stop_setup_before_anything(
    cloud: Cloud, capsys: pytest.CaptureFixture[str], scene: str, words: str
) -> None:
    if scene == "config":
        cloud.config.recorder_status = "REGISTRABLE"
    elif scene == "role":
        cloud.ram.roles.clear()
    else:
        cloud.mns.activated = False
    code, lines, err = setup(cloud, capsys, "--apply")
    assert code == 1
    assert any(line.startswith("FAIL") and words in line and "Fix:" in line for line in lines)
    assert writes(cloud) == []
    assert cloud.mns.topics == {}
    assert "Traceback" not in err


def test_an_account_group_gets_the_groups_rule_and_channel(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    group = "configAggregatorId=ca-0123456789abcdef"
    code, lines, _ = setup(cloud, capsys, "--apply", "--env", group)
    assert code == 0, lines
    assert "CreateAggregateConfigRule" in cloud.config.operations()
    assert "CreateAggregateConfigDeliveryChannel" in cloud.config.operations()
    [rule] = cloud.config.rules.values()
    [channel] = cloud.config.delivery_channels
    assert rule.aggregator_id == channel.aggregator_id == "ca-0123456789abcdef"
    code, lines, _ = setup(cloud, capsys, "--apply", "--env", group)
    assert lines[-1] == "nothing to change: everything is in place"
    assert setup(cloud, capsys, "--teardown", "--apply", "--env", group)[0] == 0
    assert cloud.config.rules == {}
    assert cloud.config.delivery_channels == []


def test_an_unreachable_cloud_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No fake at all: every name fails to resolve, as offline."""
    shutil.copy(ROOT / "template.yml", tmp_path / "template.yml")
    code = cli.main(["setup", "-t", str(tmp_path / "template.yml"), "--apply"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "cannot reach sts.aliyuncs.com" in err
    assert "Traceback" not in err


def test_the_fc3_template_gets_the_same_setup(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fc2_lines, _ = setup(cloud, capsys)
    shutil.copy(ROOT / "template.fc3.yml", cloud.template)
    code, fc3_lines, _ = setup(cloud, capsys)
    assert code == 0
    assert fc3_lines[1:] == fc2_lines[1:]  # all but the heading, which names the file


def test_apply_refuses_a_template_folder_it_cannot_record_in(
    cloud: Cloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.access", lambda *_: False)
    code, _, err = setup(cloud, capsys, "--apply")
    assert code == 2
    assert ".resource-repair-setup.json is not writable" in err
    assert cloud.mns.topics == {}


def test_a_rule_created_while_the_functions_are_deployed_needs_no_order_note(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    from resource_repair.testing.mns import FakeSubscription

    cloud.mns.create_topic("SMQTestConfig")
    trigger = FakeSubscription(f"acs:fc:ap-southeast-1:{ACCOUNT}:services/resource_repair")
    cloud.mns.subscribe("SMQTestConfig", "fc-trigger", trigger)
    code, lines, _ = setup(cloud, capsys)
    assert code == 0
    assert any(line.startswith("create") and RULE in line for line in lines)
    assert not any("not deployed yet" in line for line in lines)


def test_the_readme_lists_every_action_setup_calls(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    section = readme[readme.index("### `resource-repair setup`") :]
    section = section[: section.index("\n### ")]
    cloud.config.add_results(cloud.config.add_rule("counted"), ["b"])
    for extra in ([], ["--env", "configAggregatorId=ca-0123456789abcdef"]):
        assert (
            setup(cloud, capsys, "--apply", "--notify-url", "https://h.example.com", *extra)[0] == 0
        )
        assert setup(cloud, capsys, "--env", "prepareRuleName=counted", *extra)[0] == 0
        assert setup(cloud, capsys, "--teardown", "--apply", *extra)[0] == 0
    called = {f"config:{a}" for a in cloud.config.operations()}
    called |= {f"ram:{action}" for action, _ in cloud.ram.calls}
    called |= {f"sts:{call}" for call in ("GetCallerIdentity",)}
    listed = set(re.findall(r"`((?:config|ram|mns|sts):\w+)`", section))
    aggregate = {a for a in called if "Aggregate" in a and a.replace("Aggregate", "", 1) in listed}
    assert called - aggregate <= listed
    assert {"mns:CreateTopic", "mns:Subscribe", "mns:DeleteTopic"} <= listed
