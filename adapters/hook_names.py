"""The hook names the recorder watches on each kind of object, in Lightning 2.x spelling.

Names an object does not define are skipped, so one list serves every target and version.
``forward`` is left out on purpose: the trainer never calls it, the module's own steps do.
"""

__all__ = ["CALLBACK_HOOKS", "DATAMODULE_HOOKS", "MODULE_HOOKS"]

_SHARED_HOOKS = (
    "setup",
    "teardown",
    "on_fit_start",
    "on_fit_end",
    "on_sanity_check_start",
    "on_sanity_check_end",
    "on_train_start",
    "on_train_end",
    "on_train_epoch_start",
    "on_train_epoch_end",
    "on_train_batch_start",
    "on_train_batch_end",
    "on_validation_start",
    "on_validation_end",
    "on_validation_epoch_start",
    "on_validation_epoch_end",
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_test_start",
    "on_test_end",
    "on_test_epoch_start",
    "on_test_epoch_end",
    "on_test_batch_start",
    "on_test_batch_end",
    "on_predict_start",
    "on_predict_end",
    "on_predict_epoch_start",
    "on_predict_epoch_end",
    "on_predict_batch_start",
    "on_predict_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_save_checkpoint",
    "on_load_checkpoint",
)

MODULE_HOOKS = _SHARED_HOOKS + (
    "configure_callbacks",
    "configure_model",
    "configure_sharded_model",
    "configure_optimizers",
    "prepare_data",
    "train_dataloader",
    "val_dataloader",
    "test_dataloader",
    "predict_dataloader",
    "training_step",
    "validation_step",
    "test_step",
    "predict_step",
    "on_before_batch_transfer",
    "transfer_batch_to_device",
    "on_after_batch_transfer",
    "optimizer_step",
    "optimizer_zero_grad",
    "backward",
    "configure_gradient_clipping",
    "clip_gradients",
    "lr_scheduler_step",
    "on_validation_model_zero_grad",
    "on_validation_model_eval",
    "on_validation_model_train",
    "on_test_model_eval",
    "on_test_model_train",
    "on_predict_model_eval",
    "on_predict_model_train",
    "zero_grad",
    "train",
    # Lightning 1.9 only (change epoch_end_hooks_removed): 2.x refuses a module defining them.
    "training_epoch_end",
    "validation_epoch_end",
    "test_epoch_end",
)

CALLBACK_HOOKS = _SHARED_HOOKS + ("state_dict", "load_state_dict", "on_exception")

DATAMODULE_HOOKS = (
    "prepare_data",
    "setup",
    "teardown",
    "train_dataloader",
    "val_dataloader",
    "test_dataloader",
    "predict_dataloader",
    "state_dict",
    "load_state_dict",
    "on_exception",
)
