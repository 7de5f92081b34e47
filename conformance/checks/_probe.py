"""The callback that watches a check run: losses, gradients, optimizer steps, modes, epochs.

It only reads the module (and reseeds the global generators at each epoch start, so that a
resumed run and an uninterrupted one draw the same random numbers); it never changes it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch

from lightning_conformance.checks._state import modes, reseed, snapshot, trainable

__all__ = ["Record", "probe", "reseed_after"]


@dataclass
class Record:
    """What one run showed. Names are parameter or submodule names of the module."""

    losses: list = field(default_factory=list)  # float per backward, in call order
    loss_problems: list = field(default_factory=list)  # "batch 0: not a scalar (shape ...)"
    nonzero_grad: set = field(default_factory=set)  # parameters with a nonzero gradient
    backward_calls: int = 0
    with_grad: set = field(default_factory=set)  # trainable parameters that got a gradient
    stepped: list = field(default_factory=list)  # optimizers that were stepped, by identity
    train_batches: int = 0
    first_modes: dict = field(default_factory=dict)  # submodule modes at the first train batch
    mode_changes: dict = field(default_factory=dict)  # name -> (first, later) after validation
    epoch_ends: list = field(default_factory=list)  # snapshot at each on_train_epoch_end


def _loss_problem(loss) -> str:
    if not isinstance(loss, torch.Tensor):
        return f"is a {type(loss).__name__}, not a tensor"
    if loss.numel() != 1:
        return f"is not a scalar (shape {tuple(loss.shape)})"
    if not torch.isfinite(loss.detach()).all():
        return f"is not finite ({loss.item()})"
    if not loss.requires_grad:
        return "does not require grad (computed without autograd or detached)"
    return ""


def probe(pl, seed: int, stop_after_epoch: int | None = None, first_epoch: int = 0):
    """A new callback instance of the target's ``Callback`` class, with its ``Record``.

    ``stop_after_epoch`` ends fit after that epoch (``trainer.should_stop``), so that the first
    half of a resumed run has the same Trainer settings as the uninterrupted run.
    ``first_epoch`` is the epoch the run starts at (1 when it resumes after epoch 0).
    """
    record = Record()

    # Every epoch starts from the generator state seed + epoch, taken right before its
    # DataLoader iterator draws its shuffling seed. Lightning creates the first epoch's
    # iterator after on_fit_start and before on_train_epoch_start, later ones after it.
    def on_fit_start(self, trainer, pl_module):
        reseed(seed + first_epoch)

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch > first_epoch:
            reseed(seed + trainer.current_epoch)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx, *args):
        record.train_batches += 1
        current = modes(pl_module)
        if not record.first_modes:
            record.first_modes.update(current)
        for name, first in record.first_modes.items():
            if name in current and current[name] != first:
                record.mode_changes.setdefault(name, (first, current[name]))

    def on_before_backward(self, trainer, pl_module, loss):
        problem = _loss_problem(loss)
        if problem:
            record.loss_problems.append(f"batch {record.train_batches - 1}: the loss {problem}")
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            record.losses.append(float(loss.detach()))

    def on_after_backward(self, trainer, pl_module):
        record.backward_calls += 1
        _collect_grads(pl_module)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer, *args):
        record.stepped.append(optimizer)
        _collect_grads(pl_module)

    def _collect_grads(pl_module):
        grads = {name: p.grad for name, p in trainable(pl_module).items() if p.grad is not None}
        record.with_grad.update(grads)
        record.nonzero_grad.update(name for name, grad in grads.items()
                                   if name not in record.nonzero_grad and bool(grad.any()))

    def on_train_epoch_end(self, trainer, pl_module):
        record.epoch_ends.append(snapshot(pl_module))
        if stop_after_epoch is not None and trainer.current_epoch >= stop_after_epoch:
            trainer.should_stop = True

    hooks = {name: value for name, value in locals().items() if name.startswith("on_")}
    callback = type("ConformanceProbe", (pl.Callback,), hooks)()
    return callback, record


def reseed_after(owner, hook: str, seed: int):
    """Reseed with ``seed + epoch`` right after ``owner.hook`` (a train_dataloader) returns.

    The DataLoader's iterator, made next, then draws the same shuffling seed whether its epoch
    starts a fit, a resumed fit or follows another epoch, whatever the hook itself drew.
    ``functools.wraps`` keeps ``__wrapped__``, so Lightning still sees the user's override.
    Returns the function that removes the wrapper.
    """
    original = getattr(owner, hook)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        loaders = original(*args, **kwargs)
        try:
            epoch = owner.trainer.current_epoch
        except Exception:  # not attached to a trainer
            epoch = 0
        reseed(seed + epoch)
        return loaders

    setattr(owner, hook, wrapper)
    return lambda: vars(owner).pop(hook, None)
