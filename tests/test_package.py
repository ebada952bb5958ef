"""The code package `s deploy` uploads, built the way deployment builds it, imported and run
in a clean virtual environment that holds only FC's runtime libraries plus the package.

Nothing of the development environment leaks in: the interpreter runs with ``-E -s``, from
a venv without this project or its test dependencies, with the package directory first on
``sys.path`` as FC puts ``/code``. The clouds are the fakes, served over loopback HTTP from
this process: OSS through ``ossEndpointOverride``, SMQ through ``mnsEndpointOverride``, and
Cloud Config through the client's local endpoint (set by the runner script, since the
deployed function has no such setting).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resource_repair.testing import DEFAULT_ACCOUNT_ID, DEFAULT_CREDENTIALS, OssBackend
from resource_repair.testing.config import ConfigBackend
from resource_repair.testing.config.server import fake_config_server
from resource_repair.testing.mns import MnsBackend, fake_mns_server
from resource_repair.testing.oss.server import fake_oss_server
from tests.conftest import BUCKET, EVENTS, REGION, RULE_NAME

ROOT = Path(__file__).parent.parent
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# The libraries FC's runtime ships that the function may touch, at the runtime's versions
# (FC's "Built-in modules" tables); pip brings their own dependencies, among them
# aliyun-python-sdk-core, which both oss2 versions require. python3.10 also ships the old
# aliyun-mns 1.1.5 under the module name `mns`: installed here so that the test proves the
# package's own SDK is the one imported.
RUNTIME_LIBRARIES = {
    "3.10": ["oss2==2.16.0", "aliyun-fc2==2.5.2", "requests==2.28.1", "aliyun-mns==1.1.5"],
    "3.12": ["oss2==2.18.6", "aliyun-fc2==2.5.2", "requests==2.28.1"],
}
FAILURE_TOPIC = "resource-repair-failures"
OTHER_ACCOUNT = "1111111111111111"

RUNNER = textwrap.dedent(
    """
    import json, os, pkgutil, sys, types

    code, args = sys.argv[1], json.loads(sys.argv[2])
    sys.path.insert(0, code)  # FC runs the handler from /code, first on sys.path
    os.chdir(code)

    import index
    import resource_repair

    imported = []
    for module in pkgutil.walk_packages(resource_repair.__path__, "resource_repair."):
        __import__(module.name)
        imported.append(module.name)

    creds = types.SimpleNamespace(**args["credentials"])
    function = types.SimpleNamespace(name="f", handler="index.handler", memory=128, timeout=60)
    context = types.SimpleNamespace(
        request_id="req-1", function=function, region=args["region"],
        account_id=args["account"],
    )
    if args["runtime"] == "python3.10":
        context.credentials = creds
        context.service = types.SimpleNamespace(name="resource_repair")
    os.environ.update(args["environment"])

    with open(args["event"], "rb") as handle:
        event = handle.read().rstrip(b"\\n")
    handled = json.loads(index.handler(event, context))
    function.timeout = 600
    timer = b'{"triggerTime": "2026-12-04T18:00:00Z", "triggerName": "sweep"}'
    swept = json.loads(index.sweep(timer, context))
    import mns.pkg_info
    import oss2
    print(json.dumps({
        "oss2": [oss2.__version__, os.path.dirname(oss2.__file__)],
        "handler": handled,
        "sweep": swept,
        "imported": imported,
        "mns": [mns.pkg_info.name, mns.pkg_info.version, os.path.dirname(mns.__file__)],
        "modules": sorted({m.split(".")[0] for m in sys.modules}),
    }))
    """
)


@pytest.fixture(scope="session")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with FC's runtime libraries only, built once and kept (build/) until the list
    changes: creating it takes pip a while, and nothing in it depends on this checkout."""
    wanted = RUNTIME_LIBRARIES[PYTHON]
    key = hashlib.sha256(json.dumps([PYTHON, wanted]).encode()).hexdigest()[:12]
    venv = ROOT / "build" / f"fc-runtime-{PYTHON}-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        subprocess.run(  # noqa: S603 - the interpreter running the tests
            [sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)], check=True
        )
        subprocess.run(  # noqa: S603 - our pip, installing into that venv, fixed pins
            [
                sys.executable,
                "-m",
                "pip",
                "--quiet",
                "--disable-pip-version-check",
                "--python",
                str(python),
                "install",
                *wanted,
            ],
            check=True,
        )
        (venv / ".complete").write_text("\n".join(wanted))
    return python


@pytest.fixture(scope="session")
def code_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by the very script template.yml's pre-deploy action runs."""
    out = tmp_path_factory.mktemp("fc") / "code"
    subprocess.run(  # noqa: S603 - the build script as deployment runs it
        [
            sys.executable,
            str(ROOT / "src" / "resource_repair" / "tools" / "fc_package.py"),
            "--python-version",
            PYTHON,
            "--out",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.fixture
def clouds() -> Iterator[dict[str, Any]]:
    oss, config, mns = OssBackend(), ConfigBackend(), MnsBackend()
    with fake_oss_server(oss) as oss_server, fake_config_server(config) as config_server:
        with fake_mns_server(mns) as mns_server:
            yield {
                "oss": oss,
                "config": config,
                "mns": mns,
                "oss_url": oss_server.url,
                "config_endpoint": config_server.url.removeprefix("http://"),
                "mns_url": mns_server.url,
            }
        mns.release()


def pinned(name: str, path: Path) -> str:
    """The version ``path`` pins ``name`` to (for this Python, where it has markers)."""
    versions = set()
    for line in path.read_text().splitlines():
        requirement, _, marker = line.split("#", 1)[0].partition(";")
        package, sep, version = requirement.strip().partition("==")
        if sep and package.strip().lower() == name and _applies(marker.strip()):
            versions.add(version.strip())
    assert len(versions) == 1, (path.name, versions)
    return versions.pop()


def _applies(marker: str) -> bool:
    if not marker:
        return True
    match = re.fullmatch(r'python_version\s*([<>=!]=?)\s*"(\d+)\.(\d+)"', marker)
    assert match, f"unexpected marker {marker!r}"
    wanted = (int(match[2]), int(match[3]))
    here = sys.version_info[:2]
    return {
        "<": here < wanted,
        "<=": here <= wanted,
        ">": here > wanted,
        ">=": here >= wanted,
        "==": here == wanted,
        "!=": here != wanted,
    }[match[1]]


def test_the_tests_run_on_the_oss2_the_package_deploys() -> None:
    """The package carries its own oss2 (the runtime's lacks Block Public Access), so the
    development environment must pin that same version, or the tests prove nothing about
    the deployed function."""
    deployed = pinned("oss2", ROOT / "requirements-fc.txt")
    assert pinned("oss2", ROOT / "requirements.txt") == deployed
    assert importlib.metadata.version("oss2") == deployed


def test_the_package_holds_the_code_without_tools_or_test_doubles(code_package: Path) -> None:
    assert (code_package / "index.py").is_file()
    assert (code_package / "resource_repair" / "sweep.py").is_file()
    assert not (code_package / "resource_repair" / "testing").exists()
    assert not (code_package / "resource_repair" / "tools").exists()
    assert not (code_package / "resource_repair" / "cli.py").exists()
    assert not list(code_package.rglob("__pycache__"))
    assert not list(code_package.glob("*.egg-info"))
    # Compiled libraries are built for FC's Linux and this Python, whatever ran the build.
    extensions = [p.name for p in code_package.rglob("*.so")]
    assert extensions
    tag = f"cpython-{PYTHON.replace('.', '')}-x86_64-linux-gnu"
    assert all(tag in name for name in extensions), extensions


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_both_handlers_import_and_run_with_only_the_runtimes_libraries(
    runtime_python: Path, code_package: Path, clouds: dict[str, Any], runtime: str
) -> None:
    oss, config, mns = clouds["oss"], clouds["config"], clouds["mns"]
    oss.create_bucket(BUCKET, REGION, "public-read")
    rule = config.add_rule(RULE_NAME)
    swept = [f"swept-{n}" for n in range(3)]
    for name in swept:
        oss.create_bucket(name, REGION, "public-read")
    config.add_results(rule, swept, REGION)
    config.add_results(rule, ["theirs"], REGION, owner_id=OTHER_ACCOUNT)
    mns.create_topic(FAILURE_TOPIC)
    environment = {
        "prepareRuleName": RULE_NAME,
        "ossEndpointOverride": clouds["oss_url"],
        "failureTopic": FAILURE_TOPIC,
        "mnsEndpointOverride": clouds["mns_url"],
        # The sweep's Config: the loopback fake, as a local run names it.
        "configEndpointOverride": clouds["config_endpoint"],
        # Block Public Access needs the oss2 the package carries, not the runtime's.
        "blockPublicAccess": "true",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEFAULT_CREDENTIALS.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEFAULT_CREDENTIALS.access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": DEFAULT_CREDENTIALS.security_token,
    }
    args = {
        "runtime": runtime,
        "region": REGION,
        "account": DEFAULT_ACCOUNT_ID,
        "event": str(EVENTS / "noncompliance-oss-stream.txt"),
        "environment": environment,
        "credentials": {
            "access_key_id": DEFAULT_CREDENTIALS.access_key_id,
            "access_key_secret": DEFAULT_CREDENTIALS.access_key_secret,
            "security_token": DEFAULT_CREDENTIALS.security_token,
        },
    }
    done = subprocess.run(  # noqa: S603 - the clean runtime's python and our runner
        [str(runtime_python), "-E", "-s", "-c", RUNNER, str(code_package), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])

    assert result["handler"]["outcome"] == "remediated"
    assert oss.acl_of(BUCKET) == "private"
    assert result["handler"]["public_access_block_after"] is True
    assert oss.buckets[BUCKET].block_public_access is True
    # The oss2 imported is the package's, whatever version the runtime ships.
    version, where = result["oss2"]
    assert version == pinned("oss2", ROOT / "requirements-fc.txt")
    assert Path(where).parent == code_package
    sweep = result["sweep"]
    assert sweep["outcomes"] == {"remediated": 3, "invalid_event": 1}
    assert (sweep["status"], sweep["complete"]) == ("fail", True)
    assert all(oss.acl_of(name) == "private" for name in swept)
    # The sweep's failure reached the topic, through the SDK the package carries.
    assert [m.topic for m in mns.all_messages()] == [FAILURE_TOPIC]
    name, version, where = result["mns"]
    assert (name, version) == ("aliyun-mns-sdk", "1.3.0")
    assert Path(where).parent == code_package
    # Every module of the package imports; nothing of the development environment did.
    assert "resource_repair.sweep" in result["imported"]
    assert not {"responses", "pytest", "yaml", "tqdm", "hypothesis"} & set(result["modules"])
