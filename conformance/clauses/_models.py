"""Scenario fixtures built on a target's ``pl`` namespace: a BoringModel-style module,
a recording callback, a checkpoint callback and a datamodule.

Every scenario is a fresh class so that a clause can leave a hook out (``without=``) or
override one (``overrides=``): Lightning decides what to run from what a class overrides.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

__all__ = [
    "BATCH_SIZE",
    "RandomDataset",
    "build_callback",
    "build_checkpoint_callback",
    "build_datamodule",
    "build_module",
    "loader",
]

BATCH_SIZE = 2
FEATURES = 32


class RandomDataset(Dataset):
    """A fixed tensor dataset (seeded), so every target sees the same batches."""

    def __init__(self, length: int = 64, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.data = torch.randn(length, FEATURES, generator=generator)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.data[index]


def loader(length: int = 64, seed: int = 0) -> DataLoader:
    return DataLoader(RandomDataset(length, seed), batch_size=BATCH_SIZE)


def _init_for(base):
    def __init__(self):
        base.__init__(self)
        self.layer = torch.nn.Linear(FEATURES, 2)

    return __init__


def _step(self, batch, batch_idx):
    return self.layer(batch).sum()


def _eval_step(key):
    def step(self, batch, batch_idx):
        return {key: self.layer(batch).sum()}

    return step


def _optimizer_only(self):
    return torch.optim.SGD(self.layer.parameters(), lr=0.1)


def _optimizer_and_step_lr(self):
    optimizer = torch.optim.SGD(self.layer.parameters(), lr=0.1)
    return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)]


_BASE = {
    "forward": lambda self, x: self.layer(x),
    "training_step": _step,
    "validation_step": _eval_step("x"),
    "test_step": _eval_step("y"),
    "predict_step": lambda self, batch, batch_idx: self.layer(batch),
    "configure_optimizers": _optimizer_only,
    "train_dataloader": lambda self: loader(seed=1),
    "val_dataloader": lambda self: loader(seed=2),
    "test_dataloader": lambda self: loader(seed=3),
    "predict_dataloader": lambda self: loader(seed=4),
}

_DATALOADERS = ("train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader")


def build_module(pl, *, scheduler: bool = False, dataloaders: bool = True, without=(),
                 overrides=None):
    """A fresh BoringModel-style module of a fresh class.

    Args:
        pl: the target's namespace.
        scheduler: return ``[SGD], [StepLR(step_size=1)]`` instead of a bare SGD.
        dataloaders: define the four ``*_dataloader`` hooks (leave them to a datamodule).
        without: hook names the class must not define (so the base class's default is used).
        overrides: extra or replacement methods, name -> function taking ``self``.
    """
    namespace = {"__init__": _init_for(pl.LightningModule), **_BASE}
    if scheduler:
        namespace["configure_optimizers"] = _optimizer_and_step_lr
    if not dataloaders:
        without = (*without, *_DATALOADERS)
    for name in without:
        namespace.pop(name, None)
    namespace.update(overrides or {})
    cls = type("ScenarioModule", (pl.LightningModule,), namespace)
    return cls()


def build_callback(pl, *, overrides=None, name: str | None = None):
    """A callback with a non-empty state, so checkpoint hooks save and restore it.

    Unnamed, it is the clauses' plain callback: class ``RecordingCallback``, whose hooks the
    trace records under ``Callback`` (``trace_owner``); a named one is recorded by its name.
    """
    namespace = {"state_dict": lambda self: {"recorded": True},
                 "trace_owner": name or "Callback"}
    namespace.update(overrides or {})
    return type(name or "RecordingCallback", (pl.Callback,), namespace)()


def build_checkpoint_callback(pl, dirpath, **kwargs):
    """A ModelCheckpoint subclass instance: the kind of callback Lightning calls "monitoring"."""
    cls = type("RecordingCheckpoint", (pl.ModelCheckpoint,), {})
    return cls(dirpath=str(dirpath), **kwargs)


def build_datamodule(pl, *, without=(), overrides=None):
    """A datamodule with the four dataloaders and all data hooks."""
    namespace = {
        name: _BASE[name] for name in _DATALOADERS if name not in without
    }
    namespace.update(overrides or {})
    return type("ScenarioDataModule", (pl.LightningDataModule,), namespace)()
