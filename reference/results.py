"""What ``self.log`` stores: one ``ResultMetric`` per (hook, name, dataloader), reduced per epoch.

Lightning 2.6 ``trainer/connectors/logger_connector/result.py``. Mean is weighted by the batch
size (given as ``batch_size=`` or read from the batch), sum is unweighted, max and min are running.
A step value is the last value logged in the step; an epoch value is the reduction of them all.

A ``torchmetrics.Metric`` is recognised by duck typing (``is_metric``): the reference imports
nothing outside torch, and torchmetrics is a package of its own. Its step value is the metric's
``_forward_cache`` and its epoch value ``compute()``; the metric itself is reset at epoch end.

``sync_dist=True`` on several ranks reduces step and epoch values over the ranks by reduce_fx.
"""

from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import MisconfigurationException, clause_message
from .rank_zero import PossibleUserWarning, rank_zero_warn_once

__all__ = ["Metadata", "ResultCollection", "ResultMetric", "extract_batch_size", "is_metric"]

_REDUCTIONS = {"mean": torch.mean, "avg": torch.mean, "sum": torch.sum, "max": torch.max,
               "min": torch.min}  # fmt: skip
# functions accepted as reduce_fx, by the reduction they stand for
_FUNCTIONS = {torch.mean: "mean", torch.sum: "sum", sum: "sum", torch.max: "max", max: "max",
              torch.min: "min", min: "min"}  # fmt: skip


def is_metric(value):
    """Whether ``value`` is a torchmetrics ``Metric`` (an nn.Module with update/compute/reset)."""
    # Note: duck typing instead of isinstance, so the reference needs no torchmetrics import.
    return isinstance(value, torch.nn.Module) and all(
        callable(getattr(value, name, None)) for name in ("update", "compute", "reset")
    ) and hasattr(value, "_forward_cache")


def _reduction_name(reduce_fx):
    if isinstance(reduce_fx, str) and reduce_fx.lower() in _REDUCTIONS:
        return _REDUCTIONS[reduce_fx.lower()].__name__
    if not isinstance(reduce_fx, str) and reduce_fx in _FUNCTIONS:
        return _FUNCTIONS[reduce_fx]
    raise MisconfigurationException(
        clause_message(
            "LOG-020",
            "Only `self.log(..., reduce_fx={min,max,mean,sum})` are supported.",
            "If you need a custom reduction, please log a `torchmetrics.Metric` instance instead."
            f" Found: {reduce_fx}",
        )
    )


@dataclass
class Metadata:
    """The options one ``self.log`` call gave; a key logged again must give the same ones."""

    fx: str
    name: str
    prog_bar: bool = False
    logger: bool = True
    on_step: bool = False
    on_epoch: bool = True
    reduce_fx: object = "mean"
    enable_graph: bool = False
    add_dataloader_idx: bool = True
    dataloader_idx: int | None = None
    metric_attribute: str | None = None
    sync_dist: bool = False  # requested, and the strategy is distributed
    sync_dist_group: object = None
    rank_zero_only: bool = False

    def __post_init__(self):
        if not self.on_step and not self.on_epoch:
            raise MisconfigurationException(
                clause_message(
                    "LOG-022",
                    "`self.log(on_step=False, on_epoch=False)` is not useful.",
                    "Set at least one of them to True.",
                )
            )
        self.reduction = _reduction_name(self.reduce_fx)
        self.reduce_fx = self.reduction  # aliases compare equal once parsed

    @property
    def forked(self):
        return self.on_step and self.on_epoch

    def forked_name(self, on_step):
        """``name_step``/``name_epoch`` when logged at both levels, else ``name``."""
        if not self.forked:
            return self.name
        return f"{self.name}_{'step' if on_step else 'epoch'}"


class ResultMetric:
    """The running state of one logged key: its last step value and its epoch accumulator."""

    def __init__(self, meta, is_tensor, sync_fn=None):
        self.meta, self.is_tensor = meta, is_tensor
        self.sync_fn = sync_fn  # the strategy's reduce(tensor, group, reduce_op), in place
        self.has_reset = False
        self.step_value, self.metric = None, None
        self._reset_accumulator()

    def _reset_accumulator(self):
        start = {"max": float("-inf"), "min": float("inf")}.get(self.meta.reduction, 0.0)
        self.total = torch.tensor(start, dtype=_default_dtype())
        self.cumulated_batch_size = torch.tensor(0)
        self.computed = None

    def update(self, value, batch_size):
        """Take one logged value: keep it as the step value, fold it into the epoch value."""
        self.has_reset, self.computed = False, None
        if not self.is_tensor:
            self.metric, self.step_value = value, value._forward_cache
            return
        if not torch.is_floating_point(value) or value.dtype not in (torch.float32, torch.float64):
            value = value.to(_default_dtype())
        if self.meta.on_step:
            self.step_value = value.clone()
            self._sync(self.step_value, self.meta.reduction)  # in place
            if not self.meta.on_epoch:
                return
        reduction = self.meta.reduction
        if reduction == "mean":
            self.total = self.total + value * batch_size
            self.cumulated_batch_size = self.cumulated_batch_size + batch_size
        elif reduction == "sum":
            self.total = self.total + value
        else:
            self.total = getattr(torch, reduction)(self.total, value)

    def compute(self):
        """The epoch value (computed once until the next update)."""
        if self.computed is None:
            self._recommend_sync()
            if not self.is_tensor:
                self.computed = self.metric.compute()
            elif self.meta.reduction == "mean":
                # Note: Lightning averages both over the ranks (and truncates the integer count)
                total = self._sync(self.total.clone(), "sum")
                self.computed = total / self._sync(self.cumulated_batch_size.clone(), "sum")
            else:
                self.computed = self._sync(self.total.clone(), self.meta.reduction)
        return self.computed

    def _sync(self, tensor, reduce_op):
        """Reduce ``tensor`` over the ranks in place (``sync_dist=True``, not rank_zero_only)."""
        meta = self.meta
        if meta.sync_dist and not meta.rank_zero_only and self.sync_fn is not None:
            self.sync_fn(tensor, group=meta.sync_dist_group, reduce_op=reduce_op)
        return tensor

    def _recommend_sync(self):
        unsynced = self.is_tensor and not self.meta.sync_dist
        if unsynced and dist.is_available() and dist.is_initialized():
            rank_zero_warn_once(
                f"It is recommended to use `self.log({self.meta.name!r}, ..., sync_dist=True)` when"
                " logging on epoch level in distributed setting to accumulate the metric across"
                " devices.",
                category=PossibleUserWarning,
            )

    def reset(self):
        if self.is_tensor:
            self._reset_accumulator()
            self.step_value = None
        elif self.metric is not None:
            self.metric.reset()
            self.computed = None
        self.has_reset = True


def _default_dtype():
    dtype = torch.get_default_dtype()
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


class ResultCollection(dict):
    """Every key logged in one loop (training, or one evaluation loop), by ``fx.name[.dl]``."""

    SUFFIX = "/dataloader_idx_{}"

    def __init__(self, training):
        super().__init__()
        self.training = training
        self.batch, self.batch_size, self.dataloader_idx = None, None, None

    def log(self, fx, name, value, batch_size=None, sync_fn=None, **options):
        """Record ``value`` under the hook ``fx`` with the options of one ``self.log`` call."""
        key = f"{fx}.{name}"
        dataloader_idx = self.dataloader_idx if options.get("add_dataloader_idx", True) else None
        if dataloader_idx is not None:
            key, fx = f"{key}.{dataloader_idx}", f"{fx}.{dataloader_idx}"
        meta = Metadata(fx=fx, name=name, dataloader_idx=dataloader_idx, **options)
        if key not in self:
            self[key] = ResultMetric(meta, isinstance(value, torch.Tensor), sync_fn)
        elif meta != self[key].meta:
            raise MisconfigurationException(
                clause_message(
                    "LOG-021",
                    f"You called `self.log({name}, ...)` twice in `{fx}` with different arguments.",
                    "This is not allowed",
                )
            )
        if not meta.enable_graph and isinstance(value, torch.Tensor):
            value = value.detach()
        result = self[key]
        result.update(value, self._batch_size(result, batch_size))

    def _batch_size(self, result, batch_size):
        """The given batch size, else the batch's (read once per batch, only where it weighs)."""
        if batch_size is None:
            batch_size = self.batch_size
        if batch_size is not None:
            return batch_size
        meta = result.meta
        if self.batch is None or not (result.is_tensor and meta.on_epoch):
            return 1
        if meta.reduction != "mean":
            return 1
        self.batch_size = extract_batch_size(self.batch)
        return self.batch_size

    def metrics(self, on_step):
        """The step (or epoch) values as the logger, callback and progress-bar dictionaries."""
        metrics = {"callback": {}, "log": {}, "pbar": {}}
        for result in self.values():
            if result.has_reset or result.meta.dataloader_idx != self.dataloader_idx:
                continue
            value = self._value(result, on_step)
            if not isinstance(value, torch.Tensor):
                continue
            name, forked = self._names(result, on_step)
            if result.meta.logger:
                metrics["log"][forked] = value
            # evaluation step values stay out of the callback metrics
            if self.training or (result.meta.on_epoch and not on_step):
                metrics["callback"][name] = value
                metrics["callback"][forked] = value
            if result.meta.prog_bar:
                metrics["pbar"][forked] = value.item()
        return metrics

    @staticmethod
    def _value(result, on_step):
        if on_step and result.meta.on_step:
            return result.step_value
        if not on_step and result.meta.on_epoch:
            return result.compute()
        return None

    def _names(self, result, on_step):
        meta = result.meta
        name, forked = meta.name, meta.forked_name(on_step)
        if meta.add_dataloader_idx and meta.dataloader_idx is not None:
            suffix = self.SUFFIX.format(meta.dataloader_idx)
            name, forked = name + suffix, forked + suffix
        return name, forked

    def reset(self, metrics=None, fx=None):
        """Reset tensors (``metrics=False``), Metric objects (True) or both (None), of one hook."""
        for result in self.values():
            if (metrics is None or metrics != result.is_tensor) and fx in (None, result.meta.fx):
                result.reset()


def extract_batch_size(batch):
    """The size of the first tensor's first dimension found in ``batch`` (0-dim tensors give 1)."""
    sizes = list(_batch_sizes(batch))
    if not sizes:
        raise MisconfigurationException(
            clause_message(
                "LOG-025",
                "We could not infer the batch_size from the batch.",
                "Either simplify its structure or provide the batch_size as"
                " `self.log(..., batch_size=batch_size)`.",
            )
        )
    return sizes[0]


def _batch_sizes(batch):
    if isinstance(batch, torch.Tensor):
        yield 1 if batch.ndim == 0 else batch.size(0)
    elif isinstance(batch, (str, bytes)):
        return
    elif isinstance(batch, dict):
        for value in batch.values():
            yield from _batch_sizes(value)
    elif isinstance(batch, (list, tuple)):
        for value in batch:
            yield from _batch_sizes(value)
