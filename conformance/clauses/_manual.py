"""Scenarios for the MAN clauses: BoringModel-style modules with ``automatic_optimization = False``.

The module of ``manual_module`` does what Lightning's docs show for manual optimization:
zero the gradients, ``self.manual_backward(loss)``, ``opt.step()`` for each optimizer. With two
optimizers the first owns ``layer.weight`` and the second ``layer.bias`` (no shared
parameters), so toggling one freezes exactly the other's parameters.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["as_list", "fit_manual", "manual_module", "manual_step", "two_optimizers"]


def as_list(optimizers) -> list:
    """``self.optimizers()`` gives one optimizer or a list: always a list here."""
    return optimizers if isinstance(optimizers, list) else [optimizers]


def manual_step(self, batch, batch_idx):
    """Zero, back-propagate once, step every optimizer; return the loss."""
    optimizers = as_list(self.optimizers())
    loss = self.layer(batch).sum()
    for optimizer in optimizers:
        optimizer.zero_grad()
    self.manual_backward(loss)
    for optimizer in optimizers:
        optimizer.step()
    return loss


def two_optimizers(self, schedulers: int = 0):
    """``[SGD(weight), SGD(bias)]``, with StepLR schedulers for the first ``schedulers`` of them."""
    optimizers = [torch.optim.SGD([self.layer.weight], lr=0.1),
                  torch.optim.SGD([self.layer.bias], lr=0.1)]
    if not schedulers:
        return optimizers
    return optimizers, [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
                        for optimizer in optimizers[:schedulers]]


def manual_module(target, *, optimizers: int = 1, schedulers: int = 0, training_step=None,
                  overrides=None):
    """A module of a fresh class in manual optimization, with one or two SGD optimizers."""
    namespace: dict[str, Any] = {"training_step": training_step or manual_step}
    if optimizers == 2:
        namespace["configure_optimizers"] = lambda self: two_optimizers(self, schedulers)
    module = target.module(scheduler=bool(schedulers) and optimizers == 1,
                           overrides=namespace | (overrides or {}))
    module.automatic_optimization = False
    return module


def fit_manual(target, module, **kwargs):
    """Fit with a recording callback: one epoch, two batches, no validation unless asked."""
    settings = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0} | kwargs
    return target.fit(module, callbacks=[target.callback()], **settings)
