"""What a check is and what it returns: ``Check``, ``CheckResult`` and the three outcomes.

A check is a function of the shared context (``_context.Context``). It returns nothing when
the module passes, and raises ``Failed``, ``Warned`` or ``Skipped`` otherwise; ``run_check``
turns that into a ``CheckResult``, which is ``reports.model.Result`` under its older name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lightning_conformance.reports.model import Result
from lightning_conformance.spec.clause import Clause, ClauseError, register

__all__ = [
    "CLAUSE_TEST",
    "Check",
    "CheckInputError",
    "CheckResult",
    "Failed",
    "STATUSES",
    "Skipped",
    "Warned",
    "check",
    "registered",
]

STATUSES = ("passed", "failed", "warned", "skipped")  # those a check gives, of model.STATUSES

# A check's verdict is the kit's one result model; the name stays for users of check_module.
CheckResult = Result


class CheckInputError(ValueError):
    """The input cannot be checked at all (not a LightningModule, a factory that fails...)."""


class Skipped(Exception):
    """The check does not apply to this module or could not run; the message says why."""


class Warned(Exception):
    """The module works here but carries a risk; the message says which and how to fix it."""


class Failed(Exception):
    """The module breaks the clause; the message says what and how to fix it."""

    def __init__(self, message: str, *, stage: str = "fit"):
        super().__init__(message)
        self.stage = stage  # the run the reproduction script performs


# The one clause test that runs every check on each target's known-good module, one param per
# check (param id: the clause ID); a check's clause names it as its test.
CLAUSE_TEST = "lightning_conformance.clauses.test_module_checks::test_module_check"


@dataclass(frozen=True)
class Check:
    """One MOD clause as a check of a user's module.

    Attributes:
        clause: the MOD clause (ID, sentence, source) the check decides, as registered.
        needs: what the check needs to run at all: ``{"ddp"}``, ``{"cuda"}``.
        fix: how to fix a failure, appended to every failure message.
        claims: patterns of run errors this check reports (other checks then skip).
        stage: the run a reproduction script performs for a failure of this check.
        claim_when: claim a matching error only when ``claim_when(ctx, error)`` is true.
    """

    clause: Clause
    function: Callable = field(repr=False, compare=False)
    needs: frozenset = frozenset()
    fix: str = ""
    claims: tuple = ()
    stage: str = "fit"
    claim_when: Callable | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.clause.id

    @property
    def sentence(self) -> str:
        return self.clause.sentence

    @property
    def source(self) -> str:
        return self.clause.source

    def claims_error(self, ctx, error: BaseException) -> bool:
        text = f"{type(error).__name__}: {error}"
        if not any(re.search(pattern, text) for pattern in self.claims):
            return False
        return self.claim_when is None or bool(self.claim_when(ctx, error))


_CHECKS: dict[str, Check] = {}


def check(id: str, sentence: str, *, source: str, needs=(), fix: str = "", claims=(),
          stage: str = "fit", claim_when=None):
    """Register the decorated function ``f(ctx) -> None`` as the check of the MOD clause ``id``.

    The clause goes into the clause registry from here, so that ID, sentence and source are
    written once; its test is the param ``id`` of ``CLAUSE_TEST``.
    """
    declared = Clause(id, sentence, source, test=f"{CLAUSE_TEST}[{id}]")  # validates now
    if declared.area != "MOD":
        raise ClauseError(f"check {id}: a check decides a MOD clause (MOD-NNN)")

    def decorate(function):
        register(declared, f"{function.__module__}::{function.__qualname__}")
        _CHECKS[id] = Check(declared, function, frozenset(needs), fix, tuple(claims), stage,
                            claim_when)
        return function

    return decorate


def registered() -> tuple[Check, ...]:
    """Every registered check, in ID order (which is the run order)."""
    return tuple(_CHECKS[key] for key in sorted(_CHECKS))
