"""Checks at the start of every entry point, before any data or setup hook.

Lightning's ``trainer/configuration_validator.py``: legacy hooks, minimum definitions; plus the
module features outside the reference.
"""

import warnings

from .data import is_overridden, takes_param
from .errors import MisconfigurationException, clause_message, unsupported
from .manual import verify_manual_optimization
from .module import LightningModule

__all__ = ["verify_configuration"]

_MIGRATION = (
    "See https://github.com/Lightning-AI/pytorch-lightning/pull/16520 for migration examples."
)
_MINIMUM = (
    "Lightning `Trainer` expects as minimum a `training_step()`, `train_dataloader()` and"
    " `configure_optimizers()` to be defined"
)


def verify_configuration(trainer, model):
    """Raise for a module that cannot run the current entry point (``trainer.state.fn``)."""
    fn = trainer.state.fn
    if fn == "fit":
        _verify_fit(trainer, model)
    elif fn == "validate":
        _verify_evaluation(
            model, "validation_step", "validate", "HOOK-045", "validation_epoch_end", "HOOK-041"
        )
    elif fn == "test":
        _verify_evaluation(model, "test_step", "test", "HOOK-046", "test_epoch_end", "HOOK-042")
    else:
        _verify_predict(model)
    _verify_supported(model)


def _verify_fit(trainer, model):
    _require(
        model, "training_step", "HOOK-043", f"No `training_step()` method defined. {_MINIMUM}",
        "Define `training_step(self, batch, batch_idx)` returning the loss in your"
        " LightningModule.",
    )  # fmt: skip
    _require(
        model, "configure_optimizers", "HOOK-044",
        f"No `configure_optimizers()` method defined. {_MINIMUM}",
        "Define `configure_optimizers(self)` returning an optimizer in your LightningModule.",
    )  # fmt: skip
    _warn_about_validation(trainer, model)
    # both legacy epoch-end hooks are checked by fit, since fit runs validation too
    _reject_legacy_hook(model, "training_epoch_end", "on_train_epoch_end", "HOOK-040")
    _reject_legacy_hook(model, "validation_epoch_end", "on_validation_epoch_end", "HOOK-041")
    verify_manual_optimization(trainer, model)  # MAN-011, MAN-012


def _require(model, hook, clause_id, message, fix):
    if not is_overridden(hook, model, LightningModule):
        raise MisconfigurationException(clause_message(clause_id, message, fix))


def _warn_about_validation(trainer, model):
    has_val_loader = trainer.fit_loop.val_loop.source.is_defined()
    has_val_step = is_overridden("validation_step", model, LightningModule)
    if has_val_loader and not has_val_step:
        warnings.warn(
            "You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop.",
            stacklevel=2,
        )
    if has_val_step and not has_val_loader:
        warnings.warn(
            "You defined a `validation_step` but have no `val_dataloader`. Skipping val loop.",
            stacklevel=2,
        )


def _verify_evaluation(model, step_name, entry_point, step_clause, legacy_name, legacy_clause):
    _require(
        model, step_name, step_clause,
        f"No `{step_name}()` method defined to run `Trainer.{entry_point}`",
        f"Define `{step_name}(self, batch, batch_idx)` in your LightningModule.",
    )  # fmt: skip
    _reject_legacy_hook(model, legacy_name, f"on_{legacy_name}", legacy_clause)


def _reject_legacy_hook(model, name, replacement, clause_id):
    if callable(getattr(model, name, None)):
        raise NotImplementedError(
            clause_message(
                clause_id,
                f"Support for `{name}` has been removed in v2.0.0. `{type(model).__name__}`"
                " implements this method",
                f"Use the `{replacement}` hook instead and keep the step outputs you need as"
                f" instance attributes. {_MIGRATION}",
            )
        )


def _verify_predict(model):
    if model.predict_step is None:
        raise MisconfigurationException("`predict_step` cannot be None to run `Trainer.predict`")
    has_step = is_overridden("predict_step", model, LightningModule)
    if not has_step and not is_overridden("forward", model, LightningModule):
        raise MisconfigurationException("`Trainer.predict` requires `forward` method to run.")


def _verify_supported(model):
    if callable(getattr(model, "configure_sharded_model", None)):
        raise unsupported(
            "The deprecated `configure_sharded_model` hook", "override `configure_model` instead"
        )
    for name in ("training_step", "validation_step", "test_step", "predict_step"):
        step = getattr(model, name)
        if step is not None and takes_param(step, "dataloader_iter", explicit=True):
            raise unsupported(f"The `dataloader_iter` flavour of `{name}`", "it is a later issue")
