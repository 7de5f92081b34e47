"""Automatic optimization of one training batch: the closure and the optimizer step around it.

Hook order (entry order), as in Lightning 2.6 ``loops/optimization/automatic.py``::

    optimizer_step(epoch, batch_idx, optimizer, closure)      # skipped while accumulating:
    closure() instead
        training_step
        on_before_zero_grad, optimizer_zero_grad                # first batch of an accumulation
        window only
        on_before_backward, backward, on_after_backward         # skipped when training_step
        returned None
        on_before_optimizer_step, configure_gradient_clipping   # inside optimizer.step, after the
        closure
"""

import warnings
from collections.abc import Mapping
from functools import partial

import torch

from .data import takes_param
from .errors import MisconfigurationException

__all__ = ["AutomaticOptimization", "Closure", "ClosureResult", "optimizer_step_with_hooks"]


class ClosureResult:
    """The training_step output split into the loss to back-propagate and the extra keys."""

    def __init__(self, closure_loss, extra):
        self.closure_loss = closure_loss
        self.extra = extra
        # a detached copy for on_train_batch_end, so later in-place changes to the loss do not show
        self.loss = None if closure_loss is None else closure_loss.detach().clone()

    @classmethod
    def from_training_step_output(cls, output, normalize):
        """Accept a Tensor, Mapping with a "loss" key, or None; divide the loss by ``normalize``."""
        closure_loss, extra = None, {}
        if isinstance(output, Mapping):
            closure_loss = output.get("loss")
            if closure_loss is None:
                raise MisconfigurationException(
                    "In automatic_optimization, when `training_step` returns a dict, the 'loss'"
                    " key needs to be present"
                )
            extra = {key: value for key, value in output.items() if key != "loss"}
        elif isinstance(output, torch.Tensor):
            closure_loss = output
        elif output is not None:
            raise MisconfigurationException(
                "In automatic optimization, `training_step` must return a Tensor, a dict, or None"
                " (where the step will be skipped)."
            )
        if closure_loss is not None and normalize != 1:
            # gradient accumulation averages the loss over the window. Note: Lightning also divides
            # by 1; skipping that saves a graph node per step and changes no value.
            closure_loss = closure_loss / normalize
        return cls(closure_loss, extra)

    def asdict(self):
        return {"loss": self.loss, **self.extra}


class Closure:
    """Runs training_step, then zero_grad (when given) and backward (when there is a loss)."""

    def __init__(self, step_fn, backward_fn, zero_grad_fn):
        self._step_fn, self._backward_fn, self._zero_grad_fn = step_fn, backward_fn, zero_grad_fn
        self._result = None

    @torch.enable_grad()
    def closure(self):
        result = self._step_fn()
        if result.closure_loss is None:
            warnings.warn(
                "`training_step` returned `None`. If this was on purpose, ignore this warning...",
                stacklevel=2,
            )
        if self._zero_grad_fn is not None:
            self._zero_grad_fn()
        if result.closure_loss is not None:
            self._backward_fn(result.closure_loss)
        return result

    def __call__(self):
        self._result = self.closure()
        return self._result.loss

    def consume_result(self):
        if self._result is None:
            raise MisconfigurationException(
                "The closure hasn't been executed. HINT: did you call `optimizer_closure()` in"
                " your `optimizer_step` hook? It could also happen because the"
                " `optimizer.step(optimizer_closure)` call did not execute it internally."
            )
        result, self._result = self._result, None
        return result


class AutomaticOptimization:
    """One optimizer, stepped by the Trainer through the module's ``optimizer_step`` hook."""

    def __init__(self, trainer):
        self.trainer = trainer

    def run(self, batch, batch_idx):
        """Train on one batch; return the outputs for on_train_batch_end (``{}`` if skipped)."""
        trainer = self.trainer
        optimizer = trainer.optimizers[0]
        starts_window = batch_idx % trainer.accumulate_grad_batches == 0
        closure = Closure(
            step_fn=partial(self._training_step, batch, batch_idx),
            backward_fn=self._backward,
            zero_grad_fn=partial(self._zero_grad, batch_idx, optimizer) if starts_window else None,
        )
        if trainer.fit_loop.should_accumulate():
            closure()  # no optimizer_step hook until the accumulation window closes
        else:
            trainer._call_module(
                "optimizer_step",
                trainer.current_epoch,
                batch_idx,
                trainer._lightning_optimizers[0],
                closure,
            )
            trainer.fit_loop.optimizer_steps += 1  # counted even if the hook chose not to step
        result = closure.consume_result()
        return {} if result.loss is None else result.asdict()

    def _training_step(self, batch, batch_idx):
        trainer = self.trainer
        # batch_idx is passed when training_step can take it (a second positional parameter of any
        # name)
        takes_batch_idx = takes_param(
            trainer.lightning_module.training_step, "batch_idx", min_args=2
        )
        args = (batch, batch_idx) if takes_batch_idx else (batch,)
        output = trainer._call_strategy("training_step", *args)  # DDP: inside its wrapper
        if output is None and trainer.world_size > 1:  # the other ranks would wait in backward
            raise RuntimeError(
                "Skipping the `training_step` by returning None in distributed training is not"
                " supported. It is recommended that you rewrite your training logic to avoid having"
                " to skip the step in the first place."
            )
        return ClosureResult.from_training_step_output(output, trainer.accumulate_grad_batches)

    def _zero_grad(self, batch_idx, optimizer):
        trainer = self.trainer
        trainer._call("on_before_zero_grad", optimizer)
        trainer._call_module("optimizer_zero_grad", trainer.current_epoch, batch_idx, optimizer)

    def _backward(self, loss):
        trainer = self.trainer
        loss = trainer.precision_plugin.pre_backward(loss)  # "16-mixed": the scaled loss
        trainer._call("on_before_backward", loss)
        trainer._call_module("backward", loss)
        trainer._call("on_after_backward")


def optimizer_step_with_hooks(trainer, optimizer, closure, **kwargs):
    """Step ``optimizer`` with a closure that also runs on_before_optimizer_step and clipping.

    This is what Lightning's precision plugin does inside ``LightningOptimizer.step``: the hooks run
    after
    the closure (so gradients exist) and before the parameters are updated.
    """
    plugin = trainer.precision_plugin
    automatic = trainer.lightning_module.automatic_optimization
    closure = plugin.unscaling(closure, optimizer, automatic)  # "16-mixed": unscale before hooks

    def closure_then_hooks():
        closure_result = closure()
        trainer._call("on_before_optimizer_step", optimizer)
        if trainer.lightning_module.automatic_optimization:  # manual modules clip themselves
            trainer._call_module(
                "configure_gradient_clipping",
                optimizer,
                gradient_clip_val=trainer.gradient_clip_val,
                gradient_clip_algorithm=trainer.gradient_clip_algorithm,
            )
        return closure_result

    # "16-mixed": the GradScaler steps (or skips the step on inf gradients) and updates its scale
    return plugin.optimizer_step(optimizer, closure_then_hooks, automatic, **kwargs)
