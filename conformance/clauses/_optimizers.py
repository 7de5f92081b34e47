"""Scenarios for the OPT clauses: modules whose ``configure_optimizers`` returns a given shape.

A scenario remembers the optimizers and schedulers it built (``module.built_optimizers``,
``module.built_schedulers``), so a clause can check that the Trainer holds those very
objects, and it can record the learning rate it sees in chosen hooks (``module.lrs``).
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau, StepLR

__all__ = [
    "DEFAULTS",
    "OPTIMIZER_SOURCE",
    "CustomScheduler",
    "StatelessScheduler",
    "custom",
    "fit",
    "lr_of",
    "optimizer_hook",
    "plateau",
    "record_lr",
    "returning",
    "settings",
    "sgd",
    "step_lr",
    "step_lr_config",
]

OPTIMIZER_SOURCE = "lightning/pytorch/core/optimizer.py"

# Lightning's LRSchedulerConfig defaults (lightning/pytorch/utilities/types.py)
DEFAULTS = {"name": None, "interval": "epoch", "frequency": 1, "reduce_on_plateau": False,
            "monitor": None, "strict": True}


def sgd(module, lr: float = 0.1):
    """An SGD optimizer on the module's layer, remembered in ``module.built_optimizers``."""
    optimizer = torch.optim.SGD(module.layer.parameters(), lr=lr)
    module.__dict__.setdefault("built_optimizers", []).append(optimizer)
    return optimizer


def _built(module, scheduler):
    module.__dict__.setdefault("built_schedulers", []).append(scheduler)
    return scheduler


def step_lr(module, optimizer, gamma: float = 0.1):
    """StepLR(step_size=1): each step multiplies the learning rate by ``gamma``."""
    return _built(module, StepLR(optimizer, step_size=1, gamma=gamma))


def plateau(module, optimizer):
    return _built(module, ReduceLROnPlateau(optimizer))


class StatelessScheduler:
    """Has an optimizer and a step, but no state_dict/load_state_dict."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self, *args):
        pass


class CustomScheduler(StatelessScheduler):
    """Stateful, but not a torch LRScheduler: Lightning needs an lr_scheduler_step override."""

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def custom(module, cls, optimizer):
    return _built(module, cls(optimizer))


def step_lr_config(**config):
    """A configure_optimizers: SGD and an "lr_scheduler" StepLR config dict with ``config``."""

    def make(self):
        optimizer = sgd(self)
        return {"optimizer": optimizer,
                "lr_scheduler": config | {"scheduler": step_lr(self, optimizer)}}

    return make


def returning(target, make, *, manual: bool = False, overrides=None):
    """A scenario module whose ``configure_optimizers`` returns ``make(self)``.

    Args:
        manual: turn automatic optimization off (several optimizers need it); training_step
            then only computes the loss.
        overrides: more methods for the module class.
    """
    methods = {"configure_optimizers": make, **(overrides or {})}
    if manual:
        methods = {"automatic_optimization": False,
                   "training_step": lambda self, batch, batch_idx: None} | methods
    return target.module(overrides=methods)


def lr_of(module) -> float:
    return module.trainer.optimizers[0].param_groups[0]["lr"]


def record_lr(hook: str):
    """A ``hook`` override that appends the first optimizer's learning rate to ``self.lrs``."""

    def record(self, *args, **kwargs):
        self.__dict__.setdefault("lrs", []).append(lr_of(self))

    record.__name__ = hook
    return {hook: record}


def optimizer_hook(contract, hook):
    """``hook(self, first, *rest)`` (an optimizer hook such as lr_scheduler_step or
    on_before_optimizer_step) spelled the way the contract's Lightning calls it: before 2.0
    (change optimizer_idx_removed) an optimizer_idx came right after the first argument."""
    if contract.has("optimizer_idx_removed"):
        return hook

    def with_optimizer_idx(self, first, optimizer_idx, *rest):
        return hook(self, first, *rest)

    with_optimizer_idx.__name__ = hook.__name__
    return with_optimizer_idx


def settings(config) -> dict:
    """The scheduler config's settings (every field but the scheduler)."""
    return {field: getattr(config, field) for field in DEFAULTS}


def fit(target, module, **kwargs):
    """Fit without validation: 1 epoch of 2 batches unless told otherwise."""
    trainer_kwargs = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0} | kwargs
    return target.fit(module, **trainer_kwargs)
