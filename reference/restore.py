"""Restoring a run from a checkpoint: Lightning's ``_CheckpointConnector`` for one process.

``ckpt_path`` is resolved when the entry point starts ("best", "last" or a file), loaded after
``configure_model``, and restored in two steps, as in ``Trainer._run``:

    setup, configure_model
    restore_modules_and_callbacks: Module.on_load_checkpoint, module weights, datamodule state,
                                   Callback.on_load_checkpoint (all), Callback.load_state_dict
    configure_optimizers, on_fit_start
    restore_training_state:        the GradScaler; fit: loop progress, optimizer, scheduler states
"""

import copy
import os
import re
import warnings

from .errors import MisconfigurationException
from .migration import migrate_checkpoint
from .precision import load_precision_state
from .progress import restore_fit_progress
from .saving import load_checkpoint_file

__all__ = ["CheckpointConnector"]


class CheckpointConnector:
    """Which checkpoint a run restores, and the restoring itself."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.ckpt_path = None  # the checkpoint the last run restored (``trainer.ckpt_path``)
        self.user_managed = False  # set through the ``trainer.ckpt_path`` setter
        self._request = None
        self._loaded = None

    def set_user_path(self, path):
        self.ckpt_path, self.user_managed = path, bool(path)

    def request(self, fn, ckpt_path, weights_only, model_provided):
        """Note what the entry point asked for, before the model it runs is connected."""
        connected = self.trainer.lightning_module is not None
        self._request = (fn, ckpt_path, weights_only, model_provided, connected)

    def select(self):
        """Resolve the requested ``ckpt_path`` to a file (or None) for the run about to start."""
        fn, ckpt_path, weights_only, model_provided, connected = self._request
        if self.user_managed:
            if ckpt_path:
                warnings.warn(
                    f"`trainer.ckpt_path = {self.ckpt_path!r}` was called but then you passed"
                    f" `trainer.fit(ckpt_path={ckpt_path!r})`. The latter will be loaded.",
                    stacklevel=3,
                )
                self.user_managed = False
            else:
                ckpt_path = self.ckpt_path
        path = self._parse(fn, ckpt_path, model_provided, connected)
        self._request = (path, weights_only)

    def _parse(self, fn, ckpt_path, model_provided, connected):
        if model_provided and ckpt_path is None:
            return None  # the given model's own weights
        if connected and ckpt_path is None:
            ckpt_path = "best"
            warnings.warn(
                f"`.{fn}(ckpt_path=None)` was called without a model. The best model of the"
                f" previous `fit` call will be used. You can pass `.{fn}(ckpt_path='best')` to use"
                f" the best model or `.{fn}(ckpt_path='last')` to use the last model. If you pass"
                " a value, this warning will be silenced.",
                stacklevel=4,
            )
        if ckpt_path == "best":
            return self._best(fn)
        if ckpt_path == "last":
            return self._last(fn)
        return os.fspath(ckpt_path)

    def _best(self, fn):
        callback = self.trainer.checkpoint_callback
        if callback is None:
            raise ValueError(
                f'`.{fn}(ckpt_path="best")` is set but `ModelCheckpoint` is not configured.'
            )
        if not getattr(callback, "best_model_path", None):
            raise ValueError(
                f'`.{fn}(ckpt_path="best")` is set but `ModelCheckpoint` is not configured to save'
                " the best model."
            )
        return callback.best_model_path

    def _last(self, fn):
        candidates = set()
        for callback in self.trainer.checkpoint_callbacks:
            candidates |= _last_checkpoints(callback, self.trainer)
        if not candidates:
            # not an error, so that "last" can be set before the first run
            warnings.warn(
                f'.{fn}(ckpt_path="last") is set, but there is no last checkpoint available. No'
                " checkpoint will be loaded. HINT: Set `ModelCheckpoint(..., save_last=True)`.",
                stacklevel=4,
            )
            return None
        return max(candidates, key=os.path.getmtime)

    # ---- restoring ----

    def restore_modules_and_callbacks(self):
        """Load the selected checkpoint; restore the module, the datamodule and the callbacks."""
        path, weights_only = self._request or (None, None)
        self._request, self.ckpt_path = None, path
        if not path:
            return
        checkpoint = load_checkpoint_file(path, lambda storage, loc: storage, weights_only)
        self._loaded = migrate_checkpoint(checkpoint)  # a 1.9 file gets the 2.x loop layout
        trainer, checkpoint = self.trainer, self._loaded
        module = trainer.lightning_module
        trainer._call_module("on_load_checkpoint", checkpoint)
        module.load_state_dict(checkpoint["state_dict"], strict=module.strict_loading)
        datamodule = trainer.datamodule
        if datamodule is not None and type(datamodule).__qualname__ in checkpoint:
            trainer._call_datamodule("load_state_dict", checkpoint[type(datamodule).__qualname__])
        self._restore_callbacks(checkpoint)

    def _restore_callbacks(self, checkpoint):
        trainer = self.trainer
        states = checkpoint.get("callbacks")
        if states is None:
            return
        missing = states.keys() - {callback.state_key for callback in trainer.callbacks}
        if missing:
            warnings.warn(
                "Be aware that when using `ckpt_path`, callbacks used to create the checkpoint need"
                " to be provided during `Trainer` instantiation. Please add the following"
                f" callbacks: {list(missing)}.",
                stacklevel=5,
            )
        trainer._call_callbacks("on_load_checkpoint", checkpoint)
        for callback in trainer.callbacks:
            if callback.state_key in states:
                callback.load_state_dict(copy.deepcopy(states[callback.state_key]))

    def restore_training_state(self):
        """Restore the loop progress (fit only), then the optimizers and schedulers (fit only)."""
        checkpoint, self._loaded = self._loaded, None
        trainer = self.trainer
        if checkpoint:  # every stage restores the precision plugin (the GradScaler)
            load_precision_state(trainer.precision_plugin, checkpoint)
        if not checkpoint or trainer.state.fn != "fit":
            return  # validate/test/predict keep no fit progress
        if "loops" in checkpoint:
            automatic = trainer.lightning_module.automatic_optimization
            restore_fit_progress(trainer.fit_loop, checkpoint["loops"]["fit_loop"], automatic)
        if trainer.max_epochs not in (-1, None) and trainer.current_epoch > trainer.max_epochs:
            raise MisconfigurationException(
                f"You restored a checkpoint with current_epoch={trainer.current_epoch}, but you"
                f" have set Trainer(max_epochs={trainer.max_epochs})."
            )
        _restore_optimizers_and_schedulers(trainer, checkpoint)


def _restore_optimizers_and_schedulers(trainer, checkpoint):
    for what, key in (("optimizer", "optimizer_states"),
                      ("learning rate scheduler", "lr_schedulers")):  # fmt: skip
        if key not in checkpoint:
            raise KeyError(
                f"Trying to restore {what} state but checkpoint contains only the model. This is"
                " probably due to `ModelCheckpoint.save_weights_only` being set to `True`."
            )
    for optimizer, state in zip(trainer.optimizers, checkpoint["optimizer_states"], strict=False):
        optimizer.load_state_dict(state)
    schedulers = [config.scheduler for config in trainer.lr_scheduler_configs]
    for scheduler, state in zip(schedulers, checkpoint["lr_schedulers"], strict=False):
        scheduler.load_state_dict(state)


def _last_checkpoints(callback, trainer):
    """``last.ckpt``, ``last-v1.ckpt``... in the callback's directory (Lightning's pattern)."""
    directory = callback.dirpath or os.path.join(trainer.default_root_dir, "checkpoints")
    name = getattr(callback, "CHECKPOINT_NAME_LAST", "last")
    extension = getattr(callback, "FILE_EXTENSION", ".ckpt")
    if not os.path.isdir(directory):
        return set()
    pattern = re.compile(rf"^{name}(-(\d+))?")
    return {
        os.path.normpath(os.path.join(directory, entry))
        for entry in os.listdir(directory)
        if entry.endswith(extension) and pattern.match(entry[: -len(extension)])
    }
