"""Data plumbing: where dataloaders come from, how many batches run, and how batches are moved."""

import copy
import dataclasses
import functools
import inspect
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from functools import partial
from unittest.mock import Mock

import torch
from torch.utils.data import DataLoader

from .errors import MisconfigurationException, unsupported

__all__ = [
    "INF",
    "DataSource",
    "check_iterable",
    "flatten_loaders",
    "is_overridden",
    "loader_length",
    "move_data_to_device",
    "parse_num_batches",
    "release_workers",
    "set_sampler_epoch",
    "takes_param",
    "val_check_batch",
]

INF = float("inf")


def is_overridden(name, instance, parent):
    """Whether ``instance`` overrides ``parent.name``; sees through one wraps, Mock or partial."""
    if instance is None:
        return False
    attr = getattr(instance, name, None)
    if attr is None:
        return False
    # Lightning unwraps exactly one level, so that a recorder wrapping a hook does not count as an
    # override
    attr = getattr(attr, "__wrapped__", attr)
    if isinstance(attr, Mock):
        attr = attr._mock_wraps
    elif isinstance(attr, partial):
        attr = attr.func
    if attr is None:
        return False
    parent_attr = getattr(parent, name, None)
    if parent_attr is None:
        raise ValueError("The parent should define the method")
    return attr.__code__ != parent_attr.__code__


def takes_param(fn, name, explicit=False, min_args=None):
    """Whether hook ``fn`` takes parameter ``name`` (Lightning's ``is_param_in_hook_signature``)."""
    fn = getattr(fn, "__wrapped__", fn)
    # cached per function: the training loop asks for every batch, and inspect is slow
    return _takes_param(getattr(fn, "__func__", fn), name, explicit, min_args)


@functools.lru_cache(maxsize=1024)
def _takes_param(fn, name, explicit, min_args):
    spec = inspect.getfullargspec(fn)
    args = spec.args[1:]  # drop `self`
    return (
        name in args
        or (not explicit and spec.varargs is not None)
        or (isinstance(min_args, int) and len(args) >= min_args)
    )


def move_data_to_device(batch, device):
    """Move every tensor (or object with a ``to`` method) in a nested collection to ``device``."""
    device = torch.device(device) if isinstance(device, str) else device
    return _apply(batch, partial(_to_device, device=device))


def _to_device(data, device):
    if isinstance(data, torch.Tensor) and data.device == device:
        return data  # what `.to` would return, at a fraction of its cost (once per batch tensor)
    # non_blocking copies only make sense towards accelerators, as in Lightning
    non_blocking = isinstance(data, torch.Tensor) and device.type not in ("cpu", "mps")
    moved = data.to(device, non_blocking=True) if non_blocking else data.to(device)
    return data if moved is None else moved


def _apply(data, fn):
    if type(data) in (list, tuple):  # the usual batch, checked before the slower rules below
        return type(data)(_apply(value, fn) for value in data)
    if callable(getattr(type(data), "to", None)):
        return fn(data)
    if isinstance(data, Mapping):
        items = OrderedDict((key, _apply(value, fn)) for key, value in data.items())
        return (
            type(data)(data.default_factory, items)
            if isinstance(data, defaultdict)
            else type(data)(items)
        )
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(_apply(value, fn) for value in data))
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return type(data)([_apply(value, fn) for value in data])
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        # Note: Lightning deep-copies the dataclass first; a shallow copy is enough to leave the
        # input untouched.
        moved = copy.copy(data)
        for field in dataclasses.fields(data):
            object.__setattr__(moved, field.name, _apply(getattr(data, field.name), fn))
        return moved
    return data


def release_workers(dataloader):
    """Shut down the workers a DataLoader keeps for ``persistent_workers``, like Lightning."""
    iterator = getattr(dataloader, "_iterator", None)
    if iterator is not None and hasattr(iterator, "_shutdown_workers"):
        iterator._shutdown_workers()
    if hasattr(dataloader, "_iterator"):
        dataloader._iterator = None


def set_sampler_epoch(dataloader, epoch):
    """Call ``set_epoch`` on the sampler(s) of ``dataloader`` (distributed shuffling per epoch)."""
    samplers = {}
    for sampler in (
        getattr(dataloader, "sampler", None),
        getattr(getattr(dataloader, "batch_sampler", None), "sampler", None),
    ):
        if sampler is not None:
            samplers[id(sampler)] = sampler
    for sampler in samplers.values():
        if callable(getattr(sampler, "set_epoch", None)):
            sampler.set_epoch(epoch)


class DataSource:
    """Where a stage's dataloaders come from: a ``*_dataloader`` hook, or the data itself."""

    def __init__(self, instance, hook_name, parent=None):
        self.instance = instance
        self.hook_name = hook_name
        # the LightningModule or LightningDataModule class; None for data passed directly
        self.parent = parent

    def is_module(self):
        return self.parent is not None

    def is_defined(self):
        return not self.is_module() or is_overridden(self.hook_name, self.instance, self.parent)

    def request(self):
        """Return the dataloader(s): the ``*_dataloader`` hook's result, or the data passed."""
        if not self.is_module():
            return self.instance
        hook = getattr(self.instance, self.hook_name)
        if not callable(hook):
            return None
        if not hasattr(self.instance, "_current_fx_name"):  # a datamodule cannot log
            return hook()
        # a module's self.log follows the hook's rules (it forbids logging here)
        previous, self.instance._current_fx_name = self.instance._current_fx_name, self.hook_name
        try:
            return hook()
        finally:
            self.instance._current_fx_name = previous


def flatten_loaders(loaders, allow_collection):
    """Turn what a dataloader hook returned into a flat list, as Lightning's CombinedLoader does."""
    if isinstance(loaders, Mapping):
        flat = list(loaders.values())
    elif isinstance(loaders, (list, tuple)):
        flat = list(loaders)
    else:
        return [loaders]
    if not allow_collection:
        # Note: Lightning combines several train loaders in "max_size_cycle" mode; the reference
        # does not.
        raise unsupported(
            "A collection of training dataloaders", "combined loaders are a later issue"
        )
    if any(isinstance(item, (Mapping, list, tuple)) for item in flat):
        raise unsupported(
            "Nested collections of dataloaders", "only one level of list, tuple or dict is handled"
        )
    return flat


def check_iterable(dataloader, source, fn):
    """Raise Lightning's TypeError when ``dataloader`` cannot be iterated."""
    if isinstance(dataloader, DataLoader):
        return
    try:
        iter(dataloader)
    except TypeError:
        prefix = "train_" if fn == "fit" else ""
        found = (
            f"An invalid dataloader was passed to `Trainer.{fn}({prefix}dataloaders=...)`. Found"
            f" {dataloader}."
        )
        if not source.is_module():
            raise TypeError(found) from None
        if not source.is_defined():
            raise TypeError(
                f"{found} Either pass the dataloader to the `.{fn}()` method OR implement `def"
                f" {source.hook_name}(self):` in your LightningModule/LightningDataModule."
            ) from None
        raise TypeError(
            "An invalid dataloader was returned from"
            f" `{type(source.instance).__name__}.{source.hook_name}()`. Found {dataloader}."
        ) from None


def loader_length(dataloader):
    """Number of batches of ``dataloader``, or infinity when it has no length."""
    try:
        return len(dataloader)
    except (TypeError, NotImplementedError):
        return INF


def parse_num_batches(prefix, length, limit):
    """Apply ``limit_{prefix}_batches`` (int: batches, float: fraction) to a loader length."""
    if length == 0:
        return 0
    num_batches = length
    if isinstance(limit, int):
        num_batches = min(length, limit)
    elif isinstance(limit, float) and length != INF:
        num_batches = int(length * limit)
    elif limit != 1.0:
        raise MisconfigurationException(
            f"When using an `IterableDataset`, `Trainer(limit_{prefix}_batches)` must be `1.0` or"
            f" an int. An int specifies `num_{prefix}_batches` to use."
        )
    if num_batches == 0 and limit > 0.0 and isinstance(limit, float) and length != INF:
        raise MisconfigurationException(
            f"You requested to check {limit} of the `{prefix}_dataloader` but {limit} * {length} <"
            f" 1. Please increase the `limit_{prefix}_batches` argument. Try at least"
            f" `limit_{prefix}_batches={1.0 / length}`"
        )
    return num_batches


def val_check_batch(trainer, max_batches, has_len):
    """The batch count between in-fit validations (``val_check_interval`` resolved)."""
    interval = trainer.val_check_interval
    if isinstance(interval, int):
        every_epoch = trainer.check_val_every_n_epoch is not None
        validates = every_epoch and trainer.limit_val_batches > 0
        if interval > max_batches and validates:
            raise ValueError(
                f" `val_check_interval` ({interval}) must be less than or equal to the number"
                f" of the training batches ({max_batches}). If you want to disable"
                " validation set `limit_val_batches` to 0.0 instead. If you want to validate"
                " based on the total training batches, set `check_val_every_n_epoch=None`."
            )
        return interval
    if not has_len:
        if interval == 1.0:
            return INF
        raise MisconfigurationException(
            "When using an IterableDataset for `train_dataloader`,"
            " `Trainer(val_check_interval)` must be time based, `1.0` or an int. An int k"
            " specifies checking validation every k training batches."
        )
    return max(1, int(max_batches * interval))
