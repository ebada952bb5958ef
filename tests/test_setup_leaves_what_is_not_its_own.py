"""``resource-repair setup`` must never change what it did not make for this deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resource_repair import cli
from tests import test_setup
from tests.test_setup import ROOT, Cloud

# test_setup's fakes, and its guard that no name but loopback resolves.
cloud = test_setup.cloud
offline = test_setup.offline


def _second_deployment(tmp_path: Path, folder: str = "other") -> Path:
    """Another deployment in the same account and region: its own topics and rule."""
    text = (ROOT / "template.yml").read_text()
    text = text.replace("topicName: SMQTestConfig", "topicName: OtherDeliveries")
    text = text.replace("failureTopic: resource-repair-failures", "failureTopic: other-failures")
    text = text.replace(
        "ruleName: test-oss-bucket-public-read-prohibited", "ruleName: other-public-read-rule"
    )
    other = tmp_path / folder / "template-other.yml"
    other.parent.mkdir(exist_ok=True)
    other.write_text(text)
    return other


def _setup(cloud: Cloud, template: Path, *extra: str) -> int:
    argv = ["setup", "-t", str(template), "--env", f"mnsEndpointOverride={cloud.mns_url}"]
    return cli.main([*argv, *extra])


def test_teardown_of_one_deployment_leaves_another_deployments_delivery(
    cloud: Cloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _second_deployment(tmp_path)
    assert _setup(cloud, cloud.template, "--apply") == 0
    assert _setup(cloud, other, "--apply") == 0
    arns = sorted(c.target_arn for c in cloud.config.delivery_channels)
    assert [arn.rpartition("/")[2] for arn in arns] == ["OtherDeliveries", "SMQTestConfig"]

    assert _setup(cloud, cloud.template, "--teardown", "--apply") == 0
    capsys.readouterr()
    # The other deployment's Config delivery is untouched: its function still hears of
    # every public bucket.
    [left] = cloud.config.delivery_channels
    assert left.target_arn.endswith("/topics/OtherDeliveries")
    assert "OtherDeliveries" in cloud.mns.topics


def test_teardown_of_one_template_leaves_the_topics_of_another_beside_it(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Setup keeps its record of the topics it made beside the template: two templates in
    # one folder (template.yml and template.fc3.yml, or one per stage) share that file.
    other = _second_deployment(cloud.template.parent.parent, cloud.template.parent.name)
    assert other.parent == cloud.template.parent
    assert _setup(cloud, cloud.template, "--apply") == 0
    assert _setup(cloud, other, "--apply") == 0
    assert _setup(cloud, cloud.template, "--teardown", "--apply") == 0
    capsys.readouterr()
    assert sorted(cloud.mns.topics) == ["OtherDeliveries", "other-failures"]
    # ... and the other template's own teardown still removes them.
    assert _setup(cloud, other, "--teardown", "--apply") == 0
    assert cloud.mns.topics == {}


@pytest.mark.parametrize(
    ("action", "field", "odd"),
    [
        ("GetConfigurationRecorder", "ConfigurationRecorder", "x"),
        ("ListConfigRules", "ConfigRules", "x"),
        ("ListConfigRules", "ConfigRules", {"ConfigRuleList": [{}], "TotalCount": "many"}),
        ("ListConfigDeliveryChannels", "DeliveryChannels", 7),
    ],
)
def test_an_odd_config_answer_is_read_as_empty_not_a_traceback(
    cloud: Cloud,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    field: str,
    odd: Any,
) -> None:
    # A field of another shape than Config documents (a proxy's or a broken server's
    # answer): setup says what it can, in lines, and never ends in a traceback.
    from resource_repair.testing.config import mock as config_mock
    from resource_repair.testing.config.wire import ConfigReply, handle_config_request

    def answer_oddly(backend: Any, method: str, url: str, body: Any) -> ConfigReply:
        reply = handle_config_request(backend, method, url, body)
        sent = body.decode() if isinstance(body, bytes) else str(body)
        if f"Action={action}" not in f"{url}&{sent}":
            return reply
        document = {**json.loads(reply.body), field: odd}
        return ConfigReply(reply.status, reply.headers, json.dumps(document).encode())

    monkeypatch.setattr(config_mock, "handle_config_request", answer_oddly)
    code = _setup(cloud, cloud.template)
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert captured.out.startswith("setup of ")
