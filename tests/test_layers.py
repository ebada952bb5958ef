"""The package's layers: every import goes down (or stays on its floor), never up, never in a
circle. The layer order is written once, in ``resource_repair``'s docstring; this file reads
it from there and checks every module's imports against it, function-level ones included."""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import resource_repair

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "resource_repair"
# Modules outside the package that belong to the house: FC's entry points.
ENTRY_MODULES = ("index",)


def layers() -> list[tuple[str, tuple[str, ...]]]:
    """(name, module patterns) per layer, lowest first, as the package docstring lists them."""
    doc = resource_repair.__doc__ or ""
    found: list[tuple[str, tuple[str, ...]]] = []
    for match in re.finditer(r"^(\d+)\. ([\w ]+): ((?:.|\n   )+?)\.$", doc, re.MULTILINE):
        names = tuple(name.strip("` \n") for name in match[3].replace("\n", " ").split(","))
        found.append((match[2], tuple(name for name in names if name)))
    return found


def module_names() -> dict[str, Path]:
    """Every module of the house by dotted name (a package by its own name)."""
    modules: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    for name in ENTRY_MODULES:
        modules[name] = SRC / f"{name}.py"
    return modules


MODULES = module_names()


def imports(name: str) -> Iterator[tuple[int, str]]:
    """(line, module of the house) for every import in ``name``: top-level, function-level
    and TYPE_CHECKING ones alike, since each says the module needs the other."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` names a module; ``from module import name``
            # names the module.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield node.lineno, target


def short(name: str) -> str:
    return name.removeprefix(f"{PACKAGE}.")


def layer_of(name: str, order: list[tuple[str, tuple[str, ...]]]) -> int | None:
    """The layer a module's name (without the package prefix) is listed on: an exact name
    wins over a pattern (``remediators.*``)."""
    for exact in (True, False):
        for index, (_, patterns) in enumerate(order):
            for pattern in patterns:
                if ("*" not in pattern) == exact and fnmatch.fnmatchcase(short(name), pattern):
                    return index
    return None


def test_the_docstring_lists_the_layers() -> None:
    names = [name for name, _ in layers()]
    assert names[0] == "foundations"
    assert "settings" in names
    assert names[-1] == "entry points and workstation"


def test_every_module_has_a_layer() -> None:
    order = layers()
    homeless = [short(name) for name in MODULES if layer_of(name, order) is None]
    assert homeless == [], f"list these in resource_repair's docstring: {homeless}"


def test_no_import_climbs_a_layer() -> None:
    order = layers()
    climbing = []
    for name in MODULES:
        own = layer_of(name, order)
        for line, target in imports(name):
            theirs = layer_of(target, order)
            if own is not None and theirs is not None and theirs > own:
                climbing.append(
                    f"{short(name)}:{line} ({order[own][0]}) imports {short(target)}"
                    f" ({order[theirs][0]})"
                )
    assert climbing == []


def test_the_fakes_are_never_imported_by_the_code_that_runs_in_fc() -> None:
    order = layers()
    workstation = len(order) - 1
    leaks = [
        f"{short(name)}:{line} imports {short(target)}"
        for name in MODULES
        if not short(name).startswith("testing") and layer_of(name, order) != workstation
        for line, target in imports(name)
        if short(target).startswith("testing")
    ]
    assert leaks == []


def test_no_import_circle() -> None:
    graph = {name: {target for _, target in imports(name)} for name in MODULES}
    circles = [sorted(short(name) for name in group) for group in _strongly_connected(graph)]
    assert circles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of two or more modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return groups


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import resource_repair.settings", {"resource_repair.settings"}),
        ("from resource_repair import notify", {"resource_repair.notify"}),
        ("from resource_repair.settings import Settings", {"resource_repair.settings"}),
        ("def f():\n    from resource_repair.sweep import x", {"resource_repair.sweep"}),
        ("from . import settings", {"resource_repair.settings"}),
    ],
)
def test_the_checker_sees_every_kind_of_import(
    source: str, expected: set[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "resource_repair.probe", probe)
    assert {target for _, target in imports("resource_repair.probe")} == expected
