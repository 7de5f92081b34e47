"""LOG: where self.log may be called, and its default levels per hook (one table, one param per hook)."""

import re

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._logging import (
    BATCHES,
    CALLBACK_FORBIDDEN,
    EPOCH_HOOKS,
    FORBIDDEN,
    HOOK_LEVELS,
    LEVEL_HOOKS,
    MODULE_ONLY,
    PREDICT_HOOKS,
    SOURCE,
    STEP_HOOKS,
    logging_callback,
    logging_module,
    run_for_hook,
)

CALLBACK_HOOKS = tuple(hook for hook in LEVEL_HOOKS if hook not in MODULE_ONLY)
MODULE_LOG = "lightning/pytorch/core/module.py::LightningModule.log"


def _log_x(**options):
    return lambda module: module.log("x", 1.0, **options)


def _calls_with(logger, key):
    """How many logger calls carried ``key``."""
    return sum(key in metrics for metrics, _ in logger.calls)


def _expected_calls(hook):
    on_step, _ = HOOK_LEVELS[hook].default
    return BATCHES if on_step else 1


@clause(
    "LOG-001",
    "self.log with no levels uses the hook's default on_step/on_epoch from the logging table.",
    source=SOURCE,
)
@requires("logging")
@pytest.mark.parametrize("hook", LEVEL_HOOKS)
def test_default_levels_per_hook(target, hook):
    logger = target.logger()
    module = logging_module(target.pl, hook, _log_x())
    run_for_hook(target, hook, module, logger=logger)

    assert (["x"], _expected_calls(hook)) == ([k for k in logger.keys() if k == "x"],
                                              _calls_with(logger, "x"))


@clause(
    "LOG-002",
    "Batch hooks accept on_step=True with on_epoch=True and log name_step and name_epoch.",
    source=SOURCE,
)
@requires("logging")
@pytest.mark.parametrize("hook", STEP_HOOKS)
def test_step_hooks_allow_both_levels(target, hook):
    module = logging_module(target.pl, hook, _log_x(on_step=True, on_epoch=True))
    run = run_for_hook(target, hook, module)

    assert {"x_step", "x_epoch"} <= set(run.trainer.logged_metrics)


@clause(
    "LOG-003",
    "Epoch and loop hooks reject self.log(on_step=True) with MisconfigurationException.",
    source=SOURCE,
)
@requires("logging")
@pytest.mark.parametrize("hook", EPOCH_HOOKS)
def test_epoch_hooks_reject_on_step(target, hook):
    module = logging_module(target.pl, hook, _log_x(on_step=True))
    message = f"You can't `self.log(on_step=True)` inside `{hook}`, must be one of (False,)"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        run_for_hook(target, hook, module)


@clause(
    "LOG-004",
    "Epoch and loop hooks reject self.log(on_epoch=False) with MisconfigurationException.",
    source=SOURCE,
)
@requires("logging")
@pytest.mark.parametrize("hook", EPOCH_HOOKS)
def test_epoch_hooks_reject_on_epoch_false(target, hook):
    module = logging_module(target.pl, hook, _log_x(on_epoch=False))
    message = f"You can't `self.log(on_epoch=False)` inside `{hook}`, must be one of (True,)"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        run_for_hook(target, hook, module)


@clause(
    "LOG-005",
    "self.log in a hook that forbids logging (setup, on_fit_start, ...) raises the documented error.",
    source=SOURCE,
)
@requires("logging")
@pytest.mark.parametrize("hook", FORBIDDEN)
def test_forbidden_hooks_raise(target, hook):
    module = logging_module(target.pl, hook, _log_x(), scheduler=hook == "lr_scheduler_step")
    message = f"You can't `self.log()` inside `{hook}`. HINT: You can still log directly"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        run_for_hook(target, hook, module)


@clause(
    "LOG-006",
    "self.log in any predict hook raises: predict has no result collection.",
    source=MODULE_LOG,
)
@requires("logging")
@pytest.mark.parametrize("hook", PREDICT_HOOKS)
def test_predict_hooks_raise(target, hook):
    module = logging_module(target.pl, hook, _log_x())

    with pytest.raises(target.pl.MisconfigurationException,
                       match=re.escape("the loop's result collection is not registered yet")):
        run_for_hook(target, hook, module)


@clause(
    "LOG-007",
    "pl_module.log from a callback hook follows the same table as the module hook of that name.",
    source="tests/tests_pytorch/trainer/logging_/test_logger_connector.py::test_fx_validator",
)
@requires("logging")
@pytest.mark.parametrize("hook", CALLBACK_HOOKS)
def test_callback_default_levels(target, hook):
    logger = target.logger()
    callback = logging_callback(target.pl, hook, _log_x())
    run_for_hook(target, hook, target.module(), logger=logger, callbacks=[callback])

    assert _expected_calls(hook) == _calls_with(logger, "x")


@clause(
    "LOG-008",
    "pl_module.log from a callback hook that forbids logging (setup, on_fit_end, ...) raises.",
    source="tests/tests_pytorch/trainer/logging_/test_logger_connector.py::test_fx_validator",
)
@requires("logging")
@pytest.mark.parametrize("hook", CALLBACK_FORBIDDEN)
def test_callback_forbidden_hooks_raise(target, hook):
    callback = logging_callback(target.pl, hook, _log_x())
    message = f"You can't `self.log()` inside `{hook}`"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        run_for_hook(target, hook, target.module(), callbacks=[callback], num_sanity_val_steps=1)


@clause(
    "LOG-009",
    "self.log on a module that is not attached to a Trainer warns instead of raising.",
    source=MODULE_LOG,
)
@requires("logging")
def test_log_without_trainer_warns(target):
    module = target.module()

    with pytest.warns(UserWarning, match=re.escape("reference is not registered on the model yet")):
        module.log("x", 1.0)
