"""OPT: configure_optimizers outputs that fit rejects, each with Lightning's message."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._optimizers import (
    OPTIMIZER_SOURCE,
    CustomScheduler,
    StatelessScheduler,
    custom,
    fit,
    optimizer_hook,
    plateau,
    returning,
    sgd,
    step_lr,
    step_lr_config,
)

TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"
UNKNOWN = "Unknown configuration for model optimizers"


def _rejected(target, make, error, message, **module_kwargs):
    """Fit a module returning ``make(self)`` and expect ``error`` with ``message``."""
    module = returning(target, make, **module_kwargs)
    with pytest.raises(error, match=re.escape(message)):
        fit(target, module)
    return module


@clause(
    "OPT-015",
    "An output of none of the accepted shapes raises MisconfigurationException (unknown config).",
    source=f"{TESTS}::test_unknown_configure_optimizers_raises",
)
@requires("optimizers")
@pytest.mark.parametrize("shape", ["string", "scheduler", "three_items"])
def test_unknown_shape(target, shape):
    def make(self):
        optimizer = sgd(self)
        return {"string": "sgd", "scheduler": step_lr(self, optimizer),
                "three_items": ([optimizer], [step_lr(self, optimizer)], "extra")}[shape]

    _rejected(target, make, target.pl.MisconfigurationException, UNKNOWN)


@clause(
    "OPT-016",
    "A list mixing optimizers and optimizer dicts raises MisconfigurationException (unknown config).",
    source=f"{TESTS}::test_invalid_optimizer_dict_raises",
)
@requires("optimizers")
def test_mixed_list(target):
    def make(self):
        return [sgd(self), {"optimizer": sgd(self)}]

    _rejected(target, make, target.pl.MisconfigurationException, UNKNOWN)


@clause(
    "OPT-017",
    'An "lr_scheduler" dict without a "scheduler" key raises MisconfigurationException.',
    source=f"{TESTS}::test_lr_scheduler_with_no_actual_scheduler_raises",
)
@requires("optimizers")
def test_scheduler_dict_needs_scheduler(target):
    def make(self):
        return {"optimizer": sgd(self), "lr_scheduler": {"interval": "step"}}

    message = 'The lr scheduler dict must have the key "scheduler"'
    _rejected(target, make, target.pl.MisconfigurationException, message)


@clause(
    "OPT-018",
    'A scheduler "interval" other than "step" or "epoch" raises MisconfigurationException.',
    source=f"{TESTS}::test_lr_scheduler_with_unknown_interval_raises",
)
@requires("optimizers")
def test_bad_interval(target):
    message = 'The "interval" key in lr scheduler dict must be "step" or "epoch" but is "batch"'
    _rejected(target, step_lr_config(interval="batch"), target.pl.MisconfigurationException,
              message)


@clause(
    "OPT-019",
    'A bare ReduceLROnPlateau without a "monitor" beside it raises MisconfigurationException.',
    source=f"{TESTS}::test_reducelronplateau_with_no_monitor_raises",
)
@requires("optimizers")
@pytest.mark.parametrize("shape", ["two_lists", "dict"])
def test_plateau_needs_monitor(target, shape):
    def make(self):
        optimizer = sgd(self)
        scheduler = plateau(self, optimizer)
        if shape == "two_lists":
            return [optimizer], [scheduler]
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    message = "`configure_optimizers` must include a monitor when a `ReduceLROnPlateau`"
    _rejected(target, make, target.pl.MisconfigurationException, message)


_SCHEDULER_DICT_MONITOR = "The lr scheduler dict must include a monitor when a `ReduceLROnPlateau`"


@clause(
    "OPT-020",
    'A ReduceLROnPlateau scheduler dict without "monitor" raises MisconfigurationException.',
    source=f"{TESTS}::test_reducelronplateau_with_no_monitor_in_lr_scheduler_dict_raises",
)
@requires("optimizers")
def test_plateau_dict_needs_monitor(target):
    def make(self):
        optimizer = sgd(self)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": plateau(self, optimizer)}}

    _rejected(target, make, target.pl.MisconfigurationException, _SCHEDULER_DICT_MONITOR)


@clause(
    "OPT-021",
    'In a list of optimizer dicts a top-level "monitor" does not count for ReduceLROnPlateau.',
    source=f"{OPTIMIZER_SOURCE}::_configure_optimizers",
)
@requires("optimizers")
def test_list_of_dicts_ignores_top_level_monitor(target):
    def make(self):
        optimizer = sgd(self)
        return [{"optimizer": optimizer, "lr_scheduler": plateau(self, optimizer), "monitor": "m"}]

    _rejected(target, make, target.pl.MisconfigurationException, _SCHEDULER_DICT_MONITOR)


@clause(
    "OPT-022",
    "A scheduler of an optimizer that configure_optimizers did not return raises.",
    source=f"{TESTS}::test_invalid_optimizer_in_scheduler",
)
@requires("optimizers")
def test_scheduler_on_foreign_optimizer(target):
    def make(self):
        foreign = torch.optim.SGD(self.layer.parameters(), lr=0.1)
        return [sgd(self)], [step_lr(self, foreign)]

    message = "Some schedulers are attached with an optimizer that wasn't returned"
    _rejected(target, make, target.pl.MisconfigurationException, message)


@clause(
    "OPT-023",
    "A scheduler without state_dict and load_state_dict raises TypeError.",
    source=f"{TESTS}::test_invalid_scheduler_missing_state_dict",
)
@requires("optimizers")
def test_scheduler_needs_state_dict(target):
    def make(self):
        optimizer = sgd(self)
        return [optimizer], [custom(self, StatelessScheduler, optimizer)]

    message = "It should have `state_dict` and `load_state_dict` methods defined."
    _rejected(target, make, TypeError, message)


@clause(
    "OPT-024",
    "A non-PyTorch scheduler raises unless the module overrides lr_scheduler_step.",
    source=f"{TESTS}::test_invalid_lr_scheduler_with_custom_step_method",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers")
def test_custom_scheduler_needs_lr_scheduler_step(target, contract):
    def make(self):
        optimizer = sgd(self)
        return [optimizer], [custom(self, CustomScheduler, optimizer)]

    message = "The provided lr scheduler `CustomScheduler` doesn't follow PyTorch's LRScheduler API"
    _rejected(target, make, target.pl.MisconfigurationException, message)
    module = returning(target, make,
                       overrides={"lr_scheduler_step": optimizer_hook(contract, _custom_step)})

    fit(target, module)


def _custom_step(self, scheduler, metric):
    scheduler.step()


_MULTIPLE = "Training with multiple optimizers is only supported with manual optimization."
_MISSING_IDX = "defines 2 optimizers but `training_step` is missing the `optimizer_idx` argument"


def _step_per_optimizer(self, batch, batch_idx, optimizer_idx):
    return self.layer(batch).sum()


@clause(
    "OPT-025",
    "Several optimizers in automatic optimization raise RuntimeError: only manual supports them.",
    source=f"{OPTIMIZER_SOURCE}::_validate_multiple_optimizers_support",
    changes=("several_optimizers_need_manual",),
)
@requires("optimizers")
@pytest.mark.parametrize("shape", ["list", "two_lists", "dicts"])
def test_several_optimizers_need_manual(target, contract, shape):
    def make(self):
        first, second = sgd(self), sgd(self)
        return {"list": [first, second], "two_lists": ([first, second], []),
                "dicts": [{"optimizer": first}, {"optimizer": second}]}[shape]

    if contract.has("several_optimizers_need_manual"):
        _rejected(target, make, RuntimeError, _MULTIPLE)
    else:
        _rejected(target, make, ValueError, _MISSING_IDX)
        run = fit(target, returning(target, make,
                                    overrides={"training_step": _step_per_optimizer}))
        assert [0, 1, 0, 1] == [event.args["optimizer_idx"]
                                for event in run.trace.calls("training_step")]


@clause(
    "OPT-026",
    "A training_step with an optimizer_idx parameter makes fit raise (removed in 2.0).",
    source=f"{OPTIMIZER_SOURCE}::_validate_multiple_optimizers_support",
    changes=("optimizer_idx_rejected_at_fit_start",),
)
@requires("optimizers")
def test_optimizer_idx_raises(target, contract):
    step = {"training_step": lambda self, batch, batch_idx, optimizer_idx: self.layer(batch).sum()}

    if contract.has("optimizer_idx_rejected_at_fit_start"):
        error, message = RuntimeError, "Remove the `optimizer_idx` argument from `training_step`"
    else:
        error, message = TypeError, "missing 1 required positional argument: 'optimizer_idx'"
    _rejected(target, lambda self: sgd(self), error, message, overrides=step)


@clause(
    "OPT-030",
    "A rejected configure_optimizers output raises before on_fit_start and any training_step.",
    source=f"{OPTIMIZER_SOURCE}::_init_optimizers_and_lr_schedulers",
)
@requires("optimizers")
def test_rejected_before_fit_start(target):
    module = returning(target, lambda self: "sgd", overrides={"on_fit_start": _mark_fit_start})

    with pytest.raises(target.pl.MisconfigurationException, match=UNKNOWN):
        fit(target, module)

    assert not module.__dict__.get("fit_started")


def _mark_fit_start(self):
    self.__dict__["fit_started"] = True
