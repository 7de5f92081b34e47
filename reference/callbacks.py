"""Built-in callbacks: ``Checkpoint`` and a ``ModelCheckpoint`` without metric monitoring."""

import os
import re
import warnings
from pathlib import Path

import torch

from .callback import Callback
from .errors import MisconfigurationException, unsupported

__all__ = ["Callback", "Checkpoint", "ModelCheckpoint"]


class Checkpoint(Callback):
    """Base class of checkpointing callbacks: they run last and count as monitoring callbacks."""


class ModelCheckpoint(Checkpoint):
    """Save ``epoch={e}-step={s}.ckpt`` files through ``trainer.save_checkpoint`` during fit.

    Saves at the end of each training epoch (or at the end of validation when validation does not
    run exactly
    once per epoch), never during the sanity check and never twice for the same global step. With
    ``save_top_k=1`` only the latest file is kept, ``-1`` keeps all and ``0`` saves nothing.
    """

    CHECKPOINT_JOIN_CHAR = "-"
    CHECKPOINT_EQUALS_CHAR = "="
    CHECKPOINT_NAME_LAST = "last"
    FILE_EXTENSION = ".ckpt"
    STARTING_VERSION = 1

    def __init__(
        self, dirpath=None, filename=None, monitor=None, verbose=False, save_last=None,
        save_top_k=1, save_on_exception=False, save_weights_only=False, mode="min",
        auto_insert_metric_name=True, every_n_train_steps=None, train_time_interval=None,
        every_n_epochs=None,
        save_on_train_epoch_end=None, enable_version_counter=True,
    ):  # fmt: skip
        super().__init__()
        # Note: metric monitoring, `save_last`, step/time triggers and exception checkpoints are a
        # later issue; only their "off" values are accepted.
        _reject_later_features(
            {"monitor": monitor, "save_last": save_last, "save_on_exception": save_on_exception,
             "every_n_train_steps": every_n_train_steps, "train_time_interval": train_time_interval}
        )  # fmt: skip
        _check_values(save_top_k, mode, every_n_epochs)
        self.monitor, self.verbose, self.save_last = monitor, verbose, save_last
        self.save_top_k, self.save_on_exception = save_top_k, save_on_exception
        self.save_weights_only, self.mode = save_weights_only, mode
        self.auto_insert_metric_name, self.filename = auto_insert_metric_name, filename
        self.dirpath = os.path.realpath(os.path.expanduser(dirpath)) if dirpath else dirpath
        self._save_on_train_epoch_end = save_on_train_epoch_end
        self._enable_version_counter = enable_version_counter
        self._every_n_train_steps, self._train_time_interval = 0, None
        self._every_n_epochs = 1 if every_n_epochs is None else every_n_epochs
        self._last_global_step_saved = 0  # nothing to save before the first optimizer step
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
        # Note: Lightning puts checkpoints under the first logger's directory; the reference has no
        # loggers.
        if self.dirpath is None:
            self.dirpath = os.path.join(trainer.default_root_dir, "checkpoints")
        if (
            stage == "fit"
            and self.save_top_k != 0
            and os.path.isdir(self.dirpath)
            and os.listdir(self.dirpath)
        ):
            warnings.warn(
                f"Checkpoint directory {self.dirpath} exists and is not empty.", stacklevel=2
            )

    def on_train_epoch_end(self, trainer, pl_module):
        if not self._should_skip_saving(trainer) and self._should_save_on_train_epoch_end(trainer):
            self._save_if_epoch_due(trainer)

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

    def format_checkpoint_name(self, metrics, filename=None, ver=None, prefix=None):
        """Fill the filename template (default ``"{epoch}-{step}"``) as ``epoch=0-step=2.ckpt``."""
        template = filename or self.filename or "{epoch}" + self.CHECKPOINT_JOIN_CHAR + "{step}"
        metrics = dict(metrics)
        # longest names first, so that "{epoch}" does not eat into "{epoch_x}"
        for group in sorted(re.findall(r"(\{.*?)[:\}]", template), key=len, reverse=True):
            name = group[1:]
            if self.auto_insert_metric_name:
                template = template.replace(group, name + self.CHECKPOINT_EQUALS_CHAR + "{" + name)
            template = template.replace(group, f"{{0[{name}]")
            metrics.setdefault(name, torch.tensor(0))
        name = template.format(metrics)
        if prefix is not None:
            name = self.CHECKPOINT_JOIN_CHAR.join([prefix, name])
        if ver is not None:
            name = self.CHECKPOINT_JOIN_CHAR.join((name, f"v{ver}"))
        name += self.FILE_EXTENSION
        return os.path.join(self.dirpath, name) if self.dirpath else name

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
        if self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0:
            self._save_topk_checkpoint(trainer)

    def _save_topk_checkpoint(self, trainer):
        if self.save_top_k == 0:
            return
        epoch, step = torch.tensor(trainer.current_epoch), torch.tensor(trainer.global_step)
        metrics = {"epoch": epoch, "step": step}
        filepath = self._unused_filepath(metrics, keep=self.best_model_path)
        # the new path is set before saving because it is part of the saved state
        previous, self.best_model_path = self.best_model_path, filepath
        trainer.save_checkpoint(filepath, self.save_weights_only)
        self._last_global_step_saved = trainer.global_step
        if self.save_top_k == 1 and previous and self._should_remove(previous, filepath):
            os.remove(previous)

    def _unused_filepath(self, metrics, keep):
        """The formatted path, with a ``-v1``, ``-v2``... suffix while the name is taken."""
        filepath = self.format_checkpoint_name(metrics)
        version = self.STARTING_VERSION
        while self._enable_version_counter and os.path.exists(filepath) and filepath != keep:
            filepath = self.format_checkpoint_name(metrics, ver=version)
            version += 1
        return filepath

    def _should_remove(self, previous, current):
        # only files this callback wrote into its own directory are deleted
        return (
            previous != current
            and Path(self.dirpath).absolute() in Path(previous).absolute().parents
        )


def _reject_later_features(arguments):
    for name, value in arguments.items():
        if value:
            why = "metrics and other triggers are a later issue"
            raise unsupported(f"`ModelCheckpoint({name}={value!r})`", why)


def _check_values(save_top_k, mode, every_n_epochs):
    if save_top_k < -1:
        raise MisconfigurationException(f"Invalid value for save_top_k={save_top_k}. Must be >= -1")
    if save_top_k not in (-1, 0, 1):
        raise MisconfigurationException(
            f"ModelCheckpoint(save_top_k={save_top_k}, monitor=None) is not a valid configuration."
            " No quantity for top_k to track."
        )
    if mode not in ("min", "max"):
        raise MisconfigurationException(f"`mode` can be min, max but got {mode}")
    if every_n_epochs is not None and every_n_epochs < 0:
        raise MisconfigurationException(
            f"Invalid value for every_n_epochs={every_n_epochs}. Must be >= 0"
        )
