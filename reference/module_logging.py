"""``LightningModule.log`` and ``log_dict``: check the value and the hook, then record it.

Lightning 2.6 ``core/module.py::log``. Values are numbers, one-element tensors or torchmetrics
``Metric`` objects (see ``results.is_metric``); the hook being run (``_current_fx_name``, set by
the Trainer around every hook call) decides the default levels through ``logging_table``.
"""

import numbers
import warnings

import torch

from .errors import MisconfigurationException, clause_message
from .logging_table import logging_levels
from .results import is_metric

__all__ = ["ModuleLogging"]


class ModuleLogging:
    """The logging methods mixed into ``LightningModule``."""

    _current_fx_name = None
    _metric_attributes = None

    def log(self, name, value, prog_bar=False, logger=None, on_step=None, on_epoch=None,
            reduce_fx="mean", enable_graph=False, sync_dist=False, sync_dist_group=None,
            add_dataloader_idx=True, batch_size=None, metric_attribute=None,
            rank_zero_only=False):  # fmt: skip
        """Log ``name: value`` from the current hook; see the module docstring for the rules."""
        _check_value(name, value)
        trainer = self._trainer
        if trainer is None:
            # not an error, so that *_step methods can be tried without a Trainer
            warnings.warn(
                "You are trying to `self.log()` but the `self.trainer` reference is not registered"
                " on the model yet. This is most likely because the model hasn't been passed to"
                " the `Trainer`",
                stacklevel=2,
            )
            return
        results = trainer._results
        fx = self._current_fx_name
        _check_registered(results, fx)
        on_step, on_epoch = logging_levels(fx, on_step, on_epoch)
        if add_dataloader_idx and "/dataloader_idx_" in name:
            raise MisconfigurationException(
                clause_message(
                    "LOG-023",
                    f"You called `self.log` with the key `{name}` but it should not contain"
                    " information about `dataloader_idx` when `add_dataloader_idx=True`",
                    "Remove the suffix: the Trainer adds it.",
                )
            )
        value = self._metric_or_tensor(name, value)
        if trainer._logger_connector.should_reset_tensors(fx):
            # the first batch of a new epoch (or a new hook): start this hook's values afresh
            results.reset(metrics=False, fx=fx)
        metric_attribute = self._find_metric_attribute(name, value, metric_attribute)
        if logger and trainer.logger is None:
            warnings.warn(
                f"You called `self.log({name!r}, ..., logger=True)` but have no logger configured."
                " You can enable one by doing `Trainer(logger=ALogger(...))`",
                stacklevel=2,
            )
        # sync_dist reduces the value over the ranks (one process: nothing to reduce)
        strategy = trainer.strategy
        results.log(
            fx, name, value, batch_size=batch_size, prog_bar=prog_bar,
            logger=True if logger is None else logger, on_step=on_step, on_epoch=on_epoch,
            reduce_fx=reduce_fx, enable_graph=enable_graph,
            add_dataloader_idx=add_dataloader_idx, metric_attribute=metric_attribute,
            sync_dist=sync_dist and strategy.is_distributed, sync_dist_group=sync_dist_group,
            rank_zero_only=rank_zero_only, sync_fn=strategy.reduce,
        )  # fmt: skip
        trainer._logger_connector.current_fx = fx

    def log_dict(self, dictionary, prog_bar=False, logger=None, on_step=None, on_epoch=None,
                 reduce_fx="mean", enable_graph=False, sync_dist=False, sync_dist_group=None,
                 add_dataloader_idx=True, batch_size=None, rank_zero_only=False):  # fmt: skip
        """``self.log`` each item of ``dictionary`` with the same options."""
        for name, value in dictionary.items():
            self.log(name, value, prog_bar=prog_bar, logger=logger, on_step=on_step,
                     on_epoch=on_epoch, reduce_fx=reduce_fx, enable_graph=enable_graph,
                     sync_dist=sync_dist, sync_dist_group=sync_dist_group,
                     add_dataloader_idx=add_dataloader_idx, batch_size=batch_size,
                     rank_zero_only=rank_zero_only)  # fmt: skip

    def _metric_or_tensor(self, name, value):
        if is_metric(value):
            return value
        tensor = (
            value.clone()  # detached by the result collection unless enable_graph=True
            if isinstance(value, torch.Tensor)
            else torch.tensor(value, device=self.device, dtype=_default_float())
        )
        if tensor.numel() != 1:
            raise ValueError(
                clause_message(
                    "LOG-013",
                    f"`self.log({name}, {tensor})` was called, but the tensor must have a single"
                    f" element. You can try doing `self.log({name}, {tensor}.mean())`",
                    "Reduce the tensor first.",
                )
            )
        if not torch.is_floating_point(tensor):
            warnings.warn(
                f"You called `self.log({name!r}, ...)` in your `{self._current_fx_name}` but the"
                f" value needs to be floating to be reduced. Converting it to {_default_float()}.",
                stacklevel=3,
            )
        return tensor.squeeze()

    def _find_metric_attribute(self, name, value, metric_attribute):
        if metric_attribute is not None or not is_metric(value):
            return metric_attribute
        if self._metric_attributes is None:
            self._metric_attributes = {
                id(module): attribute for attribute, module in self.named_modules()
                if is_metric(module)
            }  # fmt: skip
        attribute = self._metric_attributes.get(id(value))
        if attribute is None:
            raise MisconfigurationException(
                clause_message(
                    "LOG-017",
                    "Could not find the `LightningModule` attribute for the `torchmetrics.Metric`"
                    " logged.",
                    "You can fix this by setting an attribute for the metric in your"
                    " `LightningModule`.",
                )
            )
        return attribute


def _check_value(name, value):
    """Numbers, tensors and Metric objects are accepted; anything else is rejected."""
    if isinstance(value, dict) and any(isinstance(item, dict) for item in value.values()):
        raise ValueError(
            clause_message(
                "LOG-016",
                f"`self.log({name}, {value})` was called, but nested dictionaries cannot be logged",
                "Log each value under its own name.",
            )
        )
    if not isinstance(value, (numbers.Number, torch.Tensor)) and not is_metric(value):
        raise ValueError(
            clause_message(
                "LOG-014",
                f"`self.log({name}, {value})` was called, but `{type(value).__name__}` values"
                " cannot be logged",
                "Log a number, a one-element tensor or a torchmetrics Metric.",
            )
        )


def _check_registered(results, fx):
    if results is None:
        raise MisconfigurationException(
            clause_message(
                "LOG-006",
                "You are trying to `self.log()` but the loop's result collection is not registered"
                " yet. This is most likely because you are trying to log in a `predict` hook, but"
                " it doesn't support logging",
                "Return predictions instead.",
            )
        )
    if fx is None:
        raise MisconfigurationException(
            clause_message(
                "LOG-005",
                "You are trying to `self.log()` but it is not managed by the `Trainer` control"
                " flow",
                "Call it from a hook the Trainer runs.",
            )
        )


def _default_float():
    dtype = torch.get_default_dtype()
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32
