"""The mutants: each a realistic one-line bug in the safety code, and the tests that must
notice it. ``before`` must occur exactly once in ``path``; tests/test_mutants.py keeps the list
in step with the code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str  # short, unique: module-what
    path: str  # relative to the clone's root
    before: str  # the exact original text
    after: str  # the bug
    why: str  # the mistake a person could make
    tests: tuple[str, ...]  # the test files (or node ids) that should notice it


MUTANTS: tuple[Mutant, ...] = ()
