"""The mutation run's list follows the code: every mutant's original text is still there,
exactly once, and names test files that exist (``make mutate`` runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutation.mutants import MUTANTS, Mutant
from mutation.run import ROOT, StaleMutantError, planted


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutant_still_matches_the_code_it_mutates(mutant: Mutant) -> None:
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert planted(source, mutant) != source
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).is_file(), test


def test_a_mutant_whose_text_is_gone_is_refused_not_skipped() -> None:
    gone = Mutant("x", "src/index.py", "no such text", "", "", ("tests/test_handler.py",))
    with pytest.raises(StaleMutantError):
        planted(Path(ROOT / "src/index.py").read_text(encoding="utf-8"), gone)


def test_names_are_unique() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))
