"""Two templates in one folder share setup's record, and a file beside them may be a planted
link: teardown removes only its own template's remediations, and setup writes its record
through no link. A key exported from a file with Windows line ends is never shown, with or
without its "\r". Each test failed on the code before its fix; offline, loopback fakes only."""

from __future__ import annotations

from pathlib import Path

import pytest

from resource_repair import cli
from tests.conftest import EVENTS
from tests.test_setup import Cloud, cloud, offline
from tests.test_setup_leaves_what_is_not_its_own import _second_deployment
from tests.test_setup_remediation import deployed, fc

__all__ = ["cloud", "deployed", "fc", "offline"]  # the fixtures, shared with test_setup


def _setup(cloud: Cloud, template: Path, *extra: str) -> int:
    argv = ["setup", "-t", str(template), "--env", f"mnsEndpointOverride={cloud.mns_url}"]
    return cli.main([*argv, *extra])


def test_teardown_of_one_template_leaves_the_remediation_of_another_beside_it(
    cloud: Cloud, deployed: object, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two templates in one folder (template.yml and a stage's) share the record file and,
    # in one account and region, its entry.
    other = _second_deployment(cloud.template.parent.parent, cloud.template.parent.name)
    assert other.parent == cloud.template.parent
    assert _setup(cloud, cloud.template, "--apply", "--config-remediation", "manual") == 0
    assert _setup(cloud, other, "--apply", "--config-remediation", "manual") == 0
    theirs = {r.rule_id for r in cloud.config.remediations}
    assert len(theirs) == 2
    other_rule = next(r for r in cloud.config.rules.values() if r.name == "other-public-read-rule")
    capsys.readouterr()

    assert _setup(cloud, cloud.template, "--teardown", "--apply") == 0
    capsys.readouterr()
    # The other template's rule is still there (not this template's): so must its
    # remediation be, or Config stops calling its function.
    assert other_rule.rule_id in cloud.config.rules
    assert [r.rule_id for r in cloud.config.remediations] == [other_rule.rule_id]


# An STS token exported from a file with Windows line ends: the variable keeps the "\r".
TOKEN_CORE = "CAIS8gF1q6Ft5B2yfSjIr5bSEcDFrVx1oWfYnDkjXd9SfE"


def test_a_token_with_a_carriage_return_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no template.yml here: the function's defaults
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tRedTeamRound3KeyId")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "RedTeamRound3SecretValue0123456")
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN_CORE + "\r")
    event = EVENTS / "noncompliance-oss-current-plain.json"
    # requests refuses the header before any connection: no request leaves, not even to
    # the loopback port named.
    code = cli.main(
        [
            "invoke",
            "-f",
            str(event),
            "--oss",
            "real",
            "--env",
            "ossEndpointOverride=http://127.0.0.1:9",
            "--env",
            "dryRun=true",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert TOKEN_CORE not in captured.err + captured.out


def test_setup_never_writes_through_a_link_planted_beside_the_template(
    cloud: Cloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "elsewhere" / "notes.txt"
    victim.parent.mkdir()
    victim.write_text("the operator's own file\n")
    (cloud.template.parent / ".resource-repair-setup.tmp").symlink_to(victim)
    _setup(cloud, cloud.template, "--apply")
    capsys.readouterr()
    assert victim.read_text() == "the operator's own file\n"
