"""MOD-010..020: checks of a user's module that run it for a few batches.

Each clause runs its check (conformance/checks/) on the kit's known-good module of the
target; tests/test_module_checks.py proves that each check catches the mistake it is for.
"""

from lightning_conformance import clause
from lightning_conformance.checks import by_id
from lightning_conformance.clauses._module_checks import run_clause_check


def _clause(clause_id):
    check = by_id(clause_id)
    return clause(check.id, check.sentence, source=check.source)


@_clause("MOD-010")
def test_fit_runs(target):
    result = run_clause_check(target, "MOD-010")

    assert "passed" == result.status, result.message


@_clause("MOD-011")
def test_validate_runs(target):
    result = run_clause_check(target, "MOD-011")

    assert "passed" == result.status, result.message


@_clause("MOD-012")
def test_test_runs(target):
    result = run_clause_check(target, "MOD-012")

    assert "passed" == result.status, result.message


@_clause("MOD-013")
def test_predict_runs(target):
    result = run_clause_check(target, "MOD-013")

    assert "passed" == result.status, result.message


@_clause("MOD-014")
def test_loss_is_finite_scalar(target):
    result = run_clause_check(target, "MOD-014")

    assert "passed" == result.status, result.message


@_clause("MOD-015")
def test_parameters_get_gradients(target):
    result = run_clause_check(target, "MOD-015")

    assert "passed" == result.status, result.message


@_clause("MOD-016")
def test_parameters_change(target):
    result = run_clause_check(target, "MOD-016")

    assert "passed" == result.status, result.message


@_clause("MOD-017")
def test_logged_values_valid(target):
    result = run_clause_check(target, "MOD-017")

    assert "passed" == result.status, result.message


@_clause("MOD-018")
def test_validation_keeps_state(target):
    result = run_clause_check(target, "MOD-018")

    assert "passed" == result.status, result.message


@_clause("MOD-019")
def test_train_mode_restored(target):
    result = run_clause_check(target, "MOD-019")

    assert "passed" == result.status, result.message


@_clause("MOD-020")
def test_same_seed_same_result(target):
    result = run_clause_check(target, "MOD-020")

    assert "passed" == result.status, result.message
