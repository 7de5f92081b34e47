"""Mutants of the reference trainer, each a target: ``--target tests.mutants:<attr>``.

The catalogue is one file per area (``catalogue_<area>.py``). Each mutant is a textual edit of
one reference file; ``kills`` is the exact set of clauses that fail on it: the clause it was
written for and the other clauses that observe the same broken rule. ``tests/test_mutants.py``
checks that set against a real run of the clauses of the areas it names, so a clause that stops
catching its mutant shows up at once.

The attribute of mutant ``no-zero-grad`` is ``no_zero_grad``; it is a zero-argument factory.
"""

from ._load import Mutant, MutantError, load_mutant, mutant, mutant_target
from .catalogue_checkpoint import MUTANTS as _CKPT_MUTANTS
from .catalogue_ddp import MUTANTS as _DDP_MUTANTS
from .catalogue_devices import MUTANTS as _DEV_MUTANTS
from .catalogue_hooks import MUTANTS as _HOOK_MUTANTS
from .catalogue_logging import MUTANTS as _LOG_MUTANTS
from .catalogue_manual import MUTANTS as _MAN_MUTANTS
from .catalogue_optimizers import MUTANTS as _OPT_MUTANTS

__all__ = ["MUTANTS", "Mutant", "MutantError", "attribute", "areas", "load_mutant", "mutant",
           "mutant_target"]

MUTANTS = [*_HOOK_MUTANTS, *_LOG_MUTANTS, *_OPT_MUTANTS, *_CKPT_MUTANTS, *_MAN_MUTANTS,
           *_DEV_MUTANTS, *_DDP_MUTANTS]


def attribute(mutant: Mutant) -> str:
    return mutant.id.replace("-", "_")


def areas(mutant: Mutant) -> set[str]:
    """The clause areas a mutant is checked against: those of the clauses it must kill."""
    return {clause_id.split("-")[0] for clause_id in mutant.kills}


def __getattr__(name):
    for candidate in MUTANTS:
        if attribute(candidate) == name:
            return lambda: mutant_target(candidate)
    raise AttributeError(f"no mutant {name!r} in tests.mutants")
