"""lightning-conformance: the Lightning training contract as executable clauses.

Importing this package is cheap (no torch, no Lightning): the recorder and the run
machinery load on first use.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._clause import AREAS, REGISTRY, Clause, ClauseError, clause, requires
from ._contract import CHANGES, Change, Contract

__all__ = [
    "AREAS",
    "CHANGES",
    "Change",
    "Clause",
    "ClauseError",
    "Contract",
    "Event",
    "HookSequence",
    "REGISTRY",
    "Recorder",
    "Trace",
    "clause",
    "load_registry",
    "requires",
]

_LAZY = {"Event", "HookSequence", "Recorder", "Trace"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module("._trace", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_registry() -> dict[str, Clause]:
    """Import every clause module of the kit and return the registry, sorted by ID."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(REGISTRY.items()))
