"""OPT: ReduceLROnPlateau-like schedulers step with the metric they monitor."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._optimizers import fit, optimizer_hook, record_lr, returning, sgd

EPOCH_LOOP = "lightning/pytorch/loops/training_epoch_loop.py"
TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"


def _plateau_module(target, *, overrides=None, **config):
    """SGD(lr=0.1) and a ReduceLROnPlateau(factor=0.5, patience=0) config monitoring "m"."""

    def make(self):
        optimizer = sgd(self)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": "m", **config}}

    return returning(target, make, overrides=overrides)


def _log_m(hook, value):
    def log(self, *args):
        self.log("m", value(self))

    log.__name__ = hook
    return {hook: log}


def _record_metric(self, scheduler, metric):
    self.__dict__.setdefault("metrics", []).append(float(metric))
    scheduler.step(metric)


def _constant(self):
    return 1.0


@clause(
    "OPT-045",
    "A ReduceLROnPlateau steps after on_train_epoch_end, with the value of its monitor logged there.",
    source="lightning/pytorch/loops/fit_loop.py::on_advance_end",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers", "logging")
def test_plateau_after_train_epoch_end(target, contract):
    overrides = _log_m("on_train_epoch_end", lambda self: float(self.current_epoch + 2))
    step = {"lr_scheduler_step": optimizer_hook(contract, _record_metric)}
    module = _plateau_module(target, overrides=overrides | step)
    run = fit(target, module, max_epochs=2)
    names = run.trace.names("Module", hooks={"on_train_epoch_end", "lr_scheduler_step"})

    assert ["Module.on_train_epoch_end", "Module.lr_scheduler_step"] * 2 == names
    assert [2.0, 3.0] == module.metrics


@clause(
    "OPT-046",
    "The default lr_scheduler_step passes the monitored value to ReduceLROnPlateau.step.",
    source="lightning/pytorch/core/module.py::lr_scheduler_step",
)
@requires("optimizers", "logging")
def test_plateau_reduces_on_stalled_metric(target):
    overrides = _log_m("on_train_epoch_end", _constant) | record_lr("on_train_epoch_start")
    module = _plateau_module(target, overrides=overrides)
    fit(target, module, max_epochs=3)

    # epoch 0 sets the best value; epoch 1 does not improve on it (patience 0): lr halves
    assert [0.1, 0.1, 0.05] == module.lrs


_MISSING = "ReduceLROnPlateau conditioned on metric m which is not available"


@clause(
    "OPT-047",
    "A strict plateau scheduler whose monitor was never logged raises at the end of the epoch.",
    source=f"{TESTS}::test_lr_scheduler_strict",
)
@requires("optimizers")
def test_strict_missing_monitor_raises(target):
    module = _plateau_module(target)

    with pytest.raises(target.pl.MisconfigurationException,
                       match=re.escape(_MISSING + ". Available metrics are:")):
        fit(target, module)


@clause(
    "OPT-048",
    "With strict=False a missing monitor warns (RuntimeWarning) and the scheduler is not stepped.",
    source=f"{TESTS}::test_lr_scheduler_strict",
)
@requires("optimizers")
def test_non_strict_missing_monitor_warns(target):
    module = _plateau_module(target, strict=False)

    with pytest.warns(RuntimeWarning, match=re.escape(_MISSING + " but strict is set to `False`")):
        run = fit(target, module)

    assert [] == run.trace.calls("lr_scheduler_step")


@clause(
    "OPT-049",
    "A plateau scheduler is not stepped (nor checked) when max_steps ends fit in mid-epoch.",
    source=f"{TESTS}::test_lr_scheduler_strict",
)
@requires("optimizers")
def test_plateau_not_stepped_in_mid_epoch(target):
    run = fit(target, _plateau_module(target), max_steps=1, limit_train_batches=2)

    assert [] == run.trace.calls("lr_scheduler_step")


@clause(
    "OPT-050",
    'A "step" plateau scheduler steps after the batch\'s in-fit validation, seeing its metric.',
    source=f"{EPOCH_LOOP}::on_advance_end",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers", "logging")
def test_step_plateau_after_validation(target, contract):
    overrides = _log_m("on_validation_epoch_end", lambda self: float(self.global_step))
    step = {"lr_scheduler_step": optimizer_hook(contract, _record_metric)}
    module = _plateau_module(target, interval="step", overrides=overrides | step)
    fit(target, module, limit_val_batches=1, val_check_interval=1, num_sanity_val_steps=0)

    assert [1.0, 2.0] == module.metrics
