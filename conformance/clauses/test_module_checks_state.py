"""MOD-021..029: checks of a user's module: checkpoints, manual optimization, devices, processes.

Each clause runs its check (conformance/checks/) on the kit's known-good module of the
target; tests/test_module_checks.py proves that each check catches the mistake it is for.
"""

from lightning_conformance import clause, requires
from lightning_conformance.checks import by_id
from lightning_conformance.clauses._module_checks import run_clause_check


def _clause(clause_id):
    check = by_id(clause_id)
    return clause(check.id, check.sentence, source=check.source)


@_clause("MOD-021")
def test_state_round_trips(target):
    result = run_clause_check(target, "MOD-021")

    assert "passed" == result.status, result.message


@_clause("MOD-022")
def test_loads_without_arguments(target):
    result = run_clause_check(target, "MOD-022")

    assert "passed" == result.status, result.message


@_clause("MOD-023")
def test_loads_weights_only(target):
    result = run_clause_check(target, "MOD-023")

    assert "passed" == result.status, result.message


@_clause("MOD-024")
def test_resume_equals_uninterrupted(target):
    result = run_clause_check(target, "MOD-024")

    assert "passed" == result.status, result.message


@_clause("MOD-025")
def test_manual_backward_used(target):
    result = run_clause_check(target, "MOD-025", manual=True)

    assert "passed" == result.status, result.message


@_clause("MOD-026")
def test_every_optimizer_stepped(target):
    result = run_clause_check(target, "MOD-026", manual=True)

    assert "passed" == result.status, result.message


@_clause("MOD-027")
def test_no_hard_coded_cuda(target):
    result = run_clause_check(target, "MOD-027")

    assert "passed" == result.status, result.message


@_clause("MOD-028")
@requires("cuda")
def test_mixed_precision_runs(target):
    result = run_clause_check(target, "MOD-028", device="cuda")

    assert "passed" == result.status, result.message


@_clause("MOD-029")
def test_module_pickles(target):
    result = run_clause_check(target, "MOD-029", ddp=2)

    assert "passed" == result.status, result.message
