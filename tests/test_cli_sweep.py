"""``resource-repair sweep``: the sweep run here, with the explicit sweep request, against
the fakes by default or the cloud on request; a dry run unless --apply, with backfill's
--max-changes guard; its JSON result on stdout."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from resource_repair.testing.config.server import fake_config_server
from resource_repair.testing.oss.server import fake_oss_server
from resource_repair.tools.fake_cloud import FakeCloud
from tests import test_cli_edges as edges
from tests.test_cli_edges import one_line, outcome
from tests.test_cli_interrupt import KEYS, RULE, TEMPLATE

offline = edges.offline  # no network but loopback, for every test here


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def result(out: str) -> dict[str, object]:
    answer: dict[str, object] = json.loads(out)
    return answer


def test_the_default_is_a_dry_run_against_the_fakes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = outcome(["sweep", "-t", TEMPLATE], capsys)
    assert code == 0
    answer = result(out)
    assert (answer["status"], answer["outcomes"], answer["complete"]) == (
        "success",
        {"dry_run": 1},
        True,
    )
    assert "fake cloud after the sweep: buckets: demo-bucket public-read" in err


def test_apply_makes_the_public_buckets_private(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "-t", TEMPLATE, "--apply", "--bucket", "shop-site"]
    code, out, err = outcome([*argv, "--bucket", "old-downloads:ap-southeast-1:private"], capsys)
    assert code == 0
    assert result(out)["outcomes"] == {"remediated": 1}
    assert "buckets: shop-site private, old-downloads private" in err


def test_apply_beyond_max_changes_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "-t", TEMPLATE, "--apply", "--max-changes", "1"]
    code, out, err = outcome([*argv, "--bucket", "one-bucket", "--bucket", "two-bucket"], capsys)
    assert code == 1
    assert result(out)["outcomes"] == {"dry_run": 2}
    assert "refusing to apply: 2 buckets would change, more than --max-changes 1" in err
    assert "buckets: one-bucket public-read, two-bucket public-read" in err


@contextlib.contextmanager
def running_fake_cloud(*buckets: str) -> Iterator[tuple[FakeCloud, list[str]]]:
    """A fake cloud served as `resource-repair fake-cloud` serves it, and the --env options
    its export lines give."""
    cloud = FakeCloud(list(buckets))
    cloud.add_rule(RULE)
    with fake_oss_server(cloud.oss) as oss, fake_config_server(cloud.config) as config:
        yield (
            cloud,
            [
                "--env",
                f"ossEndpointOverride={oss.url}",
                "--env",
                f"configEndpointOverride={config.url.removeprefix('http://')}",
            ],
        )


def test_a_running_fake_cloud_is_swept_when_its_config_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_fake_cloud("shop-site") as (cloud, fakes):
        code, out, err = outcome(["sweep", "-t", TEMPLATE, "--apply", *fakes], capsys)
    assert (code, result(out)["outcomes"]) == (0, {"remediated": 1})
    assert cloud.oss.acl_of("shop-site") == "private"
    assert "configEndpointOverride is set: the sweep lists from 127.0.0.1:" in err


def test_the_real_cloud_needs_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = outcome(["sweep", "-t", TEMPLATE, "--oss", "real"], capsys)
    assert (code, out) == (2, "")
    assert "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID" in one_line(err)


def test_the_real_cloud_signs_with_your_keys_and_says_what_it_will_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Your keys here are the test key the fakes accept; Config's listing comes from the
    fake named by configEndpointOverride, as the function's would."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with running_fake_cloud("shop-site") as (cloud, fakes):
        code, out, err = outcome(["sweep", "-t", TEMPLATE, "--oss", "real", *fakes], capsys)
    assert (code, result(out)["outcomes"]) == (0, {"dry_run": 1})
    assert cloud.oss.acl_of("shop-site") == "public-read"
    assert "--oss real: this will list the fake Config on 127.0.0.1:" in err


@pytest.mark.parametrize(
    "value", ["10.0.0.1:80", "http://127.0.0.1:80", "127.0.0.1", "127.0.0.1:0", "example.com:80"]
)
def test_the_config_override_is_loopback_host_and_port_only(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    argv = ["sweep", "-t", TEMPLATE, "--env", f"configEndpointOverride={value}"]
    code, out, err = outcome(argv, capsys)
    assert (code, out) == (2, "")
    assert f"configEndpointOverride {value!r} must be a loopback host:port" in one_line(err)


def test_the_function_sweeps_the_config_the_override_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """index.sweep itself reads configEndpointOverride: a fake Config on this machine."""
    import index
    from resource_repair.sweep import clear_rule_cache
    from resource_repair.testing import fc_context

    clear_rule_cache()
    with running_fake_cloud("shop-site") as (cloud, fakes):
        env = dict(pair.split("=", 1) for pair in fakes[1::2])
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {**env, "prepareRuleName": RULE, "dryRun": "true"}.items():
                patch.setenv(name, value)
            answer = json.loads(index.sweep(b'{"sweep": "run"}', fc_context(timeout=600)))
    assert answer["outcomes"] == {"dry_run": 1}
    assert answer["rules"][0]["rule_id"] == next(iter(cloud.config.rules))


def test_without_a_template_it_says_which_rules_it_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = outcome(["sweep"], capsys)
    assert code == 0
    assert result(out)["outcomes"] == {}
    assert "pass --env prepareRuleName=NAME" in err
