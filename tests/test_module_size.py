"""Rooms of a size a person reads in one sitting: no module of the package over 500 lines
and no function over 120, outside the fakes (``testing/``, which mirror whole services)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "resource_repair"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 120
# Not split yet, with the reason; each entry is a debt, and the test fails once it is paid
# so that the entry goes too.
NOT_YET: dict[str, str] = {}


def modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "testing" not in path.relative_to(PACKAGE).parts
    ]


def oversized(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    if len(text.splitlines()) > MAX_MODULE_LINES:
        found.append(f"{len(text.splitlines())} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name}() {length} lines")
    return found


def test_no_module_or_function_is_too_long_to_read_in_one_sitting() -> None:
    too_long = {
        str(path.relative_to(PACKAGE)): problems
        for path in modules()
        if (problems := oversized(path)) and str(path.relative_to(PACKAGE)) not in NOT_YET
    }
    assert too_long == {}


def test_every_room_not_yet_split_is_still_too_long() -> None:
    paid = [name for name in NOT_YET if not oversized(PACKAGE / name)]
    assert paid == [], "remove these from NOT_YET"


def test_the_measure_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    probe = tmp_path / "probe.py"
    probe.write_text(f"def long():\n{body}\n", encoding="utf-8")
    assert oversized(probe) == [f"long() {MAX_FUNCTION_LINES + 1} lines"]
