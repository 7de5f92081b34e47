"""CKPT: ``LightningModule.load_from_checkpoint``: weights, hyperparameters, strictness, hooks."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import fit_and_save, hparams_module_class, read

SAVING = "lightning/pytorch/core/saving.py::_load_from_checkpoint"
HPARAMS_TEST = "tests/tests_pytorch/models/test_hparams.py"


def _saved(target, **hparams):
    """A fitted HparamsModule class and the checkpoint it saved after fit."""
    cls = hparams_module_class(target.pl)
    path = target.root / "model.ckpt"
    fit_and_save(target, cls(**hparams), path)
    return cls, path


@clause(
    "CKPT-010",
    "load_from_checkpoint restores every tensor of the saved state_dict bit for bit.",
    source=f"{SAVING}; tests/tests_pytorch/models/test_restore.py",
)
@requires("checkpoint")
def test_weights_round_trip(target):
    cls, path = _saved(target)
    model = cls.load_from_checkpoint(str(path))
    saved = read(path)["state_dict"]

    assert sorted(saved) == sorted(model.state_dict())
    assert [] == [key for key, value in model.state_dict().items()
                  if not torch.equal(value, saved[key])]


@clause(
    "CKPT-011",
    "load_from_checkpoint builds the class from the saved hparams; keyword arguments override them.",
    source=f"{SAVING}::_load_state; {HPARAMS_TEST}::test_model_ignores_non_exist_kwargument",
)
@requires("checkpoint")
def test_hparams_round_trip(target):
    cls, path = _saved(target, lr=0.2, hidden=8)

    assert {"lr": 0.2, "hidden": 8, "extra": None} == dict(cls.load_from_checkpoint(str(path)).hparams)
    model = cls.load_from_checkpoint(str(path), lr=0.5)
    assert {"lr": 0.5, "hidden": 8, "extra": None} == dict(model.hparams)


@clause(
    "CKPT-012",
    "load_from_checkpoint called on an instance raises a TypeError.",
    source="lightning/pytorch/utilities/model_helpers.py::_restricted_classmethod_impl",
    versions=">=2.1",
)
@requires("checkpoint")
def test_load_on_instance_raises(target):
    cls, path = _saved(target)

    message = f"The classmethod `{cls.__name__}.load_from_checkpoint` cannot be called on an instance"
    with pytest.raises(TypeError, match=re.escape(message)):
        cls().load_from_checkpoint(str(path))


@clause(
    "CKPT-013",
    "Loading weights with an unexpected key fails when strict, and loads the rest with strict=False.",
    source="tests/tests_pytorch/models/test_restore.py::test_strict_model_load_more_params",
)
@requires("checkpoint")
def test_strict_loading(target):
    cls, path = _saved(target)
    checkpoint = read(path)
    checkpoint["state_dict"]["surplus.weight"] = torch.zeros(1)
    torch.save(checkpoint, path)

    with pytest.raises(RuntimeError, match=re.escape('Unexpected key(s) in state_dict: "surplus')):
        cls.load_from_checkpoint(str(path))
    model = cls.load_from_checkpoint(str(path), strict=False)
    assert torch.equal(checkpoint["state_dict"]["layer.weight"], model.layer.weight)


@clause(
    "CKPT-014",
    "load_from_checkpoint passes map_location to torch.load, which calls it for every storage.",
    source=SAVING,
)
@requires("checkpoint")
def test_map_location(target):
    cls, path = _saved(target)
    locations = []

    def keep_on_cpu(storage, location):
        locations.append(location)
        return storage

    model = cls.load_from_checkpoint(str(path), map_location=keep_on_cpu)
    assert locations and {"cpu"} == set(locations)
    assert torch.device("cpu") == model.layer.weight.device


@clause(
    "CKPT-015",
    "A model from load_from_checkpoint is in training mode and is attached to no Trainer.",
    source=f"{SAVING}; lightning/pytorch/core/module.py::trainer",
)
@requires("checkpoint")
def test_loaded_model_state(target):
    cls, path = _saved(target)
    model = cls.load_from_checkpoint(str(path))

    assert model.training
    with pytest.raises(RuntimeError, match=re.escape("is not attached to a `Trainer`")):
        model.trainer  # noqa: B018


@clause(
    "CKPT-016",
    "load_from_checkpoint calls on_load_checkpoint before loading weights; its edits are loaded.",
    source="tests/tests_pytorch/models/test_hooks.py::test_load_from_checkpoint_hook_calls",
)
@requires("checkpoint")
def test_on_load_checkpoint_before_weights(target):
    cls, path = _saved(target)

    class Zeroing(cls):
        def on_load_checkpoint(self, checkpoint):
            checkpoint["state_dict"]["layer.bias"] = torch.zeros(2)

    model = Zeroing.load_from_checkpoint(str(path))
    assert torch.equal(torch.zeros(2), model.layer.bias)
    assert torch.equal(read(path)["state_dict"]["layer.weight"], model.layer.weight)
