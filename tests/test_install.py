"""The package as `pip install .` leaves it: a command that stands on its own, and a wheel
that agrees with the runtime pins the function is tested with.

The installation is made once per session in a fresh virtual environment, from a copy of
the sources (a build writes into the tree it builds), without dependencies: those come from
this environment through a path file, so only the build backend is fetched, and no
editable install's path hook can make the source tree importable behind the test's back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parent.parent
EVENT = ROOT / "tests" / "events" / "noncompliance-oss-stream.txt"
RULE_NAME = "test-oss-bucket-public-read-prohibited"
RUNTIME_LIBRARIES = ("oss2", "requests")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli below 3.11
    import tomli as tomllib


def _site_packages(venv: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return venv / "lib" / version / "site-packages"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the package installed as a wheel from a source copy."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"),
    )
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    # A path file adds this environment's site-packages for the dependencies. Only the
    # directory is added: the .pth files inside it (the editable install's) are not read.
    (_site_packages(venv) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip builds the wheel in an isolated environment with the setuptools pyproject.toml
    # asks for (from pip's cache after the first run), as a user's `pip install .` does.
    subprocess.run(  # noqa: S603 - our own interpreter's pip, on our own sources
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            str(source),
        ],
        check=True,
    )
    return venv


def _run(venv: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the installed command, fixed arguments
        list(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(cwd)},
        timeout=120,
    )


def test_installed_invoke_works_anywhere_with_the_functions_defaults(
    installed: Path, tmp_path: Path
) -> None:
    done = _run(
        installed, tmp_path, str(installed / "bin" / "resource-repair"), "invoke", "-f", str(EVENT)
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["outcome"]) == ("success", "remediated")
    assert "no template.yml" in done.stderr
    assert f"prepareRuleName={RULE_NAME} (the event's own rule)" in done.stderr


def test_the_wheel_installs_no_top_level_index_module(installed: Path, tmp_path: Path) -> None:
    site = _site_packages(installed)
    [record] = site.glob("resource_repair-*.dist-info/RECORD")
    files = [line.split(",")[0] for line in record.read_text().splitlines()]
    assert not [f for f in files if f.startswith("index.")]
    assert not (site / "index.py").exists()
    probe = (
        "import importlib.util, resource_repair;"
        "print(resource_repair.__file__);"
        "print(importlib.util.find_spec('index'))"
    )
    done = _run(installed, tmp_path, str(installed / "bin" / "python"), "-c", probe)
    package_file, index_spec = done.stdout.split()
    assert Path(package_file).is_relative_to(site)  # the installed copy, not the sources
    assert index_spec == "None"


def _runtime_pins() -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {name: [] for name in RUNTIME_LIBRARIES}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.name in pins:
            [spec] = list(requirement.specifier)
            assert spec.operator == "==", f"{line}: a runtime pin is exact"
            pins[requirement.name].append(Version(spec.version))
    return pins


def _wheel_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    return {r.name: r for r in requirements if r.name in RUNTIME_LIBRARIES}


@pytest.mark.parametrize("name", RUNTIME_LIBRARIES)
def test_the_wheel_admits_exactly_the_runtime_series_the_tests_pin(name: str) -> None:
    """Every pinned version installs with the wheel; nothing older than the lowest pin
    does, nor anything from a minor series no test ran on."""
    pins = _runtime_pins()[name]
    assert pins, f"requirements.txt pins no {name}"
    specifier = _wheel_requirements()[name].specifier
    assert all(specifier.contains(pin) for pin in pins), (specifier, pins)
    lowest, highest = min(pins), max(pins)
    older = [Version(f"{lowest.major}.{lowest.minor - 1}.99")]
    if lowest.micro:
        older.append(Version(f"{lowest.major}.{lowest.minor}.{lowest.micro - 1}"))
    assert not [v for v in older if specifier.contains(v)], specifier
    assert not specifier.contains(Version(f"{highest.major}.{highest.minor + 1}.0")), specifier
