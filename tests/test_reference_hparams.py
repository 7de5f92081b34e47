"""``save_hyperparameters``, which no clause pins yet: the reference saves what Lightning saves.

Each case defines the same module on both namespaces, builds it and compares what a user
sees: ``hparams``, ``hparams_initial``, the warnings, or the exception and its message.
"""

import warnings

import pytest
import torch

from lightning_conformance.adapters import load_target

REFERENCE, LIGHTNING = load_target("reference").pl, load_target("lightning").pl


def _all_arguments(pl):
    class Module(pl.LightningModule):
        def __init__(self, lr=0.1, name="tiny"):
            super().__init__()
            self.save_hyperparameters()

    return Module(lr=0.5)


def _named(pl):
    class Module(pl.LightningModule):
        def __init__(self, lr=0.1, name="tiny"):
            super().__init__()
            self.save_hyperparameters("lr")

    return Module()


def _ignored(pl):
    class Module(pl.LightningModule):
        def __init__(self, lr=0.1, layer=None):
            super().__init__()
            self.save_hyperparameters(ignore="layer")

    return Module(layer=torch.nn.Linear(1, 1))


def _one_dict(pl):
    class Module(pl.LightningModule):
        def __init__(self, config):
            super().__init__()
            self.save_hyperparameters(config)

    return Module({"lr": 0.2, "depth": 3})


def _empty_dict(pl):
    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.save_hyperparameters({})

    return Module()


def _keyword_arguments(pl):
    class Module(pl.LightningModule):
        def __init__(self, lr=0.1, **kwargs):
            super().__init__()
            self.save_hyperparameters()

    return Module(extra=3)


def _subclass(pl):
    class Base(pl.LightningModule):
        def __init__(self, lr=0.1, depth=1):
            super().__init__()
            self.save_hyperparameters()

    class Child(Base):
        def __init__(self, width=4, lr=0.3):
            super().__init__(lr=lr, depth=2)

    return Child()


def _a_module_argument(pl):
    class Module(pl.LightningModule):
        def __init__(self, layer):
            super().__init__()
            self.save_hyperparameters()

    return Module(torch.nn.Linear(1, 1))


def _not_a_dict(pl):
    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.save_hyperparameters(5)

    return Module()


def _changed_after_saving(pl):
    module = _all_arguments(pl)
    module.hparams.lr = 1.0
    return module


CASES = [_all_arguments, _named, _ignored, _one_dict, _empty_dict, _keyword_arguments, _subclass,
         _a_module_argument, _not_a_dict, _changed_after_saving]


def _seen(build, pl) -> tuple:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = build(pl)
        except Exception as error:
            return "raised", type(error).__name__, str(error)
    hparams = {key: repr(value) for key, value in module.hparams.items()}
    initial = {key: repr(value) for key, value in module.hparams_initial.items()}
    saved = sorted({str(w.message) for w in caught if "hyperparameters" in str(w.message)})
    return hparams, initial, saved


@pytest.mark.parametrize("build", CASES, ids=lambda build: build.__name__.strip("_"))
def test_the_reference_saves_what_lightning_saves(build):
    assert _seen(build, LIGHTNING) == _seen(build, REFERENCE)


def test_a_missing_hyperparameter_is_an_attribute_error_on_both():
    for pl in (LIGHTNING, REFERENCE):
        with pytest.raises(AttributeError, match="'AttributeDict' object has no attribute 'depth'"):
            _named(pl).hparams.depth  # noqa: B018
