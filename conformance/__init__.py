"""lightning-conformance: the Lightning training contract as executable clauses.

Importing this package is cheap (no torch, no Lightning): the recorder and the run
machinery load on first use.
"""

from __future__ import annotations

import importlib
import pkgutil

from lightning_conformance.spec.clause import AREAS, REGISTRY, Clause, ClauseError, clause, requires
from lightning_conformance.spec.contract import CHANGES, Change, Contract

__all__ = [
    "AREAS",
    "CHANGES",
    "CHECKS",
    "Change",
    "CheckInputError",
    "CheckResult",
    "Clause",
    "ClauseError",
    "ConformanceCallback",
    "ConformanceError",
    "ConformanceWarning",
    "Contract",
    "Event",
    "HookSequence",
    "REGISTRY",
    "Recorder",
    "Trace",
    "check_module",
    "clause",
    "load_registry",
    "parametrize_with_checks",
    "requires",
    "run_check",
]

# name -> the submodule that defines it, imported on first use (it imports torch)
_LAZY = {
    **dict.fromkeys(("Event", "HookSequence", "Recorder", "Trace"), ".adapters.trace"),
    **dict.fromkeys(("CHECKS", "CheckInputError", "CheckResult", "ConformanceError",
                     "ConformanceWarning", "check_module", "run_check"), ".checks"),
    "ConformanceCallback": ".checks.callback",
    "parametrize_with_checks": ".checks.pytest_api",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_registry() -> dict[str, Clause]:
    """Import every clause module of the kit and return the registry, sorted by ID.

    The MOD clauses are declared by the checks of a user's module (``@check``), which the MOD
    clause file imports; importing them here too says where those clauses come from.
    """
    from . import checks, clauses  # noqa: F401  (importing registers)

    for info in pkgutil.iter_modules(clauses.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"{clauses.__name__}.{info.name}")
    return dict(sorted(REGISTRY.items()))
