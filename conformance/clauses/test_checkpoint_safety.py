"""CKPT: which checkpoints load under ``torch.load(weights_only=True)``, per Lightning version.

Note: the expectations assume torch >= 2.6, whose ``torch.load`` defaults to weights_only=True.
"""

import pickle
import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import (
    Opaque,
    fit_and_save,
    hparams_module_class,
    read,
)

SAVING = "lightning/pytorch/core/saving.py::_load_from_checkpoint"
CLOUD_IO = "lightning/fabric/utilities/cloud_io.py::_load"
REFUSED = "Weights only load failed"


def _opaque_checkpoint(target):
    cls = hparams_module_class(target.pl)
    path = target.root / "opaque.ckpt"
    fit_and_save(target, cls(extra=Opaque(3)), path)
    return cls, str(path)


@clause(
    "CKPT-029",
    "A checkpoint of a module with primitive hparams loads with torch.load(weights_only=True).",
    source=CLOUD_IO,
)
@requires("checkpoint")
def test_primitive_checkpoint_is_weights_only_safe(target):
    cls = hparams_module_class(target.pl)
    path = target.root / "plain.ckpt"
    fit_and_save(target, cls(lr=0.3), path)
    checkpoint = read(path, weights_only=True)

    assert {"lr": 0.3, "hidden": 4, "extra": None} == checkpoint["hyper_parameters"]
    assert torch.is_tensor(checkpoint["state_dict"]["layer.weight"])


@clause(
    "CKPT-030",
    "load_from_checkpoint unpickles custom-class hparams only in 2.4 and 2.5 (weights_only=False).",
    source=f"{SAVING}; {CLOUD_IO}",
    changes=("checkpoint_load_weights_only_false", "weights_only_follows_torch_default"),
)
@requires("checkpoint")
def test_custom_class_hparams_default_loading(target, contract):
    cls, path = _opaque_checkpoint(target)
    full_unpickling = contract.has("checkpoint_load_weights_only_false") and not contract.has(
        "weights_only_follows_torch_default"
    )

    if full_unpickling:
        assert Opaque(3) == cls.load_from_checkpoint(path).hparams.extra
    else:
        with pytest.raises(pickle.UnpicklingError, match=re.escape(REFUSED)):
            cls.load_from_checkpoint(path)


@clause(
    "CKPT-031",
    "fit(ckpt_path=...) refuses a checkpoint with custom-class hparams unless loading unpickles all.",
    source="lightning/pytorch/trainer/connectors/checkpoint_connector.py::resume_start",
    changes=("checkpoint_load_weights_only_false", "weights_only_follows_torch_default"),
)
@requires("checkpoint")
def test_custom_class_hparams_resume(target, contract):
    cls, path = _opaque_checkpoint(target)
    full_unpickling = contract.has("checkpoint_load_weights_only_false") and not contract.has(
        "weights_only_follows_torch_default"
    )
    settings = {"max_epochs": 3, "limit_train_batches": 2, "limit_val_batches": 0}

    if full_unpickling:
        assert 6 == target.fit(cls(), ckpt_path=path, **settings).trainer.global_step
    else:
        with pytest.raises(pickle.UnpicklingError, match=re.escape(REFUSED)):
            target.fit(cls(), ckpt_path=path, **settings)


@clause(
    "CKPT-032",
    "load_from_checkpoint(weights_only=False) loads a checkpoint holding custom-class hparams.",
    source=f"{SAVING} (weights_only argument, Lightning 2.6 PR #21072)",
    versions=">=2.6",
)
@requires("checkpoint")
def test_weights_only_false_argument(target):
    cls, path = _opaque_checkpoint(target)

    assert Opaque(3) == cls.load_from_checkpoint(path, weights_only=False).hparams.extra
