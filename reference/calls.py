"""How the Trainer calls hooks: callbacks first, then the module, with one table-driven exception.

Lightning's ``trainer/call.py``: ``_call_callback_hooks``, ``_call_lightning_module_hook``,
``_call_lightning_datamodule_hook``, ``_call_setup_hook`` and ``_call_teardown_hook``.
"""

import warnings

from .callbacks import Checkpoint
from .data import is_overridden
from .datamodule import LightningDataModule
from .module import LightningModule

__all__ = ["HookCalls"]


class _current_hook:
    """Name the hook being run on the module (``self.log`` reads it), then restore the outer one."""

    # Note: a class rather than @contextmanager, and object.__setattr__ rather than
    # nn.Module.__setattr__ (whose parameter and submodule checks a string does not need): this
    # runs around every hook call, and was the largest cost of a training step (benchmarks/).
    __slots__ = ("module", "hook", "previous")

    def __init__(self, module, hook):
        self.module, self.hook = module, hook

    def __enter__(self):
        self.previous = self.module._current_fx_name
        object.__setattr__(self.module, "_current_fx_name", self.hook)

    def __exit__(self, *exc_info):
        object.__setattr__(self.module, "_current_fx_name", self.previous)


# Hooks whose monitoring callbacks (Checkpoint) run after the module, so that they can see what the
# module's hook logged. Lightning: loops/fit_loop.py, `_FitLoop.on_advance_end`.
# Note: Lightning counts EarlyStopping as a monitoring callback too; the reference has no
# EarlyStopping yet.
_MONITORING_CALLBACKS_AFTER_MODULE = frozenset({"on_train_epoch_end"})

# Per-batch module hooks whose default does nothing (or returns the batch it is given), with that
# default. Note: Lightning calls them anyway; calling such a default is unobservable, and skipping
# it keeps the reference's step near a hand-written loop's (benchmarks/). A hook the class
# overrides, or that is wrapped on the instance (the kit's trace recorder), is another function
# and is called.
_TRIVIAL_DEFAULTS = {
    name: getattr(LightningModule, name)
    for name in (
        "on_train_batch_start", "on_train_batch_end", "on_before_zero_grad",
        "on_before_backward", "on_after_backward", "on_before_optimizer_step",
        "on_validation_batch_start", "on_validation_batch_end", "on_test_batch_start",
        "on_test_batch_end", "on_predict_batch_start", "on_predict_batch_end",
        "on_before_batch_transfer", "on_after_batch_transfer",
    )
}
_RETURNS_BATCH = frozenset({"on_before_batch_transfer", "on_after_batch_transfer"})
_NOT_TRIVIAL = object()  # the default of hooks outside the table: no function is it


class HookCalls:
    """Hook-calling helpers mixed into ``Trainer``."""

    def _call(self, hook, *args, **kwargs):
        """Call ``hook`` on every callback, then on the module; return the module's result."""
        if hook in _MONITORING_CALLBACKS_AFTER_MODULE:
            self._call_callbacks(hook, *args, monitoring=False, **kwargs)
            output = self._call_module(hook, *args, **kwargs)
            self._call_callbacks(hook, *args, monitoring=True, **kwargs)
            return output
        self._call_callbacks(hook, *args, **kwargs)
        return self._call_module(hook, *args, **kwargs)

    def _call_callbacks(self, hook, *args, monitoring=None, **kwargs):
        """Call ``hook(trainer, module, ...)`` on all callbacks, or on the (non-)monitoring ones."""
        if not self.callbacks:
            return
        module = self.lightning_module
        for callback in self.callbacks:
            if monitoring is None or isinstance(callback, Checkpoint) == monitoring:
                fn = getattr(callback, hook)
                if callable(fn):
                    with _current_hook(module, hook):  # pl_module.log follows the hook's rules
                        fn(self, module, *args, **kwargs)

    def _call_module(self, hook, *args, **kwargs):
        module = self.lightning_module
        fn = getattr(module, hook)
        if getattr(fn, "__func__", None) is _TRIVIAL_DEFAULTS.get(hook, _NOT_TRIVIAL):
            return args[0] if hook in _RETURNS_BATCH else None
        if not callable(fn):
            return None
        # the *_step methods run in the precision plugin's context (autocast, default dtype)
        with _current_hook(module, hook), self.precision_plugin.hook_context(hook):
            return fn(*args, **kwargs)

    def _call_datamodule(self, hook, *args, **kwargs):
        fn = getattr(self.datamodule, hook)
        return fn(*args, **kwargs) if callable(fn) else None

    def _call_setup_hooks(self):
        stage = self.state.fn
        self.strategy.barrier("pre_setup")
        if self.datamodule is not None:
            self._call_datamodule("setup", stage=stage)
        self._call("setup", stage=stage)  # callbacks, then the module
        self.strategy.barrier("post_setup")

    def _call_teardown_hooks(self):
        stage = self.state.fn
        if self.datamodule is not None:
            self._call_datamodule("teardown", stage=stage)
        self._call("teardown", stage=stage)
        self.lightning_module._current_fx_name = None
        self.lightning_module._metric_attributes = None  # metrics may be replaced before a new run
        for logger in self.loggers:
            logger.finalize("success")

    def _prepare_data(self):
        """prepare_data of the datamodule, then of the module, on the ranks that prepare data."""
        if self.datamodule is not None and is_overridden(
            "prepare_data", self.datamodule, LightningDataModule
        ):
            self._prepare_on_ranks(self.datamodule, self._call_datamodule)
        if is_overridden("prepare_data", self.lightning_module, LightningModule):
            self._prepare_on_ranks(self.lightning_module, self._call_module)

    def _prepare_on_ranks(self, owner, call):
        """Each node's local rank 0 prepares, or global rank 0 only when the owner's
        ``prepare_data_per_node`` is False; every rank waits for it (one process: it prepares)."""
        node_zero = self.local_rank == 0
        global_zero = node_zero and self.node_rank == 0
        if node_zero if owner.prepare_data_per_node else global_zero:
            call("prepare_data")
        self.strategy.barrier("prepare_data")

    def _call_strategy(self, hook, *args):
        """A *_step method through the strategy: DDP runs training_step in its wrapper."""
        with _current_hook(self.lightning_module, hook), self.precision_plugin.hook_context(hook):
            return self.strategy.step(hook, *args)

    def _transfer_batch(self, batch, dataloader_idx):
        """on_before_batch_transfer, transfer_batch_to_device, on_after_batch_transfer."""
        batch = self.precision_plugin.convert_input(batch)  # "64-true": float tensors to float64
        batch = self._call_batch_hook("on_before_batch_transfer", batch, dataloader_idx)
        batch = self._call_batch_hook(
            "transfer_batch_to_device", batch, self.strategy.root_device, dataloader_idx
        )
        return self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)

    def _call_batch_hook(self, hook, *args):
        """Call a batch-transfer hook on the datamodule when it overrides it, else on the module."""
        datamodule, module = self._datahook_datamodule, self.lightning_module
        if datamodule is not None and is_overridden(hook, datamodule, LightningDataModule):
            if is_overridden(hook, module, LightningModule):
                warnings.warn(
                    f"You have overridden `{hook}` in both `LightningModule` and"
                    " `LightningDataModule`. It will use the implementation from"
                    " `LightningDataModule` instance.",
                    stacklevel=2,
                )
            return self._call_datamodule(hook, *args)
        if datamodule is not None and is_overridden(hook, module, LightningModule):
            warnings.warn(
                f"You have overridden `{hook}` in `LightningModule` but have passed in a"
                " `LightningDataModule`. It will use the implementation from `LightningModule`"
                " instance.",
                stacklevel=2,
            )
        return self._call_module(hook, *args)
