"""MOD-030..034: checks of a user's module under DDP (two processes on CPU, gloo).

Each clause runs its check (conformance/checks/ddp.py) on the kit's known-good module of the
target; the five clauses share one launch per target. tests/test_module_checks.py proves
that each check catches the mistake it is for.
"""

from lightning_conformance import clause, requires
from lightning_conformance.checks import by_id
from lightning_conformance.clauses._module_checks import run_clause_check


def _clause(clause_id):
    check = by_id(clause_id)
    return clause(check.id, check.sentence, source=check.source)


@_clause("MOD-030")
@requires("ddp")
def test_ddp_fit_runs(target):
    result = run_clause_check(target, "MOD-030", ddp=2)

    assert "passed" == result.status, result.message


@_clause("MOD-031")
@requires("ddp")
def test_ddp_parameters_in_sync(target):
    result = run_clause_check(target, "MOD-031", ddp=2)

    assert "passed" == result.status, result.message


@_clause("MOD-032")
@requires("ddp")
def test_ddp_no_unused_parameters(target):
    result = run_clause_check(target, "MOD-032", ddp=2)

    assert "passed" == result.status, result.message


@_clause("MOD-033")
@requires("ddp")
def test_ddp_epoch_values_synced(target):
    result = run_clause_check(target, "MOD-033", ddp=2)

    assert "passed" == result.status, result.message


@_clause("MOD-034")
@requires("ddp")
def test_ddp_monitors_agree(target):
    result = run_clause_check(target, "MOD-034", ddp=2)

    assert "passed" == result.status, result.message
