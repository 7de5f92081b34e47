"""Data on several ranks: one shard per rank through a DistributedSampler.

Lightning's ``_DataConnector._prepare_dataloader``: with a distributed strategy and
``use_distributed_sampler=True`` (the default), each DataLoader is rebuilt around a
``DistributedSampler(num_replicas=world size, rank=global rank, seed=PL_GLOBAL_SEED or 0)``.
Training shuffles always; validation and test shuffle only when the user's loader did. A loader
that already has a DistributedSampler, or iterates an IterableDataset, is kept as it is. The fit
loop calls ``set_epoch(current_epoch)`` on the train sampler before each epoch.
"""

import inspect
import os
from collections.abc import Mapping

from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler
from torch.utils.data.distributed import DistributedSampler

from .errors import unsupported
from .rank_zero import PossibleUserWarning, rank_zero_warn

__all__ = ["distributed_dataloaders"]


def distributed_dataloaders(trainer, dataloaders, prefix):
    """``dataloaders`` (one, or a list, tuple or dict of them) with DistributedSamplers where
    DDP needs them; ``prefix`` is "train", "val" or "test"."""
    if isinstance(dataloaders, Mapping):
        return type(dataloaders)({key: _prepared(trainer, loader, prefix)
                                  for key, loader in dataloaders.items()})  # fmt: skip
    if type(dataloaders) in (list, tuple):
        return type(dataloaders)(_prepared(trainer, loader, prefix) for loader in dataloaders)
    return _prepared(trainer, dataloaders, prefix)


def _prepared(trainer, loader, prefix):
    if not isinstance(loader, DataLoader):
        return loader
    shuffle = prefix == "train" or _is_shuffled(loader)  # training always shuffles
    if prefix != "train" and shuffle:
        rank_zero_warn(
            f"Your `{prefix}_dataloader`'s sampler has shuffling enabled, it is strongly"
            " recommended that you turn shuffling off for val/test dataloaders.",
            category=PossibleUserWarning,
        )
    if not _requires_distributed_sampler(trainer, loader):
        return loader
    seed = int(os.environ.get("PL_GLOBAL_SEED", 0))  # set by seed_everything
    kwargs = trainer.strategy.distributed_sampler_kwargs
    sampler = DistributedSampler(loader.dataset, shuffle=shuffle, seed=seed, **kwargs)
    fn = trainer.state.fn
    if fn in ("validate", "test") and sampler.num_replicas > 1:
        rank_zero_warn(
            f"Using `DistributedSampler` with the dataloaders. During `trainer.{fn}()`, it is"
            " recommended to use `Trainer(devices=1, num_nodes=1)` to ensure each sample/batch gets"
            " evaluated exactly once. Otherwise, multi-device settings use `DistributedSampler`"
            " that replicates some samples to make sure all devices have same batch size in case"
            " of uneven inputs.",
            category=PossibleUserWarning,
        )
    return _with_sampler(loader, sampler)


def _requires_distributed_sampler(trainer, loader):
    return (
        trainer.use_distributed_sampler
        and trainer.strategy.is_distributed
        and not isinstance(loader.sampler, DistributedSampler)  # the user's own is kept
        and not isinstance(loader.dataset, IterableDataset)
    )


def _is_shuffled(loader):
    if isinstance(loader.dataset, IterableDataset):
        return False
    batch_sampler = loader.batch_sampler
    sampler = getattr(batch_sampler, "sampler", batch_sampler) if batch_sampler else loader.sampler
    return isinstance(sampler, RandomSampler)


# DataLoader arguments a DataLoader keeps as attributes of the same name
_LOADER_ARGUMENTS = tuple(
    name for name in inspect.signature(DataLoader.__init__).parameters
    if name not in ("self", "dataset", "shuffle", "sampler", "batch_sampler")
)  # fmt: skip


def _with_sampler(loader, sampler):
    """A new DataLoader like ``loader`` (same arguments) that draws from ``sampler``."""
    # Note: Lightning re-instantiates subclasses from their captured init arguments and wraps
    # custom samplers and batch samplers; the reference rebuilds plain DataLoaders only.
    custom_batches = loader.batch_sampler is not None and loader.batch_size is None
    custom_sampler = not isinstance(loader.sampler, (RandomSampler, SequentialSampler))
    if type(loader) is not DataLoader or custom_batches or custom_sampler:
        raise unsupported(
            f"A distributed sampler for {type(loader).__name__} with"
            f" {type(loader.sampler).__name__}",
            "it rebuilds plain DataLoaders with a random or sequential sampler only",
        )
    kwargs = {name: getattr(loader, name) for name in _LOADER_ARGUMENTS if hasattr(loader, name)}
    return DataLoader(loader.dataset, sampler=sampler, **kwargs)
