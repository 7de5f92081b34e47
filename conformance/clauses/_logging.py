"""The LOG area's data and scenarios: the per-hook logging table and modules that log.

``HOOK_LEVELS`` is Lightning's ``_FxValidator.functions`` for the hooks a run calls, written out
as the kit's own table: every per-hook clause is parametrised from it, one pytest parameter
per hook.
"""

from __future__ import annotations

from dataclasses import dataclass

from lightning_conformance.clauses import _models

__all__ = [
    "CALLBACK_FORBIDDEN",
    "EPOCH_HOOKS",
    "FORBIDDEN",
    "HOOK_LEVELS",
    "LEVEL_HOOKS",
    "PREDICT_HOOKS",
    "STEP_HOOKS",
    "Levels",
    "MODULE_ONLY",
    "SOURCE",
    "logging_callback",
    "logging_module",
    "run_for_hook",
    "train_logging",
    "training_step_logging",
]

SOURCE = "lightning/pytorch/trainer/connectors/logger_connector/fx_validator.py::_FxValidator"


@dataclass(frozen=True)
class Levels:
    """The levels a hook allows for ``on_step`` / ``on_epoch``, and its defaults."""

    on_step: tuple
    on_epoch: tuple
    default: tuple  # (on_step, on_epoch) when both are left as None


TRAIN_STEP = Levels((False, True), (False, True), (True, False))
EVAL_STEP = Levels((False, True), (False, True), (False, True))
EPOCH = Levels((False,), (True,), (False, True))

HOOK_LEVELS = {
    **dict.fromkeys(
        ("training_step", "on_train_batch_start", "on_train_batch_end", "on_before_backward",
         "backward", "on_after_backward", "on_before_optimizer_step", "optimizer_step",
         "configure_gradient_clipping", "on_before_zero_grad", "optimizer_zero_grad"),
        TRAIN_STEP),
    **dict.fromkeys(
        ("validation_step", "on_validation_batch_start", "on_validation_batch_end", "test_step",
         "on_test_batch_start", "on_test_batch_end"),
        EVAL_STEP),
    **dict.fromkeys(
        ("on_train_start", "on_train_epoch_start", "on_train_epoch_end", "on_validation_start",
         "on_validation_epoch_start", "on_validation_epoch_end", "on_test_start",
         "on_test_epoch_start", "on_test_epoch_end"),
        EPOCH),
}  # fmt: skip
STEP_HOOKS = tuple(hook for hook, levels in HOOK_LEVELS.items() if levels is not EPOCH)
EPOCH_HOOKS = tuple(hook for hook, levels in HOOK_LEVELS.items() if levels is EPOCH)
LEVEL_HOOKS = tuple(HOOK_LEVELS)
# Module hooks a run calls where self.log raises "You can't `self.log()` inside `{hook}`".
# (on_validation_model_zero_grad is forbidden too, but only called since Lightning 2.1.)
FORBIDDEN = (
    "prepare_data", "setup", "configure_callbacks", "configure_optimizers", "on_fit_start",
    "train_dataloader", "val_dataloader", "on_before_batch_transfer", "transfer_batch_to_device",
    "on_after_batch_transfer", "on_validation_model_eval", "on_validation_model_train",
    "on_validation_end", "lr_scheduler_step", "on_train_end",
    "on_fit_end", "teardown", "test_dataloader", "on_test_model_eval", "on_test_model_train",
    "on_test_end",
)  # fmt: skip
CALLBACK_FORBIDDEN = (
    "setup", "on_fit_start", "on_sanity_check_start", "on_sanity_check_end", "on_train_end",
    "on_validation_end", "on_fit_end", "teardown", "on_test_end",
)  # fmt: skip
PREDICT_HOOKS = (
    "on_predict_start", "on_predict_epoch_start", "on_predict_batch_start", "predict_step",
    "on_predict_batch_end", "on_predict_epoch_end", "on_predict_end",
)  # fmt: skip
# Module-only hooks (a Callback has no hook of that name).
MODULE_ONLY = {"training_step", "validation_step", "test_step", "backward", "optimizer_step",
               "configure_gradient_clipping", "optimizer_zero_grad"}  # fmt: skip

BATCHES = 3


def _base_method(pl, hook):
    """The scenario's own method for ``hook`` (so the run still trains), else Lightning's."""
    return _models._BASE.get(hook) or getattr(pl.LightningModule, hook)


def logging_module(pl, hook, log, **features):
    """A scenario module whose ``hook`` first calls ``log(self)`` and then does its usual work."""
    base = _base_method(pl, hook)

    def logged(self, *args, **kwargs):
        log(self)
        return base(self, *args, **kwargs)

    overrides = {hook: logged, **features.pop("overrides", {})}
    return _models.build_module(pl, overrides=overrides, **features)


def logging_callback(pl, hook, log):
    """A callback whose ``hook`` calls ``log(pl_module)``."""

    def logged(self, trainer, pl_module, *args, **kwargs):
        log(pl_module)

    return _models.build_callback(pl, overrides={hook: logged}, name="LoggingCallback")


def run_for_hook(target, hook, module, **kwargs):
    """Run the stage that calls ``hook``: test for test hooks, predict for predict hooks, else fit.

    Every loop runs ``BATCHES`` batches; fit has no sanity check and logs every step (``kwargs``
    override these settings).
    """
    if "test" in hook:
        return target.test(module, **({"limit_test_batches": BATCHES} | kwargs))
    if "predict" in hook:
        return target.predict(module, **({"limit_predict_batches": BATCHES} | kwargs))
    settings = {"max_epochs": 1, "limit_train_batches": BATCHES, "limit_val_batches": BATCHES,
                "num_sanity_val_steps": 0, "log_every_n_steps": 1}
    return target.fit(module, **(settings | kwargs))


def training_step_logging(pl, log, **features):
    """A scenario module whose training_step calls ``log(self, batch_idx)`` before its loss."""

    def training_step(self, batch, batch_idx):
        log(self, batch_idx)
        return self.layer(batch).sum()

    overrides = {"training_step": training_step, **features.pop("overrides", {})}
    return _models.build_module(pl, overrides=overrides, **features)


def train_logging(target, module, **kwargs):
    """Fit ``module`` for one epoch of 2 batches without validation (``kwargs`` override)."""
    settings = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0}
    return target.fit(module, **(settings | kwargs))
