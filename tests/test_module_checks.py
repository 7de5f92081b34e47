"""check_module: the known-good module passes every check, and each broken variant in
tests/fixtures/broken_modules.py fails (or warns) exactly the check made for its mistake."""

import pytest
import torch

from lightning_conformance import (
    CHECKS,
    CheckResult,
    ConformanceError,
    check_module,
    load_registry,
    run_check,
)
from lightning_conformance.checks import CheckInputError, by_id, ddp
from lightning_conformance.checks._context import Context
from lightning_conformance.checks._target import derived_target, resolve
from lightning_conformance.checks.checkpoint import reads_weights_only
from lightning_conformance.reports.model import Result, Subject
from tests.fixtures.broken_modules import BROKEN, DDP_BATCH, Good, NoTrainData

CUDA = torch.cuda.is_available()
_LIGHTNING = resolve(Good, derived_target(Good))


def _options(check) -> dict:
    options = {}
    if "ddp" in check.needs:
        options["ddp"] = 2
    if "cuda" in check.needs:
        options["device"] = "cuda"
    return options


@pytest.fixture(scope="module", autouse=True)
def ddp_batch(tmp_path_factory):
    """The good module and the DDP variants that do not crash share one DDP launch.

    Its time limit is generous: none of these modules hangs, and the kit's default (120 s
    from the launch) is no bound on how long a loaded machine takes to start and fit them.
    """
    factories = [Good] + [BROKEN[clause_id][0] for clause_id in DDP_BATCH]
    root = tmp_path_factory.mktemp("ddp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ddp, "DEFAULT_TIMEOUT", 600)
        ddp.prepare([Context(factory, ddp=2, root=root) for factory in factories])


@pytest.fixture(scope="module")
def good_results():
    return check_module(Good, ddp=2, on_fail=None)


def test_the_good_module_passes_every_check(good_results):
    allowed = {"passed"} | ({"skipped"})
    statuses = {r.clause: r.status for r in good_results}

    assert {c.id for c in CHECKS} == set(statuses)
    assert {} == {k: v for k, v in statuses.items() if v not in allowed}
    skipped = {r.clause for r in good_results if r.status == "skipped"}
    assert skipped <= {"MOD-025", "MOD-026", "MOD-028"} and (CUDA or "MOD-028" in skipped)


@pytest.mark.parametrize("clause_id", sorted(BROKEN))
def test_a_broken_variant_fails_exactly_its_check(clause_id):
    check = by_id(clause_id)
    if "cuda" in check.needs and not CUDA:
        pytest.skip("needs CUDA: torch sees no CUDA device here")
    factory, expected = BROKEN[clause_id]
    if clause_id == "MOD-023" and reads_weights_only(_LIGHTNING):
        expected = "failed"  # this Lightning cannot resume from such a checkpoint at all

    results = {r.clause: r for r in check_module(factory, on_fail=None, **_options(check))}

    mine = results[clause_id]
    assert expected == mine.status, mine.message
    others = {r.clause: f"{r.status}: {r.message}" for r in results.values()
              if r.clause != clause_id and r.status in ("failed", "warned")}
    assert {} == others
    assert mine.message
    if expected == "failed":
        compile(mine.reproduction, f"reproduce-{clause_id}.py", "exec")
        assert f"Reproduces {clause_id}" in mine.reproduction


def test_every_mod_clause_has_a_check_and_a_broken_variant():
    clauses = {c for c in load_registry() if c.startswith("MOD-")}

    assert clauses == {c.id for c in CHECKS} == set(BROKEN)
    assert len(clauses) >= 25


def test_on_fail_raise_lists_the_failures():
    with pytest.raises(ConformanceError, match="MOD-002"):
        check_module(NoTrainData)


def test_on_fail_warn_warns_once_per_failure():
    with pytest.warns(UserWarning, match="MOD-002"):
        results = check_module(NoTrainData, on_fail="warn")

    assert "failed" == {r.clause: r.status for r in results}["MOD-002"]


def test_a_known_deviation_of_the_lightning_version_warns_instead_of_failing(monkeypatch):
    from lightning_conformance.adapters import deviations
    from lightning_conformance.adapters.deviations import Deviation

    factory, _ = BROKEN["MOD-001"]
    entry = Deviation("MOD-001", ">=2.0", "this Lightning breaks it", "a changelog entry")
    monkeypatch.setattr(deviations, "load_deviations", lambda name: [entry])

    result = run_check(by_id("MOD-001"), factory)

    assert "warned" == result.status
    assert "is known not to hold MOD-001: this Lightning breaks it" in result.message
    assert "a changelog entry" in result.message and not result.reproduction


def test_run_check_runs_one_check():
    result = run_check(by_id("MOD-001"), Good)

    assert ("MOD-001", "passed", "") == (result.clause, result.status, result.message)


def test_a_check_result_is_the_kits_one_result_model():
    result = run_check(by_id("MOD-001"), Good)
    on = Subject("target", _LIGHTNING.name, str(_LIGHTNING.adapter.version))

    assert CheckResult is Result and isinstance(result, Result)
    assert (Subject("module", Good.__qualname__, None, on), str(_LIGHTNING.contract)) == (
        result.subject, result.contract)


def test_require_data_stops_before_the_other_checks():
    with pytest.raises(CheckInputError, match="^no training data: NoTrainData defines no "):
        check_module(NoTrainData, require_data=True)


@pytest.mark.parametrize("factory, message", [
    (torch.nn.ReLU, "not a LightningModule"),
    (lambda: 1 / 0, "ZeroDivisionError"),
    ("not callable", "neither a LightningModule class"),
])
def test_input_that_cannot_be_checked_is_rejected(factory, message):
    with pytest.raises(CheckInputError, match=message):
        check_module(factory)


def test_a_target_of_another_namespace_is_rejected():
    with pytest.raises(CheckInputError, match="does not derive from pytorch_lightning"):
        check_module(Good, target="pytorch_lightning")
