"""Manual optimization: ``training_step`` does backward, step and zero_grad itself.

Set ``self.automatic_optimization = False`` in the module, then, as in Lightning's docs::

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.compute_loss(batch)
        opt.zero_grad()
        self.manual_backward(loss)      # on_before_backward, backward, on_after_backward
        opt.step()                      # on_before_optimizer_step, then the optimizer's step

What the Trainer still does per batch (Lightning 2.6 ``loops/optimization/manual.py``)::

    on_before_batch_transfer, transfer_batch_to_device, on_after_batch_transfer
    on_train_batch_start
    training_step                       # every optimizer step inside it adds 1 to global_step
    on_train_batch_end(outputs)         # {"loss": detached tensor} for a Tensor, a Mapping copied

It never calls optimizer_step, optimizer_zero_grad, on_before_zero_grad, backward,
configure_gradient_clipping or lr_scheduler_step; the module steps its schedulers itself.
"""

from collections.abc import Mapping
from contextlib import contextmanager

import torch

from .data import takes_param
from .errors import MisconfigurationException, clause_message

__all__ = [
    "ManualOptimization",
    "backward_with_hooks",
    "manual_step_output",
    "require_manual_optimization",
    "toggle_optimizer",
    "toggled_optimizer",
    "untoggle_optimizer",
    "verify_manual_optimization",
]


# ---- checks at fit start ----


def verify_manual_optimization(trainer, model):
    """Reject the Trainer flags that only automatic optimization can honour (MAN-011, MAN-012)."""
    if model.automatic_optimization:
        return
    clip_val = trainer.gradient_clip_val
    if clip_val is not None and clip_val > 0:
        raise MisconfigurationException(
            clause_message(
                "MAN-011",
                "Automatic gradient clipping is not supported for manual optimization.",
                f"Remove `Trainer(gradient_clip_val={clip_val})` or switch to automatic"
                " optimization.",
            )
        )
    accumulate = trainer.accumulate_grad_batches
    if accumulate != 1:
        raise MisconfigurationException(
            clause_message(
                "MAN-012",
                "Automatic gradient accumulation is not supported for manual optimization.",
                f"Remove `Trainer(accumulate_grad_batches={accumulate})` or switch to automatic"
                " optimization.",
            )
        )


def require_manual_optimization(module, fn_name):
    """Methods such as ``manual_backward`` only make sense in manual optimization (MAN-023)."""
    if module.automatic_optimization:
        raise MisconfigurationException(
            f"MAN-023: to use {fn_name}, please disable automatic optimization: set model"
            " property `automatic_optimization` as False"
        )


# ---- one training batch ----


class ManualOptimization:
    """Calls ``training_step`` once and counts the optimizer steps the module takes inside it."""

    def __init__(self, trainer):
        self.trainer = trainer

    def run(self, batch, batch_idx):
        """Train on one batch; return the outputs for on_train_batch_end."""
        optimizers = self.trainer._lightning_optimizers
        # as in Lightning, only steps taken while the training step runs move global_step
        for optimizer in optimizers:
            optimizer._on_after_step = self._count_step
        try:
            output = self._training_step(batch, batch_idx)
        finally:
            for optimizer in optimizers:
                optimizer._on_after_step = _do_nothing
        return manual_step_output(output)

    def _training_step(self, batch, batch_idx):
        trainer = self.trainer
        takes_batch_idx = takes_param(
            trainer.lightning_module.training_step, "batch_idx", min_args=2
        )
        args = (batch, batch_idx) if takes_batch_idx else (batch,)
        with torch.enable_grad():
            return trainer._call_module("training_step", *args)

    def _count_step(self):
        self.trainer.fit_loop.optimizer_steps += 1  # global_step


def manual_step_output(output):
    """None, a Tensor (as ``{"loss": ...}``) or a Mapping (copied); the loss is detached.

    The Trainer never back-propagates this loss: the module already did (MAN-022).
    """
    if isinstance(output, Mapping):
        # Note: Lightning calls output.copy(), which a Mapping need not have; dict() always works
        extra = dict(output)
    elif isinstance(output, torch.Tensor):
        extra = {"loss": output}
    elif output is None:
        extra = {}
    else:
        raise MisconfigurationException(
            "MAN-020: In manual optimization, `training_step` must either return a Tensor or have"
            " no return."
        )
    if "loss" in extra:
        extra["loss"] = extra["loss"].detach()
    return extra


def _do_nothing():
    return None


# ---- helpers the module calls from training_step ----


def backward_with_hooks(trainer, loss, *args, **kwargs):
    """``manual_backward``: the backward hooks around the module's ``backward`` (MAN-005)."""
    loss = trainer.precision_plugin.pre_backward(loss)  # "16-mixed": the scaled loss
    trainer._call("on_before_backward", loss)
    # Note: as in Lightning, the module's backward is called directly, not as a hook: what it
    # logs counts as the enclosing training_step's (same keys, LOG-053)
    trainer.lightning_module.backward(loss, *args, **kwargs)
    trainer._call("on_after_backward")


def toggle_optimizer(optimizers, optimizer):
    """Freeze every parameter of ``optimizers`` except those of ``optimizer`` (MAN-016).

    Returns the original ``requires_grad`` flags, which ``untoggle_optimizer`` puts back.
    """
    original = {}
    for other in optimizers:
        for param in _params(other):
            if param not in original:
                original[param] = param.requires_grad
                param.requires_grad = False
    # the toggled optimizer's own parameters (shared ones included) keep their flag
    for param in _params(optimizer):
        param.requires_grad = original[param]
    return original


def untoggle_optimizer(optimizers, optimizer, original):
    """Give the other optimizers' parameters back their ``requires_grad`` flag (MAN-017)."""
    toggled = getattr(optimizer, "optimizer", optimizer)  # a LightningOptimizer or the optimizer
    for other in optimizers:
        if other is toggled:
            continue
        for param in _params(other):
            if param in original:
                param.requires_grad = original[param]


@contextmanager
def toggled_optimizer(module, optimizer):
    """``toggle_optimizer`` on entry, ``untoggle_optimizer`` on exit, even after an error."""
    module.toggle_optimizer(optimizer)
    try:
        yield
    finally:
        module.untoggle_optimizer(optimizer)


def _params(optimizer):
    return [param for group in optimizer.param_groups for param in group["params"]]
