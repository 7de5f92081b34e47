"""Read-only views of the Trainer's state, named and meant as in ``lightning.pytorch``."""

import os
from dataclasses import dataclass
from functools import partial

import torch

from .callbacks import Checkpoint
from .data import is_overridden
from .distributed import Strategy
from .module import LightningModule
from .optimization import optimizer_step_with_hooks
from .optimizers import LightningOptimizer

__all__ = ["SingleDeviceStrategy", "TrainerProperties", "TrainerState"]


@dataclass
class TrainerState:
    """Which entry point runs (``fn``: "fit", "validate", ...) and which loop (``stage``)."""

    fn: str | None = None
    stage: str | None = None  # "train", "sanity_check", "validate", "test", "predict" or None
    status: str = "initializing"  # then "running", "finished" or "interrupted"


class SingleDeviceStrategy(Strategy):
    """The only placement the reference supports: one process, one device."""

    root_device = torch.device("cpu")  # cuda:0 with accelerator="cuda" (see precision.connect)
    precision_plugin = None  # set by precision.connect
    is_global_zero = True
    world_size = 1
    global_rank = local_rank = node_rank = 0

    def __init__(self):
        self.lightning_module = None


def _stage_flag(stage):
    """A property that says whether ``stage`` runs; setting it True enters it, False leaves it."""

    def getter(self):
        return self.state.stage == stage

    def setter(self, value):
        if value:
            self.state.stage = stage
        elif self.state.stage == stage:
            self.state.stage = None

    return property(getter, setter)


class TrainerProperties:
    """Properties mixed into ``Trainer``."""

    training = _stage_flag("train")
    sanity_checking = _stage_flag("sanity_check")
    validating = _stage_flag("validate")
    testing = _stage_flag("test")
    predicting = _stage_flag("predict")

    @property
    def evaluating(self):
        return self.state.stage in ("validate", "test", "sanity_check")

    @property
    def interrupted(self):
        return self.state.status == "interrupted"

    # ---- progress ----

    @property
    def current_epoch(self):
        """Completed epochs; it moves after the on_train_epoch_end hooks."""
        return self.fit_loop.epochs_completed

    @property
    def global_step(self):
        """Optimizer steps taken (not batches: accumulation windows count once)."""
        return self.fit_loop.optimizer_steps

    @property
    def max_epochs(self):
        return self.fit_loop.max_epochs

    @property
    def min_epochs(self):
        return self.fit_loop.min_epochs

    @property
    def max_steps(self):
        return self.fit_loop.max_steps

    @property
    def min_steps(self):
        return self.fit_loop.min_steps

    @property
    def is_last_batch(self):
        return self.fit_loop.is_last_batch

    @property
    def num_training_batches(self):
        return self.fit_loop.max_batches

    @property
    def num_sanity_val_batches(self):
        return [
            min(self.num_sanity_val_steps, batches)
            for batches in self.fit_loop.val_loop.max_batches
        ]

    @property
    def num_val_batches(self):
        if self.state.fn == "validate":
            return self.validate_loop.max_batches
        return self.fit_loop.val_loop._max_batches  # not capped by the sanity check

    @property
    def num_test_batches(self):
        return self.test_loop.max_batches

    @property
    def num_predict_batches(self):
        return self.predict_loop.max_batches

    @property
    def enable_validation(self):
        """Whether fit validates: val data, an overridden validation_step, limit_val_batches > 0."""
        module = self.lightning_module
        return (
            self.fit_loop.val_loop.source.is_defined()
            and is_overridden("validation_step", module, LightningModule)
            and self.limit_val_batches > 0
        )

    # ---- model, optimizers, callbacks ----

    @property
    def lightning_module(self):
        return self.strategy.lightning_module

    @property
    def model(self):
        """The module being run: during a DDP fit its DistributedDataParallel wrapper."""
        return self.strategy.model

    @property
    def optimizers(self):
        return self._optimizers

    @optimizers.setter
    def optimizers(self, optimizers):
        self._optimizers = optimizers
        # the module's optimizers() and its optimizer_step hook get wrappers whose step() runs the
        # hooks
        step_fn = partial(optimizer_step_with_hooks, self)
        self._lightning_optimizers = [
            optimizer
            if isinstance(optimizer, LightningOptimizer)
            else LightningOptimizer(optimizer, step_fn)
            for optimizer in optimizers
        ]

    @property
    def lr_scheduler_configs(self):
        return self._lr_scheduler_configs

    @property
    def checkpoint_callbacks(self):
        return [callback for callback in self.callbacks if isinstance(callback, Checkpoint)]

    @property
    def checkpoint_callback(self):
        callbacks = self.checkpoint_callbacks
        return callbacks[0] if callbacks else None

    # ---- data ----

    @property
    def train_dataloader(self):
        return self.fit_loop.loader

    @property
    def val_dataloaders(self):
        """What the val dataloader source gave, as given (one loader or a collection)."""
        if self.fit_loop.val_loop.loaders is not None:
            return self.fit_loop.val_loop.dataloaders
        return self.validate_loop.dataloaders

    @property
    def test_dataloaders(self):
        return self.test_loop.dataloaders

    @property
    def predict_dataloaders(self):
        return self.predict_loop.dataloaders

    # ---- placement and output ----

    @property
    def global_rank(self):
        return self.strategy.global_rank

    @property
    def local_rank(self):
        return self.strategy.local_rank

    @property
    def node_rank(self):
        return self.strategy.node_rank

    @property
    def world_size(self):
        return self.strategy.world_size

    @property
    def num_nodes(self):
        return self.strategy.num_nodes

    @property
    def num_devices(self):
        return len(self.device_ids)

    @property
    def device_ids(self):
        """The devices of this node, by index (DDP: one process per device)."""
        return list(range(self.strategy.num_processes))

    @property
    def is_global_zero(self):
        return self.strategy.is_global_zero

    @property
    def precision_plugin(self):
        return self.strategy.precision_plugin

    @property
    def precision(self):
        return self.precision_plugin.precision

    @property
    def scaler(self):
        """The GradScaler of "16-mixed" on CUDA, else None."""
        return self.precision_plugin.scaler

    @property
    def default_root_dir(self):
        return os.path.normpath(os.path.expanduser(self._default_root_dir))

    @property
    def log_dir(self):
        """The first logger's ``save_dir`` (may be None), else the default root dir."""
        # Note: for its TensorBoard and CSV loggers Lightning returns their `log_dir`; the
        # reference has neither.
        return self.loggers[0].save_dir if self.loggers else self.default_root_dir

    @property
    def ckpt_path(self):
        """The checkpoint the last run restored, or the one set here for the next run."""
        return self._checkpoint_connector.ckpt_path

    @ckpt_path.setter
    def ckpt_path(self, path):
        self._checkpoint_connector.set_user_path(path)
