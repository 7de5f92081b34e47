"""Real Lightning as a target: ``lightning`` (namespace ``lightning.pytorch``) or
``pytorch_lightning``. Every version difference of Lightning itself belongs here."""

from __future__ import annotations

import importlib
from types import ModuleType, SimpleNamespace
from typing import Any

from packaging.version import Version

from lightning_conformance.adapters.base import Run
from lightning_conformance.adapters.stage import cuda_capability, neutral_settings, run_stage

__all__ = ["LightningTarget", "lightning_target", "pytorch_lightning_target"]


class LightningTarget:
    """Lightning imported from one exact namespace; never falls back to the other one."""

    # "cuda" is added per machine: only where torch sees a CUDA device.
    base_capabilities = frozenset(
        {"hooks", "logging", "optimizers", "checkpoint", "manual_optimization", "ddp",
         "ddp_fork", "devices"}
    )

    def __init__(self, name: str, distribution: str, namespace: str):
        root = importlib.import_module(distribution)
        pl = importlib.import_module(namespace)
        self.name = name
        self.version = Version(root.__version__)
        # Note: lightning < 2.6 pulls in pytorch_lightning 2.6.6 beside it, so the version
        # is read from the very distribution whose namespace is under test.
        self.contract = self.version
        self.capabilities = self.base_capabilities | cuda_capability()
        self.pl = _namespace(pl, importlib.import_module(f"{namespace}.callbacks"),
                             importlib.import_module(f"{namespace}.loggers"),
                             _misconfiguration(namespace),
                             importlib.import_module(f"{namespace}.utilities.rank_zero"))

    def trainer_settings(self, root_dir: str) -> dict[str, Any]:
        return neutral_settings(root_dir)

    def run(self, verb: str, module: Any, **kwargs: Any) -> Run:
        return run_stage(self, verb, module, **kwargs)


def _namespace(pl: ModuleType, callbacks: ModuleType, loggers: ModuleType,
               misconfiguration: type[Exception], rank_zero: ModuleType) -> SimpleNamespace:
    return SimpleNamespace(
        LightningModule=pl.LightningModule,
        LightningDataModule=pl.LightningDataModule,
        Callback=pl.Callback,
        Trainer=pl.Trainer,
        Logger=loggers.Logger,
        Checkpoint=callbacks.Checkpoint,
        ModelCheckpoint=callbacks.ModelCheckpoint,
        MisconfigurationException=misconfiguration,
        seed_everything=pl.seed_everything,
        rank_zero_only=rank_zero.rank_zero_only,
        rank_zero_warn=rank_zero.rank_zero_warn,
    )


def _misconfiguration(namespace: str) -> type[Exception]:
    module = importlib.import_module(f"{namespace}.utilities.exceptions")
    return module.MisconfigurationException


def lightning_target() -> LightningTarget:
    return LightningTarget("lightning", "lightning", "lightning.pytorch")


def pytorch_lightning_target() -> LightningTarget:
    return LightningTarget("pytorch_lightning", "pytorch_lightning", "pytorch_lightning")
