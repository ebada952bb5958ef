"""The mutation run's list follows the code: every mutant's original text is still there,
exactly once, and names test files that exist (``make mutate`` runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutation.mutants import MUTANTS, Mutant
from mutation.run import ROOT, StaleMutantError, copy_tree, planted


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_still_matches_the_code_it_mutates(mutant: Mutant) -> None:
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert planted(source, mutant) != source
    assert mutant.tests, "a mutant no test is named for counts as noticed by nothing"
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).is_file(), test


def test_a_mutant_whose_text_is_gone_is_refused_not_skipped() -> None:
    gone = Mutant("x", "src/index.py", "no such text", "", "", ("tests/test_handler.py",))
    with pytest.raises(StaleMutantError):
        planted(Path(ROOT / "src/index.py").read_text(encoding="utf-8"), gone)


def test_names_are_unique() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))


def test_the_scratch_copy_holds_what_the_tests_read_beside_src_and_tests(tmp_path: Path) -> None:
    # The tests read the templates, the README and recorded samples: a copy of src and
    # tests alone fails them all, and every mutant would count as noticed.
    scratch = copy_tree(tmp_path)
    for name in ("template.yml", "README.md", "pyproject.toml", "tests/events", "src/index.py"):
        assert (scratch / name).exists(), name
    assert not (scratch / ".venv-3.10").exists()
