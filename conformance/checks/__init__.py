"""Checks of a user's own LightningModule: one check per MOD clause, run on real Lightning.

``check_module(factory)`` runs every check; ``run_check(check, factory)`` runs one.
Importing this package imports torch (not Lightning): the checks read the module's
namespace (``lightning.pytorch`` or ``pytorch_lightning``) from its class.
"""

from __future__ import annotations

# Importing the check modules registers their checks (run in ID order).
from lightning_conformance.checks import (  # noqa: F401
    checkpoint,
    ddp,
    devices,
    manual,
    optimization,
    runs,
    static,
    training,
)
from lightning_conformance.checks._base import Check, CheckInputError, CheckResult, registered
from lightning_conformance.checks._engine import (
    ConformanceError,
    ConformanceWarning,
    check_module,
    run_check,
)

__all__ = [
    "CHECKS",
    "Check",
    "CheckInputError",
    "CheckResult",
    "ConformanceError",
    "ConformanceWarning",
    "by_id",
    "check_module",
    "run_check",
]

CHECKS: tuple[Check, ...] = registered()


def by_id(clause_id: str) -> Check:
    """The check of the clause ``clause_id`` (KeyError when there is none)."""
    for check in CHECKS:
        if check.id == clause_id:
            return check
    raise KeyError(f"no check for clause {clause_id!r}")
