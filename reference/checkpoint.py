"""Writing checkpoints: Lightning's ``dump_checkpoint`` dictionary and the hooks that see it."""

import os
import tempfile

import torch

from .precision import precision_state
from .progress import loops_state

__all__ = ["CONTRACT_VERSION", "dump_checkpoint", "save_checkpoint"]

# Note: Lightning writes its own `__version__` here; the reference writes the version of the
# contract it implements, so that checkpoint migration code treats its checkpoints like Lightning
# 2.6.6 ones.
CONTRACT_VERSION = "2.6.6"


def dump_checkpoint(trainer, weights_only=None):
    """Build the checkpoint dictionary; callbacks and the module add to it in Lightning's order."""
    weights_only = bool(weights_only)
    module, datamodule = trainer.lightning_module, trainer.datamodule
    checkpoint = {
        "epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        "pytorch-lightning_version": CONTRACT_VERSION,
        "state_dict": module.state_dict(),
        "loops": loops_state(trainer),  # Lightning's progress format: see progress.py
    }
    if not weights_only:
        checkpoint.update(_training_state(trainer))  # calls every Callback.state_dict
    for owner, prefix in ((module, ""), (datamodule, "datamodule_")):
        checkpoint.update(_hyperparameters(owner, prefix))
    if datamodule is not None:
        datamodule_state = trainer._call_datamodule("state_dict")
        if datamodule_state:
            checkpoint[type(datamodule).__qualname__] = datamodule_state
    if not weights_only:
        for callback in trainer.callbacks:
            callback.on_save_checkpoint(trainer, module, checkpoint)
    trainer._call_module("on_save_checkpoint", checkpoint)
    return checkpoint


def _training_state(trainer):
    """What resuming needs besides the weights: callback, optimizer and scheduler states."""
    callbacks = trainer.callbacks
    return {
        # only callbacks with a non-empty state are saved
        "callbacks": {cb.state_key: state for cb in callbacks if (state := cb.state_dict())},
        "optimizer_states": [optimizer.state_dict() for optimizer in trainer.optimizers],
        "lr_schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
        **precision_state(trainer.precision_plugin),  # "16-mixed": the GradScaler's state
    }


def _hyperparameters(owner, prefix):
    """``hparams_name`` and ``hyper_parameters`` (``datamodule_``-prefixed for a datamodule)."""
    if owner is None or not owner.hparams:
        return {}
    entries = {f"{prefix}hyper_parameters": dict(owner.hparams)}
    if hasattr(owner, "_hparams_name"):
        entries = {f"{prefix}hparams_name": owner._hparams_name, **entries}
    return entries


def save_checkpoint(trainer, filepath, weights_only=None):
    """Dump a checkpoint on every rank; global rank 0 writes it; then every rank waits.

    Every rank must call it: the hooks that build the checkpoint run everywhere (DDP-028).
    """
    if trainer.model is None:
        raise AttributeError(
            "Saving a checkpoint is only possible if a model is attached to the Trainer. Did you"
            " call `Trainer.save_checkpoint()` before calling"
            " `Trainer.{fit,validate,test,predict}`?"
        )
    checkpoint = dump_checkpoint(trainer, weights_only)
    if trainer.strategy.is_global_zero:
        _write(checkpoint, filepath)
    trainer.strategy.barrier("Trainer.save_checkpoint")


def _write(checkpoint, filepath):
    """Write atomically: a temporary file in the same directory, then a rename."""
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, delete=False) as tmp:
        try:
            torch.save(checkpoint, tmp)
        except BaseException:
            os.remove(tmp.name)
            raise
    os.replace(tmp.name, filepath)
