"""What ConformanceCallback says about the MOD checks: each one it covers is reported for the
module that `check` fails on it, and every other one is named at the end of a fit, with why."""

import warnings

import lightning.pytorch as lpl
import pytest

from lightning_conformance import ConformanceCallback
from lightning_conformance.adapters.stage import neutral_settings
from lightning_conformance.checks import CHECKS
from lightning_conformance.checks._callback_coverage import COVERED, NOT_COVERED, not_covered_line
from tests.conftest import ROOT
from tests.fixtures.broken_modules import BROKEN

RUN = {"max_epochs": 2, "limit_train_batches": 2, "limit_val_batches": 2,
       "num_sanity_val_steps": 0}


def _watch(module, tmp_path):
    """Fit (and checkpoint) ``module`` under the callback; the callback, whether fit raised."""
    callback = ConformanceCallback("log")
    trainer = lpl.Trainer(**neutral_settings(str(tmp_path)) | RUN | {"callbacks": [callback]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            trainer.fit(module)
            trainer.save_checkpoint(tmp_path / "after-fit.ckpt")
        except Exception:  # Lightning raises for some mistakes; the callback names them first
            return callback, True
    return callback, False


@pytest.mark.parametrize("clause", COVERED)
def test_a_covered_check_is_reported_on_the_module_that_check_fails(tmp_path, clause):
    factory, status = BROKEN[clause]
    callback, _ = _watch(factory(), tmp_path)

    assert clause in {r.clause for r in callback.results}


def test_a_layer_left_out_of_configure_optimizers_is_named(tmp_path, capsys):
    callback, raised = _watch(BROKEN["MOD-007"][0](), tmp_path)
    out = capsys.readouterr().out

    assert not raised and "no contract violation" not in out
    assert [("MOD-007", "failed")] == [(r.clause, r.status) for r in callback.results]
    assert "no optimizer holds net.2.weight, net.2.bias, net.4.weight, net.4.bias" in out


def test_every_mod_check_is_covered_or_named_with_its_reason():
    named = [clause for _, ids in NOT_COVERED for clause in ids]

    assert sorted(named + list(COVERED)) == [check.id for check in CHECKS]  # each exactly once


def test_a_fit_ends_with_the_checks_it_cannot_see_and_the_readme_says_the_same(tmp_path, capsys):
    _watch(BROKEN["MOD-007"][0](), tmp_path)
    line = not_covered_line()

    assert capsys.readouterr().out.splitlines()[-1] == line
    assert "`lightning-conformance check` runs them" in line
    assert line in (ROOT / "README.md").read_text()
