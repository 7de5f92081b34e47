"""Built-in callbacks: ``Checkpoint`` and ``ModelCheckpoint`` (files: ``model_checkpoint.py``)."""

import os
import warnings

import torch

from .callback import Callback
from .errors import MisconfigurationException, unsupported
from .model_checkpoint import CheckpointFiles

__all__ = ["Callback", "Checkpoint", "ModelCheckpoint"]


class Checkpoint(Callback):
    """Base class of checkpointing callbacks: they run last and count as monitoring callbacks."""


class ModelCheckpoint(CheckpointFiles, Checkpoint):
    """Save ``epoch={e}-step={s}.ckpt`` files through ``trainer.save_checkpoint`` during fit.

    When: at the end of every ``every_n_epochs``-th training epoch (default 1; at the end of
    validation instead when validation does not run exactly once per epoch), or after every
    ``every_n_train_steps``-th optimizer step; never during the sanity check and never twice for
    the same global step; with ``save_last=True``, also when training ends if nothing was saved.
    Which files are kept (top-k, ``last.ckpt``): ``model_checkpoint.py``.
    """

    def __init__(
        self, dirpath=None, filename=None, monitor=None, verbose=False, save_last=None,
        save_top_k=1, save_on_exception=False, save_weights_only=False, mode="min",
        auto_insert_metric_name=True, every_n_train_steps=None, train_time_interval=None,
        every_n_epochs=None,
        save_on_train_epoch_end=None, enable_version_counter=True,
    ):  # fmt: skip
        super().__init__()
        # Note: time triggers, exception checkpoints and save_last="link" are a later issue;
        # only their "off" values are accepted.
        _reject_later_features(
            {"save_on_exception": save_on_exception, "train_time_interval": train_time_interval,
             "save_last='link'": save_last == "link"}
        )  # fmt: skip
        self.monitor, self.verbose, self.save_last = monitor, verbose, save_last
        self.save_top_k, self.save_on_exception = save_top_k, save_on_exception
        self.save_weights_only = save_weights_only
        self.auto_insert_metric_name, self.filename = auto_insert_metric_name, filename
        self.dirpath = os.path.realpath(os.path.expanduser(dirpath)) if dirpath else dirpath
        self._save_on_train_epoch_end = save_on_train_epoch_end
        self._enable_version_counter = enable_version_counter
        self._train_time_interval = None
        # no trigger given: save once per epoch; any trigger given: the others are off
        if every_n_train_steps is None and every_n_epochs is None:
            every_n_epochs, every_n_train_steps = 1, 0
        self._every_n_epochs = every_n_epochs or 0
        self._every_n_train_steps = every_n_train_steps or 0
        _check_values(monitor, save_top_k, mode, self._every_n_epochs, self._every_n_train_steps)
        self.mode = mode
        self._last_global_step_saved = 0  # nothing to save before the first optimizer step
        self._last_checkpoint_saved = ""  # the file this callback wrote last
        self.best_model_path, self.last_model_path, self.kth_best_model_path = "", "", ""
        self.best_model_score, self.current_score, self.best_k_models = None, None, {}
        self.kth_value = torch.tensor(torch.inf if mode == "min" else -torch.inf)

    @property
    def state_key(self):
        return self._generate_state_key(
            monitor=self.monitor,
            mode=self.mode,
            every_n_train_steps=self._every_n_train_steps,
            every_n_epochs=self._every_n_epochs,
            train_time_interval=self._train_time_interval,
        )

    @property
    def every_n_epochs(self):
        return self._every_n_epochs

    def setup(self, trainer, pl_module, stage):
        # Note: Lightning puts checkpoints under the first logger's directory
        # (<save_dir>/<name>/<version>/checkpoints); without loggers, as here, under the root dir.
        if self.dirpath is None:
            self.dirpath = os.path.join(trainer.default_root_dir, "checkpoints")
        self.dirpath = trainer.strategy.broadcast(self.dirpath)  # rank 0's, on every rank
        if (
            trainer.is_global_zero
            and stage == "fit"
            and self.save_top_k != 0
            and os.path.isdir(self.dirpath)
            and os.listdir(self.dirpath)
        ):
            warnings.warn(
                f"Checkpoint directory {self.dirpath} exists and is not empty.", stacklevel=2
            )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self._should_skip_saving(trainer):
            return
        if self._every_n_train_steps < 1 or trainer.global_step % self._every_n_train_steps:
            return
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def on_train_epoch_end(self, trainer, pl_module):
        if not self._should_skip_saving(trainer) and self._should_save_on_train_epoch_end(trainer):
            self._save_if_epoch_due(trainer)

    def on_train_end(self, trainer, pl_module):
        # save_last=True leaves last.ckpt even when no save was due during training
        if self.save_last and not self._last_checkpoint_saved:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer, pl_module):
        if not self._should_skip_saving(trainer) and not self._should_save_on_train_epoch_end(
            trainer
        ):
            self._save_if_epoch_due(trainer)

    def state_dict(self):
        return {
            "monitor": self.monitor,
            "best_model_score": self.best_model_score,
            "best_model_path": self.best_model_path,
            "current_score": self.current_score,
            "dirpath": self.dirpath,
            "best_k_models": self.best_k_models,
            "kth_best_model_path": self.kth_best_model_path,
            "kth_value": self.kth_value,
            "last_model_path": self.last_model_path,
        }

    def load_state_dict(self, state_dict):
        if self.dirpath == state_dict.get("dirpath", self.dirpath):
            self.best_model_score = state_dict["best_model_score"]
            self.kth_best_model_path = state_dict.get(
                "kth_best_model_path", self.kth_best_model_path
            )
            self.kth_value = state_dict.get("kth_value", self.kth_value)
            self.best_k_models = state_dict.get("best_k_models", self.best_k_models)
            self.last_model_path = state_dict.get("last_model_path", self.last_model_path)
        self.best_model_path = state_dict["best_model_path"]

    def _should_skip_saving(self, trainer):
        return (
            trainer.state.fn != "fit"
            or trainer.sanity_checking
            or self._last_global_step_saved == trainer.global_step  # already saved at this step
        )

    def _should_save_on_train_epoch_end(self, trainer):
        if self._save_on_train_epoch_end is not None:
            return self._save_on_train_epoch_end
        # when validation may not run every epoch, or runs several times per epoch, save after
        # validation
        if trainer.check_val_every_n_epoch != 1:
            return False
        if sum(trainer.num_val_batches) == 0:
            return True
        return trainer.val_check_interval == 1.0

    def _save_if_epoch_due(self, trainer):
        candidates = self._monitor_candidates(trainer)
        if self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0:
            self._save_topk_checkpoint(trainer, candidates)
        # last.ckpt follows a save made at this step (Lightning 2.6; before, every epoch end)
        if self._last_global_step_saved == trainer.global_step:
            self._save_last_checkpoint(trainer, candidates)


def _reject_later_features(arguments):
    for name, value in arguments.items():
        if value:
            why = "time triggers, exception checkpoints and links are a later issue"
            raise unsupported(f"`ModelCheckpoint({name}={value!r})`", why)


def _check_values(monitor, save_top_k, mode, every_n_epochs, every_n_train_steps):
    if save_top_k < -1:
        raise MisconfigurationException(f"Invalid value for save_top_k={save_top_k}. Must be >= -1")
    if every_n_train_steps < 0:
        raise MisconfigurationException(
            f"Invalid value for every_n_train_steps={every_n_train_steps}. Must be >= 0"
        )
    if every_n_epochs < 0:
        raise MisconfigurationException(
            f"Invalid value for every_n_epochs={every_n_epochs}. Must be >= 0"
        )
    if every_n_epochs >= 1 and every_n_train_steps >= 1:
        raise MisconfigurationException(
            f"Combination of parameters every_n_train_steps={every_n_train_steps}, every_n_epochs="
            f"{every_n_epochs} and train_time_interval=None should be mutually exclusive."
        )
    if monitor is None and save_top_k not in (-1, 0, 1):
        raise MisconfigurationException(
            f"ModelCheckpoint(save_top_k={save_top_k}, monitor=None) is not a valid configuration."
            " No quantity for top_k to track."
        )
    if mode not in ("min", "max"):
        raise MisconfigurationException(f"`mode` can be min, max but got {mode}")
