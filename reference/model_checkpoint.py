"""Which files a ``ModelCheckpoint`` writes and keeps: file names, the top-k, ``last.ckpt``.

``reference/callbacks.py`` decides *when* to save (epoch ends, validation ends, every n steps);
this mixin decides *what*:

- without ``monitor``, every save is a new file and ``save_top_k=1`` deletes the previous one;
- with ``monitor``, a file is written only while its score is among the ``save_top_k`` best
  (lowest for ``mode="min"``, highest for ``mode="max"``); the file that drops out is deleted,
  and ``best_model_path``/``best_model_score`` follow the best score;
- with ``save_last=True``, ``last.ckpt`` is rewritten after each save.
"""

import os
import re
import warnings
from pathlib import Path

import torch

from .errors import MisconfigurationException

__all__ = ["CheckpointFiles"]


class CheckpointFiles:
    """The saving half of ``ModelCheckpoint`` (mixed into it; it holds the state it reads)."""

    CHECKPOINT_JOIN_CHAR = "-"
    CHECKPOINT_EQUALS_CHAR = "="
    CHECKPOINT_NAME_LAST = "last"
    FILE_EXTENSION = ".ckpt"
    STARTING_VERSION = 1

    def _monitor_candidates(self, trainer):
        """The callback metrics, plus ``epoch`` and ``step`` as integer tensors."""
        candidates = dict(trainer.callback_metrics)
        epoch, step = candidates.get("epoch"), candidates.get("step")
        candidates["epoch"] = (
            epoch.int() if isinstance(epoch, torch.Tensor) else torch.tensor(trainer.current_epoch)
        )
        candidates["step"] = (
            step.int() if isinstance(step, torch.Tensor) else torch.tensor(trainer.global_step)
        )
        return candidates

    def _save_topk_checkpoint(self, trainer, candidates):
        if self.save_top_k == 0:
            return
        if self.monitor is None:
            self._save_none_monitor_checkpoint(trainer, candidates)
            return
        if self.monitor not in candidates:
            message = (
                f"`ModelCheckpoint(monitor={self.monitor!r})` could not find the monitored key in"
                f" the returned metrics: {list(candidates)}."
                f" HINT: Did you call `log({self.monitor!r}, value)` in the `LightningModule`?"
            )
            # before the first validation a validation metric cannot exist yet: only warn then
            if trainer.fit_loop.val_loop.has_run:
                raise MisconfigurationException(message)
            warnings.warn(message, stacklevel=2)
        self._save_monitor_checkpoint(trainer, candidates)

    def _save_none_monitor_checkpoint(self, trainer, candidates):
        filepath = self._unused_filepath(trainer, candidates, keep=self.best_model_path)
        # the new path is set before saving because it is part of the saved state
        previous, self.best_model_path = self.best_model_path, filepath
        self._save_checkpoint(trainer, filepath)
        if self.save_top_k == 1 and previous and self._should_remove(previous, filepath):
            self._remove_checkpoint(trainer, previous)

    def _save_monitor_checkpoint(self, trainer, candidates):
        current = candidates.get(self.monitor)
        if self.check_monitor_top_k(trainer, current):
            self._update_best_and_save(current, trainer, candidates)

    def check_monitor_top_k(self, trainer, current=None):
        """Whether ``current`` earns a place among the best ``save_top_k`` scores."""
        if current is None:
            return False
        if self.save_top_k == -1 or len(self.best_k_models) < self.save_top_k:
            return True
        better = torch.lt if self.mode == "min" else torch.gt
        return bool(better(current, self.best_k_models[self.kth_best_model_path]))

    def _update_best_and_save(self, current, trainer, candidates):
        k = len(self.best_k_models) + 1 if self.save_top_k == -1 else self.save_top_k
        dropped = None
        if len(self.best_k_models) == k and k > 0:
            dropped = self.kth_best_model_path  # the worst of the kept files makes room
            self.best_k_models.pop(dropped)
        if isinstance(current, torch.Tensor) and torch.isnan(current):
            current = torch.tensor(float("inf" if self.mode == "min" else "-inf"))
        filepath = self._unused_filepath(trainer, candidates, keep=dropped)
        self.current_score = current
        self.best_k_models[filepath] = current
        worst, best = (max, min) if self.mode == "min" else (min, max)
        if len(self.best_k_models) == k:
            self.kth_best_model_path = worst(self.best_k_models, key=self.best_k_models.get)
            self.kth_value = self.best_k_models[self.kth_best_model_path]
        self.best_model_path = best(self.best_k_models, key=self.best_k_models.get)
        self.best_model_score = self.best_k_models[self.best_model_path]
        self._save_checkpoint(trainer, filepath)
        if dropped and self._should_remove(dropped, filepath):
            self._remove_checkpoint(trainer, dropped)

    def _save_last_checkpoint(self, trainer, candidates):
        """Rewrite ``last.ckpt`` (``save_last=True``); the previous last file is deleted."""
        if not self.save_last:
            return
        filepath = self._unused_filepath(
            trainer, candidates, keep=self.last_model_path, filename=self.CHECKPOINT_NAME_LAST
        )
        previous, self.last_model_path = self.last_model_path, filepath
        self._save_checkpoint(trainer, filepath)
        if previous and self._should_remove(previous, filepath):
            self._remove_checkpoint(trainer, previous)

    def _save_checkpoint(self, trainer, filepath):
        trainer.save_checkpoint(filepath, self.save_weights_only)
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath

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

    def _unused_filepath(self, trainer, metrics, keep, filename=None):
        """The formatted path, with a ``-v1``, ``-v2``... suffix while the name is taken."""
        filepath = self.format_checkpoint_name(metrics, filename)
        version = self.STARTING_VERSION
        exists = self._file_exists
        while self._enable_version_counter and exists(trainer, filepath) and filepath != keep:
            filepath = self.format_checkpoint_name(metrics, filename, ver=version)
            version += 1
        return filepath

    @staticmethod
    def _file_exists(trainer, filepath):
        # as global rank 0 sees it: it writes the files, and every rank must pick the same name
        return trainer.strategy.broadcast(os.path.exists(filepath))

    @staticmethod
    def _remove_checkpoint(trainer, filepath):
        # a file the callback remembers may be gone (deleted by hand, or before a resume): as in
        # Lightning's CheckpointIO.remove_checkpoint, only an existing file is removed (CKPT-052)
        if trainer.strategy.is_global_zero and os.path.exists(filepath):  # rank 0 wrote it
            os.remove(filepath)

    def _should_remove(self, previous, current):
        # only files this callback wrote into its own directory are deleted
        return (
            previous != current
            and Path(self.dirpath).absolute() in Path(previous).absolute().parents
        )
