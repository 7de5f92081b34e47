"""LightningModule: an ``nn.Module`` with the hooks and helpers of Lightning 2.6's."""

import warnings

import torch

from . import manual
from .distributed import gather_all
from .errors import MisconfigurationException
from .hooks import CheckpointHooks, DataHooks, ModelHooks
from .hparams import HyperparametersMixin
from .module_logging import ModuleLogging
from .optimizers import LightningOptimizer
from .saving import ModelIO

__all__ = ["LightningModule"]

_CLIP_ALGORITHMS = ("value", "norm")


class LightningModule(
    ModuleLogging, ModelIO, HyperparametersMixin, ModelHooks, DataHooks, CheckpointHooks,
    torch.nn.Module,
):
    """Organises a model's training, evaluation and prediction code into hooks the Trainer calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._trainer = None
        self._example_input_array = None
        self._automatic_optimization = True
        self._param_requires_grad_state = {}  # set by toggle_optimizer

    # ---- connection to the Trainer ----

    @property
    def trainer(self):
        if self._trainer is None:
            raise RuntimeError(f"{self.__class__.__qualname__} is not attached to a `Trainer`.")
        return self._trainer

    @trainer.setter
    def trainer(self, trainer):
        # nested LightningModules see the same Trainer, as in Lightning
        for child in self.children():
            if isinstance(child, LightningModule):
                child.trainer = trainer
        self._trainer = trainer

    def __getstate__(self):
        # pickling or deep-copying a module must not take the Trainer along, as in Lightning
        state = dict(self.__dict__)
        state["_trainer"] = None
        return state

    @property
    def current_epoch(self):
        """The Trainer's current epoch, or 0 when not attached."""
        return self.trainer.current_epoch if self._trainer else 0

    @property
    def global_step(self):
        """Optimizer steps taken so far, or 0 when not attached."""
        return self.trainer.global_step if self._trainer else 0

    @property
    def global_rank(self):
        return self.trainer.global_rank if self._trainer else 0

    @property
    def local_rank(self):
        return self.trainer.local_rank if self._trainer else 0

    @property
    def device(self):
        """The device of the module's first parameter or buffer (CPU when it has none)."""
        # Note: Lightning tracks the device in a mixin that overrides `.to()`; the reference reads
        # the tensors.
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    @property
    def example_input_array(self):
        """An example input for ``forward``: a Tensor, a tuple of args or a dict of kwargs."""
        return self._example_input_array

    @example_input_array.setter
    def example_input_array(self, example):
        self._example_input_array = example

    @property
    def automatic_optimization(self):
        """If False, ``training_step`` is responsible for backward, step and zero_grad."""
        return self._automatic_optimization

    @automatic_optimization.setter
    def automatic_optimization(self, automatic_optimization):
        self._automatic_optimization = automatic_optimization

    def optimizers(self, use_pl_optimizer=True):
        """The optimizer(s) from ``configure_optimizers``: one, or a list when there are several."""
        opts = self.trainer._lightning_optimizers if use_pl_optimizer else self.trainer.optimizers
        single = isinstance(opts, list) and len(opts) == 1
        if single and isinstance(opts[0], (torch.optim.Optimizer, LightningOptimizer)):
            return opts[0]
        return opts

    def lr_schedulers(self):
        """The scheduler(s) from ``configure_optimizers``: None, a single one, or a list."""
        if not self.trainer.lr_scheduler_configs:
            return None
        schedulers = [config.scheduler for config in self.trainer.lr_scheduler_configs]
        return schedulers[0] if len(schedulers) == 1 else schedulers

    def all_gather(self, data, group=None, sync_grads=False):
        """Every process's tensors (numbers become tensors), in any collection, each stacked as
        (world_size, *shape) in rank order; with one process they come back unchanged."""
        return gather_all(self.trainer.strategy, data, self.device, group, sync_grads)

    # ---- steps ----

    def forward(self, *args, **kwargs):
        """Same as ``torch.nn.Module.forward`` (which raises until overridden)."""
        return super().forward(*args, **kwargs)

    def training_step(self, *args, **kwargs):
        """Compute the training loss: a Tensor, a dict with a "loss" key, or None to skip."""
        warnings.warn(
            "`training_step` must be implemented to be used with the Lightning Trainer",
            stacklevel=2,
        )

    def validation_step(self, *args, **kwargs):
        """Operate on a single batch of validation data."""

    def test_step(self, *args, **kwargs):
        """Operate on a single batch of test data."""

    def predict_step(self, *args, **kwargs):
        """Return the prediction for a batch; calls ``self(batch)`` by default."""
        batch = kwargs.get("batch", args[0])
        return self(batch)

    def configure_callbacks(self):
        """Callbacks to add to the Trainer's; they replace the Trainer's callbacks of their type."""
        return []

    def configure_optimizers(self):
        """Return the optimizer(s) and scheduler(s) in a format ``parse_optimizers`` accepts."""
        warnings.warn(
            "`configure_optimizers` must be implemented to be used with the Lightning Trainer",
            stacklevel=2,
        )

    # ---- manual optimization (see manual.py) ----

    def manual_backward(self, loss, *args, **kwargs):
        """Back-propagate ``loss`` from a manual ``training_step``, with the backward hooks."""
        manual.require_manual_optimization(self, "manual_backward")
        manual.backward_with_hooks(self.trainer, loss, *args, **kwargs)

    def toggle_optimizer(self, optimizer):
        """Only ``optimizer``'s parameters keep requiring gradients; the others are frozen."""
        optimizers = self.trainer.optimizers
        self._param_requires_grad_state = manual.toggle_optimizer(optimizers, optimizer)

    def untoggle_optimizer(self, optimizer):
        """Undo ``toggle_optimizer(optimizer)``: restore the other parameters' flags."""
        state = self._param_requires_grad_state
        manual.untoggle_optimizer(self.trainer.optimizers, optimizer, state)
        self._param_requires_grad_state = {}

    def toggled_optimizer(self, optimizer):
        """A context manager: ``toggle_optimizer`` on entry, ``untoggle_optimizer`` on exit."""
        return manual.toggled_optimizer(self, optimizer)

    # ---- optimization hooks ----

    def backward(self, loss, *args, **kwargs):
        """Compute the gradients of ``loss``."""
        loss.backward(*args, **kwargs)

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        """Step the optimizer; ``optimizer_closure`` runs training_step, zero_grad and backward."""
        optimizer.step(closure=optimizer_closure)

    def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
        """Zero the gradients of the parameters of ``optimizer``."""
        optimizer.zero_grad()

    def lr_scheduler_step(self, scheduler, metric):
        """Step ``scheduler``, passing ``metric`` for schedulers that monitor one."""
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric)

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ):
        """Clip the gradients of ``optimizer``'s parameters; called once per optimizer step."""
        self.clip_gradients(
            optimizer,
            gradient_clip_val=gradient_clip_val,
            gradient_clip_algorithm=gradient_clip_algorithm,
        )

    def clip_gradients(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        """Clip gradients by norm (default) or value; arguments must agree with the Trainer's."""
        clip_val, algorithm = self._resolve_clipping(gradient_clip_val, gradient_clip_algorithm)
        if clip_val <= 0:
            return
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if algorithm == "value":
            torch.nn.utils.clip_grad_value_(parameters, clip_value=clip_val)
        else:
            torch.nn.utils.clip_grad_norm_(parameters, clip_val)

    def _resolve_clipping(self, clip_val, algorithm):
        """Fill in the Trainer's clipping settings and reject values that conflict with them."""
        trainer_val = self.trainer.gradient_clip_val
        trainer_algorithm = self.trainer.gradient_clip_algorithm
        if clip_val is None:
            clip_val = trainer_val or 0.0
        elif trainer_val is not None and trainer_val != clip_val:
            raise MisconfigurationException(
                f"You have set `Trainer(gradient_clip_val={trainer_val!r})` and have passed"
                f" `clip_gradients(gradient_clip_val={clip_val!r})`. Please use only one of them."
            )
        if algorithm is None:
            algorithm = trainer_algorithm or "norm"
        else:
            algorithm = algorithm.lower()
            if trainer_algorithm is not None and trainer_algorithm != algorithm:
                raise MisconfigurationException(
                    f"You have set `Trainer(gradient_clip_algorithm={trainer_algorithm!r})` and"
                    f" have passed `clip_gradients(gradient_clip_algorithm={algorithm!r}) Please"
                    " use only one of them."
                )
        if not isinstance(clip_val, (int, float)):
            raise TypeError(f"`gradient_clip_val` should be an int or a float. Got {clip_val}.")
        if algorithm not in _CLIP_ALGORITHMS:
            raise MisconfigurationException(
                f"`gradient_clip_algorithm` {algorithm} is invalid. Allowed algorithms:"
                f" {list(_CLIP_ALGORITHMS)}."
            )
        return clip_val, algorithm
