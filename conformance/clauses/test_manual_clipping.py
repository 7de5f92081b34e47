"""MAN: Trainer flags manual optimization rejects, manual clip_gradients, toggling optimizers."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._manual import fit_manual, manual_module

MODULE = "lightning/pytorch/core/module.py"
VALIDATOR = "lightning/pytorch/trainer/configuration_validator.py"
MODULE_TESTS = "tests/tests_pytorch/core/test_lightning_module.py"


def _clipping_step(clip_val, algorithm):
    """A manual training_step that clips with ``clip_gradients`` between backward and step."""

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(self.layer(batch).sum() * 100)
        self.clip_gradients(optimizer, gradient_clip_val=clip_val,
                            gradient_clip_algorithm=algorithm)
        self.grads.append([p.grad.detach().clone() for p in self.parameters()])
        optimizer.step()

    return training_step


def _fit_clipping(target, clip_val, algorithm, **trainer_kwargs):
    module = manual_module(target, training_step=_clipping_step(clip_val, algorithm))
    module.grads = []
    fit_manual(target, module, limit_train_batches=1, **trainer_kwargs)
    return module.grads[0]


@clause(
    "MAN-011",
    "Trainer(gradient_clip_val>0) with a manual-optimization module makes fit raise.",
    source=f"{VALIDATOR}::__verify_manual_optimization_support",
)
@requires("manual_optimization")
def test_gradient_clip_val_rejected(target):
    message = ("Automatic gradient clipping is not supported for manual optimization. Remove"
               " `Trainer(gradient_clip_val=0.5)`")

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        fit_manual(target, manual_module(target), gradient_clip_val=0.5)


@clause(
    "MAN-012",
    "Trainer(accumulate_grad_batches>1) with a manual-optimization module makes fit raise.",
    source=f"{VALIDATOR}::__verify_manual_optimization_support",
)
@requires("manual_optimization")
def test_accumulate_grad_batches_rejected(target):
    message = ("Automatic gradient accumulation is not supported for manual optimization."
               " Remove `Trainer(accumulate_grad_batches=2)`")

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        fit_manual(target, manual_module(target), accumulate_grad_batches=2)


@clause(
    "MAN-013",
    "self.clip_gradients in a manual training_step clips the gradients by value or by norm.",
    source=f"{MODULE}::LightningModule.clip_gradients",
)
@requires("manual_optimization")
def test_manual_clip_gradients(target):
    by_value = _fit_clipping(target, 0.01, "value")
    by_norm = _fit_clipping(target, 0.01, None)  # the default algorithm is "norm"

    assert max(grad.abs().max().item() for grad in by_value) <= 0.01
    total_norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in by_norm])).item()
    assert total_norm == pytest.approx(0.01, rel=1e-3)


@clause(
    "MAN-014",
    "clip_gradients raises TypeError for a non-numeric value and rejects an unknown algorithm.",
    source=f"{MODULE}::LightningModule.clip_gradients",
)
@requires("manual_optimization")
def test_clip_gradients_bad_arguments(target):
    value_message = "`gradient_clip_val` should be an int or a float. Got 0.5."
    algorithm_message = "`gradient_clip_algorithm` unknown is invalid. Allowed algorithms:"

    with pytest.raises(TypeError, match=re.escape(value_message)):
        _fit_clipping(target, "0.5", "norm")
    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(algorithm_message)):
        _fit_clipping(target, 0.5, "unknown")


@clause(
    "MAN-015",
    "clip_gradients with a value other than the Trainer's gradient_clip_val raises.",
    source=f"{MODULE_TESTS}::test_lightning_module_configure_gradient_clipping_different_argument_values",
)
@requires("manual_optimization")
def test_clip_gradients_conflicts_with_trainer(target):
    # gradient_clip_val=0 is allowed with manual optimization, but it is still the Trainer's value
    message = ("You have set `Trainer(gradient_clip_val=0)` and have passed"
               " `clip_gradients(gradient_clip_val=0.5)`. Please use only one of them.")

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _fit_clipping(target, 0.5, "norm", gradient_clip_val=0)


# ---- toggling: with two optimizers, one owns layer.weight and the other layer.bias ----


def _flags(self):
    return self.layer.weight.requires_grad, self.layer.bias.requires_grad


def _toggle(contract, module, optimizer, index):
    # Before 2.0 the optimizer's index was passed beside it (change toggle_optimizer_takes_optimizer).
    if contract.has("toggle_optimizer_takes_optimizer"):
        module.toggle_optimizer(optimizer)
    else:
        module.toggle_optimizer(optimizer, index)


def _untoggle(contract, module, optimizer, index):
    if contract.has("toggle_optimizer_takes_optimizer"):
        module.untoggle_optimizer(optimizer)
    else:
        module.untoggle_optimizer(index)


def _fit_toggling(target, steps):
    """Run ``steps(self, first, second)`` in a manual training_step; return what it recorded."""

    def training_step(self, batch, batch_idx):
        steps(self, *self.optimizers())

    module = manual_module(target, optimizers=2, training_step=training_step)
    module.flags = []
    fit_manual(target, module, limit_train_batches=1)
    return module.flags


@clause(
    "MAN-016",
    "toggle_optimizer(opt) sets requires_grad=False on the other optimizers' parameters only.",
    source=f"{MODULE_TESTS}::test_toggle_untoggle_2_optimizers_no_shared_parameters",
    changes=("toggle_optimizer_takes_optimizer",),
)
@requires("manual_optimization")
def test_toggle_optimizer(target, contract):
    def steps(self, first, second):
        _toggle(contract, self, first, 0)
        self.flags.append(_flags(self))
        _toggle(contract, self, second, 1)  # toggling again starts from the current flags
        self.flags.append(_flags(self))

    assert [(True, False), (False, False)] == _fit_toggling(target, steps)


@clause(
    "MAN-017",
    "untoggle_optimizer(opt) gives the other parameters back the flags toggle_optimizer saved.",
    source=f"{MODULE_TESTS}::test_toggle_untoggle_2_optimizers_no_shared_parameters",
    changes=("toggle_optimizer_takes_optimizer",),
)
@requires("manual_optimization")
def test_untoggle_optimizer(target, contract):
    def steps(self, first, second):
        _toggle(contract, self, second, 1)
        _untoggle(contract, self, second, 1)
        self.flags.append(_flags(self))

    assert [(True, True)] == _fit_toggling(target, steps)


@clause(
    "MAN-018",
    "toggled_optimizer(opt) toggles opt inside its with block and untoggles it on exit.",
    source=f"{MODULE_TESTS}::test_optimizer_toggle_model_context_manager",
    versions=">=2.5.2",
)
@requires("manual_optimization")
def test_toggled_optimizer(target):
    def steps(self, first, second):
        with self.toggled_optimizer(second):
            self.flags.append(_flags(self))
        self.flags.append(_flags(self))

    assert [(False, True), (True, True)] == _fit_toggling(target, steps)
