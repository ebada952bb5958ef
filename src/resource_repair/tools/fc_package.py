"""Build the code package ``s deploy`` uploads: ``build/fc-code`` (template.yml's codeUri).

    python3 src/resource_repair/tools/fc_package.py [--python-version 3.10] [--out DIR]

It copies ``src/`` minus what ``src/.fcignore`` leaves out, then installs
``requirements-fc.txt`` into it as wheels for FC's Linux (manylinux2014, x86_64) and the
runtime's Python, whatever machine runs the build. template.yml runs it as a ``pre-deploy``
action of both functions; ``make package`` runs it by hand.

Standard library only, run as a script: it must work before the project is installed.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "src"
REQUIREMENTS = ROOT / "requirements-fc.txt"
DEFAULT_OUT = ROOT / "build" / "fc-code"
# FC's python3.10 runs on Debian 10 (glibc 2.28), python3.12 on Debian 11, both x86_64:
# manylinux2014 (glibc 2.17) wheels run on either.
PLATFORM = "manylinux2014_x86_64"


class PackageError(Exception):
    pass


def ignore_patterns(path: Path) -> list[str]:
    """The patterns of a ``.fcignore`` file (gitignore syntax, the subset it uses)."""
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def is_ignored(relative: PurePosixPath, patterns: Iterable[str]) -> bool:
    """gitignore's rules for the forms .fcignore uses: ``dir/`` matches a directory (and all
    below it), a pattern with an inner ``/`` is anchored at the code root, one without
    matches a name at any depth."""
    parts = relative.parts
    for raw in patterns:
        directory_only = raw.endswith("/")
        pattern = raw.rstrip("/").lstrip("/")
        anchored = "/" in pattern or raw.startswith("/")
        if anchored:
            depth = len(PurePosixPath(pattern).parts)
            prefix = "/".join(parts[:depth])
            whole = len(parts) == depth
            if fnmatch.fnmatchcase(prefix, pattern) and (not directory_only or not whole):
                return True
        else:
            # Every ancestor directory's name, and the file's own name unless dir-only.
            names = parts[:-1] if directory_only else parts
            if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                return True
    return False


def copy_code(source: Path, out: Path) -> list[str]:
    """Copy ``source`` to ``out`` without what its .fcignore excludes; the copied paths."""
    patterns = ignore_patterns(source / ".fcignore")
    copied: list[str] = []
    for path in sorted(source.rglob("*")):
        relative = PurePosixPath(path.relative_to(source).as_posix())
        if path.is_dir() or relative.name == ".fcignore" or is_ignored(relative, patterns):
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(str(relative))
    return copied


def requirements(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def install_command(python_version: str, out: Path, requirement_file: Path) -> list[str]:
    major, _, minor = python_version.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise PackageError(f"--python-version {python_version!r} is not like 3.10")
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc for the build machine's Python would be dead weight
        "--target",
        str(out),
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--abi",
        f"cp{major}{minor}",
        "--only-binary=:all:",
        "--no-deps",  # requirements-fc.txt lists all it needs; the runtime has the rest
        "--requirement",
        str(requirement_file),
    ]


def build(
    out: Path = DEFAULT_OUT,
    python_version: str = "3.10",
    requirement_file: Path = REQUIREMENTS,
    source: Path = SOURCE,
) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_code(source, out)
    if requirements(requirement_file):
        done = subprocess.run(  # noqa: S603 - our own interpreter's pip, fixed arguments
            install_command(python_version, out, requirement_file),
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise PackageError(f"pip could not install {requirement_file.name}:\n{done.stderr}")
        # Console scripts are of no use in a function, and name the build machine's Python.
        shutil.rmtree(out / "bin", ignore_errors=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python-version", default="3.10", help="the FC runtime's Python")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the package directory")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    args = parser.parse_args(argv)
    try:
        out = build(args.out, args.python_version, args.requirements)
    except (PackageError, OSError) as exc:
        print(f"fc_package: {exc}", file=sys.stderr)
        return 1
    print(f"code package for python{args.python_version} in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
