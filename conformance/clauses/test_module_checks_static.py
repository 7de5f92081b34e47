"""MOD-001..009: checks of a user's module that read its class and what it configures.

Each clause runs its check (conformance/checks/) on the kit's known-good module of the
target; tests/test_module_checks.py proves that each check catches the mistake it is for.
"""

from lightning_conformance import clause
from lightning_conformance.checks import by_id
from lightning_conformance.clauses._module_checks import run_clause_check


def _clause(clause_id):
    check = by_id(clause_id)
    return clause(check.id, check.sentence, source=check.source)


@_clause("MOD-001")
def test_training_step_defined(target):
    result = run_clause_check(target, "MOD-001")

    assert "passed" == result.status, result.message


@_clause("MOD-002")
def test_train_data_present(target):
    result = run_clause_check(target, "MOD-002")

    assert "passed" == result.status, result.message


@_clause("MOD-003")
def test_no_removed_hooks(target):
    result = run_clause_check(target, "MOD-003")

    assert "passed" == result.status, result.message


@_clause("MOD-004")
def test_no_optimizer_idx(target):
    result = run_clause_check(target, "MOD-004")

    assert "passed" == result.status, result.message


@_clause("MOD-005")
def test_hook_signatures(target):
    result = run_clause_check(target, "MOD-005")

    assert "passed" == result.status, result.message


@_clause("MOD-006")
def test_optimizer_format(target):
    result = run_clause_check(target, "MOD-006")

    assert "passed" == result.status, result.message


@_clause("MOD-007")
def test_parameters_optimized(target):
    result = run_clause_check(target, "MOD-007")

    assert "passed" == result.status, result.message


@_clause("MOD-008")
def test_scheduler_monitors(target):
    result = run_clause_check(target, "MOD-008")

    assert "passed" == result.status, result.message


@_clause("MOD-009")
def test_callback_monitors(target):
    result = run_clause_check(target, "MOD-009")

    assert "passed" == result.status, result.message
