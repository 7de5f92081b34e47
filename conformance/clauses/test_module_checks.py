"""MOD-001..034: the checks of a user's module, each run on the kit's known-good module.

The MOD clauses are the checks (conformance/checks/): each ``@check`` declares its clause, and
this file runs every check as one param named by its clause ID (``-k MOD-014`` selects one).
tests/test_module_checks.py proves that each check catches the mistake it is for.
"""

import pytest

from lightning_conformance import requires
from lightning_conformance.checks import CHECKS, Check
from lightning_conformance.clauses._module_checks import run_clause_check

# MOD-029 pickles the module as ddp_spawn would, but starts no process: it needs ddp=2 to run,
# not a target that can launch DDP.
_NO_LAUNCH = frozenset({"MOD-029"})


def _requires(check: Check) -> list:
    """The target capabilities the check's run needs (the clause skips on other targets)."""
    needed = ["cuda"] if "cuda" in check.needs else []
    if "ddp" in check.needs and check.id not in _NO_LAUNCH:
        needed.append("ddp")
    return [requires(*needed)] if needed else []


def _param(check: Check):
    return pytest.param(check, marks=[pytest.mark.clause(check.id), *_requires(check)],
                        id=check.id)


@pytest.mark.parametrize("check", [_param(check) for check in CHECKS])
def test_module_check(target, check):
    result = run_clause_check(target, check)

    assert "passed" == result.status, result.message
