"""The module every DDP scenario trains, its data, and the record it fills on its rank.

``module_class(pl, record, ...)`` builds a BoringModel-like LightningModule on a target's
namespace whose hooks write what the contract says about every rank into ``record``. Its
datasets hold each item's index in feature 0, so a rank's batches name its shard.

``slots`` makes a misspelt field of a record raise on the rank that writes it as on the
process that reads it; a field a hook sets stays None (or empty) where the hook never ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

__all__ = ["TRAIN_ITEMS", "VAL_ITEMS", "Gathered", "ModuleRanks", "ModuleRecord", "Ranks",
           "SamplerInfo", "TrainerRanks", "flat_parameters", "module_class", "own_sampler_loader",
           "plain_loader"]

TRAIN_ITEMS, VAL_ITEMS, BATCH_SIZE, FEATURES = 16, 8, 2, 32
SYNCED = ("mean", "sum", "max", "min")


@dataclass(slots=True)
class TrainerRanks:
    global_rank: int
    local_rank: int
    node_rank: int
    world_size: int
    num_nodes: int
    is_global_zero: bool


@dataclass(slots=True)
class ModuleRanks:
    global_rank: int
    local_rank: int


@dataclass(slots=True)
class Ranks:
    """The rank numbers the trainer and the module report in ``on_fit_start``."""

    trainer: TrainerRanks
    module: ModuleRanks


@dataclass(slots=True)
class SamplerInfo:
    """Type and settings of a DataLoader's sampler."""

    type: str
    distributed: bool
    num_replicas: int | None
    rank: int | None
    shuffle: bool | None
    seed: int | None
    epoch: int | None


@dataclass(slots=True)
class Gathered:
    """``all_gather`` of this rank's ``[global_rank]`` and of a dict of a tensor and a number."""

    shape: list[int]
    values: list[list[float]]
    dict_shapes: dict[str, list[int]]


@dataclass(slots=True)
class ModuleRecord:
    """What the scenario's module records on its rank during a stage (the ``validate`` phase)."""

    prepare_data: int = 0  # calls
    setup: list[str] = field(default_factory=list)  # the stage of each call
    ranks: Ranks | None = None
    backend: str | None = None
    rank_zero_only: str | None = None  # what a rank_zero_only function returned
    model_type: str | None = None  # trainer.model's class during fit
    train_sampler: SamplerInfo | None = None
    val_sampler: SamplerInfo | None = None
    # (current_epoch, the train sampler's epoch) at each epoch's first batch
    sampler_epochs: list[tuple[int, int | None]] = field(default_factory=list)
    batches: dict[int, list[int]] = field(default_factory=dict)  # epoch -> item indices
    gathered: Gathered | None = None
    local_grads: list[list[float]] = field(default_factory=list)  # this rank's own, per step
    grads: list[list[float]] = field(default_factory=list)  # before each optimizer step
    params: list[list[float]] = field(default_factory=list)  # after each training batch
    val_batches: list[int] = field(default_factory=list)
    saves: int = 0  # on_save_checkpoint calls


class IndexedDataset(Dataset[torch.Tensor]):
    """Seeded random items whose feature 0 is the item's index."""

    def __init__(self, length: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        self.data = torch.randn(length, FEATURES, generator=generator)
        self.data[:, 0] = torch.arange(length, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.data[index]


def _sampler_of(loader: Any) -> SamplerInfo | None:
    """Type and settings of a DataLoader's sampler (unwrapping Lightning 1.9's loaders)."""
    if isinstance(loader, (list, tuple)):
        loader = loader[0] if loader else None
    loader = getattr(loader, "loaders", loader)  # 1.9: a CombinedLoader around the loader
    sampler = getattr(loader, "sampler", None)
    if sampler is None:
        return None
    return SamplerInfo(type(sampler).__name__, isinstance(sampler, DistributedSampler),
                       getattr(sampler, "num_replicas", None), getattr(sampler, "rank", None),
                       getattr(sampler, "shuffle", None), getattr(sampler, "seed", None),
                       getattr(sampler, "epoch", None))


def flat_parameters(module: torch.nn.Module) -> list[float]:
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).tolist()


def _ranks(trainer: Any, module: Any) -> Ranks:
    return Ranks(TrainerRanks(trainer.global_rank, trainer.local_rank, trainer.node_rank,
                              trainer.world_size, trainer.num_nodes, trainer.is_global_zero),
                 ModuleRanks(module.global_rank, module.local_rank))


def module_class(pl: Any, rec: ModuleRecord, *, train_loader: Callable[[], DataLoader],
                 use_none_step: bool = False, prepare_once: bool = False) -> type:
    """A BoringModel-like module that records what the contract says about every rank."""

    class DistributedModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(FEATURES, 2)
            if prepare_once:  # an instance attribute, set like the docs show
                self.prepare_data_per_node = False

        def prepare_data(self):
            rec.prepare_data += 1

        def setup(self, stage):
            rec.setup.append(str(stage))

        def on_fit_start(self):
            rec.ranks = _ranks(self.trainer, self)
            distributed = torch.distributed
            rec.backend = str(distributed.get_backend()) if distributed.is_initialized() else None
            rec.rank_zero_only = pl.rank_zero_only(lambda: "ran")()
            pl.rank_zero_warn(f"rank_zero_warn from rank {self.global_rank}")

        def on_train_start(self):
            rec.model_type = type(self.trainer.model).__name__
            rec.train_sampler = _sampler_of(self.trainer.train_dataloader)
            rec.val_sampler = _sampler_of(self.trainer.val_dataloaders)

        def on_train_batch_start(self, batch, batch_idx):
            if batch_idx == 0:
                sampler = _sampler_of(self.trainer.train_dataloader)
                rec.sampler_epochs.append((self.current_epoch, sampler.epoch if sampler else None))

        def training_step(self, batch, batch_idx):
            rec.batches.setdefault(self.current_epoch, []).extend(int(i) for i in batch[:, 0])
            if use_none_step:
                return None
            if self.global_step == 0:
                self._gather()
            self._log_values(batch_idx)
            # d(sum of outputs)/d(weight row) is the sum of the batch: this rank's own gradient
            rec.local_grads.append(batch.sum(0).tolist())
            return self.layer(batch).sum()

        def _gather(self):
            tensor = self.all_gather(torch.tensor([float(self.global_rank)]))
            collection = self.all_gather({"t": torch.tensor(self.global_rank), "n": 3})
            rec.gathered = Gathered(list(tensor.shape), tensor.tolist(),
                                    {k: list(torch.as_tensor(v).shape)
                                     for k, v in collection.items()})

        def _log_values(self, batch_idx):
            value = torch.tensor(float(self.global_rank + 1))
            for reduce_fx in SYNCED:
                self.log(f"sync_{reduce_fx}", value, on_step=False, on_epoch=True,
                         sync_dist=True, reduce_fx=reduce_fx)
            self.log("local_mean", value, on_step=False, on_epoch=True)
            self.log("step_sum", value + batch_idx, on_step=True, on_epoch=False,
                     sync_dist=True, reduce_fx="sum")

        def on_before_optimizer_step(self, optimizer, *optimizer_idx):  # 1.9 passes an index
            rec.grads.append(self.layer.weight.grad[0].tolist())

        def on_train_batch_end(self, outputs, batch, batch_idx):
            rec.params.append(flat_parameters(self))

        def validation_step(self, batch, batch_idx):
            loss = self.layer(batch).sum()
            self.log("val_sync", loss, sync_dist=True)
            rec.val_batches.extend(int(i) for i in batch[:, 0])

        def on_save_checkpoint(self, checkpoint):
            rec.saves += 1

        def configure_optimizers(self):
            return torch.optim.SGD(self.layer.parameters(), lr=0.01)

        def train_dataloader(self):
            return train_loader()

        def val_dataloader(self):
            return DataLoader(IndexedDataset(VAL_ITEMS, seed=2), batch_size=BATCH_SIZE)

    return DistributedModule


def plain_loader() -> DataLoader:
    return DataLoader(IndexedDataset(TRAIN_ITEMS, seed=1), batch_size=BATCH_SIZE)


def own_sampler_loader(world_size: int, rank: int) -> Callable[[], DataLoader]:
    def build() -> DataLoader:
        dataset = IndexedDataset(TRAIN_ITEMS, seed=1)
        sampler: DistributedSampler[int] = DistributedSampler(dataset, num_replicas=world_size,
                                                              rank=rank, shuffle=False, seed=11)
        return DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler)

    return build


