"""OPT: configure_optimizers outputs that fit accepts with a warning."""

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._optimizers import (
    DEFAULTS,
    fit,
    returning,
    settings,
    sgd,
    step_lr_config,
)

TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"


@clause(
    "OPT-027",
    "Unknown keys in an optimizer dict warn (RuntimeWarning) and fit goes on.",
    source=f"{TESTS}::test_optimizer_config_dict_with_extra_keys_warns",
)
@requires("optimizers")
def test_unknown_optimizer_dict_keys_warn(target):
    module = returning(target, lambda self: {"optimizer": sgd(self), "foo": 1})

    with pytest.warns(RuntimeWarning, match="Found unsupported keys in the optimizer configuration"):
        run = fit(target, module)

    assert 2 == run.trainer.global_step


@clause(
    "OPT-028",
    "Unknown keys in a scheduler dict warn (RuntimeWarning) and are dropped.",
    source=f"{TESTS}::test_lr_scheduler_with_extra_keys_warns",
)
@requires("optimizers")
def test_unknown_scheduler_dict_keys_warn(target):
    module = returning(target, step_lr_config(foo=1, interval="step"))

    with pytest.warns(RuntimeWarning, match="Found unsupported keys in the lr scheduler dict"):
        run = fit(target, module)

    assert [DEFAULTS | {"interval": "step"}] == list(map(settings, run.trainer.lr_scheduler_configs))


@clause(
    "OPT-029",
    "A OneCycleLR stepped per epoch (the default interval) warns with a RuntimeWarning.",
    source=f"{TESTS}::test_onecyclelr_with_epoch_interval_warns",
)
@requires("optimizers")
def test_one_cycle_per_epoch_warns(target):
    def make(self):
        optimizer = sgd(self)
        one_cycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": one_cycle}}

    module = returning(target, make)

    with pytest.warns(RuntimeWarning, match="A `OneCycleLR` scheduler is using 'interval': 'epoch'"):
        fit(target, module)
