"""Every relative link in README.md and docs/ leads somewhere: the file exists, and the
section it names (``#anchor``, as GitHub makes anchors from headings) is in that file. A
section renamed or moved to another page fails here, not on a reader's click."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# [text](target), not inside code: a target without a scheme is relative.
LINK = re.compile(r"(?<!`)\[[^\]\n]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces to hyphens (so `` `setup --apply` `` keeps both hyphens)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE):
        base = github_anchor(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")  # repeats get -1, -2, ...
        seen[base] = count + 1
    return found


def relative_links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_the_anchors_are_githubs() -> None:
    assert github_anchor("Config's own call of the function: `setup --config-remediation`") == (
        "configs-own-call-of-the-function-setup---config-remediation"
    )
    assert github_anchor("FC 3.0") == "fc-30"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (destination.suffix != ".md" or anchor not in anchors(destination)):
            broken.append(f"{target}: no such section in {destination.relative_to(ROOT)}")
    assert broken == []


def test_links_are_found_where_they_are() -> None:
    """The checker sees links in text and skips those in code, where they are examples."""
    page = ROOT / "README.md"
    assert "docs/deploying.md" in relative_links(page)
    assert all("](" not in target for target in relative_links(page))
