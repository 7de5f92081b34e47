"""Mutants for the LOG clauses (see ``tests/mutants/__init__.py`` for the rules)."""

from ._load import mutant as _m  # noqa: F401  (used as entries are added)

__all__ = ["MUTANTS"]

MUTANTS = [
]
