"""Mutants of the reference trainer, each a target: ``--target tests.mutants:<attr>``.

The attribute of mutant ``no-zero-grad`` is ``no_zero_grad``; it is a zero-argument factory.
"""

from ._load import Mutant, MutantError, load_mutant, mutant_target
from .catalogue import MUTANTS

__all__ = ["MUTANTS", "Mutant", "MutantError", "attribute", "load_mutant", "mutant_target"]


def attribute(mutant: Mutant) -> str:
    return mutant.id.replace("-", "_")


def __getattr__(name):
    for mutant in MUTANTS:
        if attribute(mutant) == name:
            return lambda: mutant_target(mutant)
    raise AttributeError(f"no mutant {name!r} in tests.mutants")
