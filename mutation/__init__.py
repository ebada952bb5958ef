"""Mutation testing of the safety code: realistic one-line bugs, and the tests that must notice.

``make mutate`` (``python -m mutation``) plants each mutant of :mod:`mutation.mutants` in a copy
of the tree, runs the tests named for it, and prints which were noticed (killed) and which were
not (survived), with the kill rate per module.
"""
