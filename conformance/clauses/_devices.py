"""Scenario helpers of the DEV clauses: probes of autocast and dtypes, step overrides that
record them, a (features, labels) dataloader, and guards for the machine's CUDA devices."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_conformance.clauses._models import BATCH_SIZE, FEATURES

__all__ = [
    "STEPS",
    "autocast_dtype",
    "fit_settings",
    "isolated_environment",
    "labelled_loader",
    "precision",
    "probing_steps",
    "require_cuda_devices",
    "require_no_cuda",
    "run_every_stage",
]

STEPS = ("training_step", "validation_step", "test_step", "predict_step")


def autocast_dtype(device_type: str = "cpu"):
    """The autocast dtype in force for ``device_type``, or None where autocast is off."""
    if not torch.is_autocast_enabled(device_type):
        return None
    return torch.get_autocast_dtype(device_type)


def fit_settings(**kwargs) -> dict:
    """One epoch of two training batches and no validation, unless ``kwargs`` say otherwise."""
    return {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0} | kwargs


# Lightning 1.9's Trainer(precision=...) values for the 2.0 names (change "precision_flag_names").
PRECISION_BEFORE_2_0 = {"32-true": "32", "64-true": "64", "16-mixed": "16", "bf16-mixed": "bf16"}


def precision(contract, name: str) -> str:
    """The contract's Trainer(precision=...) value for ``name`` ('bf16-mixed', ...): the name
    itself, or its 1.9 value; trainer.precision reports the same string. A clause calling this
    declares the change "precision_flag_names"."""
    return name if contract.has("precision_flag_names") else PRECISION_BEFORE_2_0[name]


def labelled_loader(length: int = 8) -> DataLoader:
    """Batches of ``(float32 features, int64 labels)``."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(length, FEATURES, generator=generator)
    return DataLoader(TensorDataset(features, torch.arange(length)), batch_size=BATCH_SIZE)


def probing_steps(probe, seen: dict) -> dict:
    """Overrides of the four *_step methods that store ``probe(self, batch)`` in ``seen``
    under the step's name (first call only) and then compute as the scenario module does."""

    def make(name):
        def step(self, batch, batch_idx):
            seen.setdefault(name, probe(self, batch))
            output = self.layer(batch)
            if name == "training_step":
                return output.sum()
            return output if name == "predict_step" else None

        return step

    return {name: make(name) for name in STEPS}


def run_every_stage(target, new_module, **trainer_kwargs):
    """fit (one training and one validation batch), then test and predict on one batch each,
    each stage on a fresh module from ``new_module()``."""
    target.fit(new_module(), **fit_settings(limit_train_batches=1, limit_val_batches=1,
                                            num_sanity_val_steps=0, **trainer_kwargs))
    target.test(new_module(), limit_test_batches=1, **trainer_kwargs)
    target.predict(new_module(), limit_predict_batches=1, **trainer_kwargs)


def require_cuda_devices(clause_id: str, count: int) -> None:
    """Skip (inside the clause) unless torch sees at least ``count`` CUDA devices."""
    seen = torch.cuda.device_count()
    if seen < count:
        pytest.skip(f"{clause_id} needs {count} CUDA devices; torch {torch.__version__} "
                    f"sees {seen}")


def require_no_cuda(clause_id: str) -> None:
    """Skip (inside the clause) where torch sees a CUDA device: the clause is about its absence."""
    if torch.cuda.is_available():
        pytest.skip(f"{clause_id} checks a machine without CUDA; torch {torch.__version__} "
                    f"sees {torch.cuda.device_count()} CUDA device(s)")


@contextmanager
def isolated_environment(**variables: str):
    """Set environment variables for a block and restore the whole environment afterwards
    (Lightning's DDP setup writes MASTER_PORT and rank variables into ``os.environ``)."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
