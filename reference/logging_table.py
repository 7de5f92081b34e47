"""Where ``self.log`` may be called, and its default ``on_step``/``on_epoch`` in each hook.

The table is Lightning 2.6's ``_FxValidator.functions`` as data: a row is either ``None`` (logging
is forbidden in that hook) or the allowed and default levels. Callbacks log through
``pl_module.log`` and their hooks share the module's rows, because the current hook name is the
same.
"""

from dataclasses import dataclass

from .errors import MisconfigurationException, clause_message

__all__ = ["LOGGING_TABLE", "LogLevels", "check_logging", "logging_levels"]


@dataclass(frozen=True)
class LogLevels:
    """The ``on_step``/``on_epoch`` values a hook allows, and those it uses when given None."""

    allowed_on_step: tuple
    allowed_on_epoch: tuple
    default_on_step: bool
    default_on_epoch: bool


# training batch hooks: per step by default, either level allowed
_TRAIN_STEP = LogLevels((False, True), (False, True), True, False)
# evaluation batch hooks: per epoch by default, either level allowed
_EVAL_STEP = LogLevels((False, True), (False, True), False, True)
# loop and epoch hooks: per epoch only
_EPOCH = LogLevels((False,), (True,), False, True)

_TRAIN_STEP_HOOKS = (
    "training_step", "on_train_batch_start", "on_train_batch_end", "on_before_backward",
    "backward", "on_after_backward", "on_before_optimizer_step", "optimizer_step",
    "configure_gradient_clipping", "clip_gradients", "on_before_zero_grad", "optimizer_zero_grad",
)  # fmt: skip
_EVAL_STEP_HOOKS = (
    "validation_step", "test_step", "on_validation_batch_start", "on_validation_batch_end",
    "on_test_batch_start", "on_test_batch_end",
)  # fmt: skip
_EPOCH_HOOKS = (
    "on_train_start", "on_train_epoch_start", "on_train_epoch_end", "on_validation_start",
    "on_validation_epoch_start", "on_validation_epoch_end", "on_test_start",
    "on_test_epoch_start", "on_test_epoch_end",
)  # fmt: skip
_FORBIDDEN_HOOKS = (
    "lr_scheduler_step", "on_fit_start", "on_fit_end", "on_sanity_check_start",
    "on_sanity_check_end", "on_train_end", "on_validation_end", "on_test_end", "on_predict_start",
    "on_predict_end", "on_predict_epoch_start", "on_predict_epoch_end", "on_predict_batch_start",
    "on_predict_batch_end", "on_before_batch_transfer", "transfer_batch_to_device",
    "on_after_batch_transfer", "on_exception", "state_dict", "on_save_checkpoint",
    "on_load_checkpoint", "load_state_dict", "setup", "teardown", "configure_sharded_model",
    "configure_model", "predict_step", "configure_optimizers", "train_dataloader",
    "val_dataloader", "test_dataloader", "prepare_data", "configure_callbacks",
    "on_validation_model_zero_grad", "on_validation_model_eval", "on_test_model_eval",
    "on_validation_model_train", "on_test_model_train",
)  # fmt: skip

LOGGING_TABLE = {
    **dict.fromkeys(_TRAIN_STEP_HOOKS, _TRAIN_STEP),
    **dict.fromkeys(_EVAL_STEP_HOOKS, _EVAL_STEP),
    **dict.fromkeys(_EPOCH_HOOKS, _EPOCH),
    **dict.fromkeys(_FORBIDDEN_HOOKS, None),
}


def check_logging(fx):
    """Raise unless ``self.log`` may be called inside the hook ``fx``."""
    if fx not in LOGGING_TABLE:
        raise RuntimeError(
            clause_message(
                "LOG-005",
                f"Logging inside `{fx}` is not implemented.",
                "Please, open an issue in `https://github.com/Lightning-AI/pytorch-lightning/issues`.",
            )
        )
    if LOGGING_TABLE[fx] is None:
        raise MisconfigurationException(
            clause_message(
                "LOG-005",
                f"You can't `self.log()` inside `{fx}`.",
                "HINT: You can still log directly to the logger by using `self.logger.experiment`.",
            )
        )


def logging_levels(fx, on_step, on_epoch):
    """The hook's defaults for the levels left as None, checked against what the hook allows."""
    check_logging(fx)
    row = LOGGING_TABLE[fx]
    on_step = row.default_on_step if on_step is None else on_step
    on_epoch = row.default_on_epoch if on_epoch is None else on_epoch
    for clause_id, level, value, allowed in (
        ("LOG-003", "on_step", on_step, row.allowed_on_step),
        ("LOG-004", "on_epoch", on_epoch, row.allowed_on_epoch),
    ):
        if value not in allowed:
            raise MisconfigurationException(
                clause_message(
                    clause_id,
                    f"You can't `self.log({level}={value})` inside `{fx}`,"
                    f" must be one of {allowed}.",
                    "Leave the level to the hook's default.",
                )
            )
    return on_step, on_epoch
