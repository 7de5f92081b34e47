"""MAN: what a manual training_step may return, and the logging step axis in manual mode."""

import re
from types import MappingProxyType

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._manual import fit_manual, manual_module, manual_step

MANUAL_LOOP = "lightning/pytorch/loops/optimization/manual.py"
MANUAL_TESTS = "tests/tests_pytorch/trainer/optimization/test_manual_optimization.py"


def _returning(make_output):
    """A manual training_step that steps as usual, then returns ``make_output(loss)``."""

    def training_step(self, batch, batch_idx):
        return make_output(manual_step(self, batch, batch_idx))

    return training_step


def _batch_end_outputs(target, make_output, **features):
    """The ``outputs`` the module's on_train_batch_end received, one per batch."""

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.outputs.append(outputs)

    module = manual_module(target, training_step=_returning(make_output),
                           overrides={"on_train_batch_end": on_train_batch_end}, **features)
    module.outputs = []
    fit_manual(target, module, limit_train_batches=1)
    return module.outputs


def _detached(loss):
    return isinstance(loss, torch.Tensor) and not loss.requires_grad and loss.grad_fn is None


@clause(
    "MAN-019",
    "A Tensor or dict from a manual training_step reaches on_train_batch_end, its loss detached.",
    source=f"{MANUAL_TESTS}::test_manual_optimization_and_return_tensor",
)
@requires("manual_optimization")
def test_tensor_and_dict_outputs(target):
    (tensor,) = _batch_end_outputs(target, lambda loss: loss)
    (mapping,) = _batch_end_outputs(target, lambda loss: {"loss": loss, "extra": 7})

    assert (["loss"], True) == (list(tensor), _detached(tensor["loss"]))
    assert (["loss", "extra"], True, 7) == (list(mapping), _detached(mapping["loss"]),
                                            mapping["extra"])


@clause(
    "MAN-020",
    "A manual training_step returning neither None, a Tensor nor a Mapping makes fit raise.",
    source=f"{MANUAL_LOOP}::ManualResult.from_training_step_output",
    changes=("manual_output_error_without_epoch_end",),
)
@requires("manual_optimization")
def test_other_outputs_raise(target, contract):
    if contract.has("manual_output_error_without_epoch_end"):
        message = ("In manual optimization, `training_step` must either return a Tensor or have"
                   " no return.")
    else:
        message = ("In manual optimization, `training_step` must either return a Tensor, a dict"
                   " with extras to pass to `training_epoch_end` or have no return.")

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _batch_end_outputs(target, lambda loss: 7)


@clause(
    "MAN-021",
    "A manual training_step may return any Mapping (2.5.3+); before, only a dict.",
    source=f"{MANUAL_LOOP}::ManualResult.from_training_step_output",
    changes=("manual_step_returns_mapping",),
)
@requires("manual_optimization")
def test_mapping_output(target, contract):
    def read_only(loss):
        return MappingProxyType({"loss": loss, "extra": 7})

    if contract.has("manual_step_returns_mapping"):
        (outputs,) = _batch_end_outputs(target, read_only)
        assert (["loss", "extra"], True) == (list(outputs), _detached(outputs["loss"]))
    else:
        with pytest.raises(target.pl.MisconfigurationException, match="must either return"):
            _batch_end_outputs(target, read_only)


@clause(
    "MAN-022",
    "The Trainer never back-propagates or steps with the loss a manual training_step returns.",
    source=f"{MANUAL_LOOP}::_ManualOptimization.advance",
)
@requires("manual_optimization")
def test_returned_loss_not_used(target):
    def training_step(self, batch, batch_idx):
        return self.layer(batch).sum()

    module = manual_module(target, training_step=training_step)
    before = module.layer.weight.detach().clone()

    run = fit_manual(target, module)

    assert [] == run.trace.calls("backward")
    assert 0 == run.trainer.global_step
    assert module.layer.weight.grad is None
    assert torch.equal(before, module.layer.weight)


@clause(
    "MAN-026",
    "A manual training_step returning None gives on_train_batch_end an empty dict.",
    source=f"{MANUAL_LOOP}::ManualResult.from_training_step_output",
    changes=("manual_none_output_empty_dict",),
)
@requires("manual_optimization")
def test_none_output(target, contract):
    empty = {} if contract.has("manual_none_output_empty_dict") else []

    assert [empty] == _batch_end_outputs(target, lambda loss: None)


@clause(
    "MAN-027",
    "In manual mode the logger's step advances once per batch, whatever the optimizer steps.",
    source=f"{MANUAL_TESTS}::test_multiple_optimizers_manual_log",
)
@requires("manual_optimization", "logging")
def test_logging_step_axis(target):
    def training_step(self, batch, batch_idx):
        loss = manual_step(self, batch, batch_idx)
        self.log("loss", loss, on_step=True, on_epoch=False)

    logger = target.logger()
    module = manual_module(target, optimizers=2, training_step=training_step)

    run = fit_manual(target, module, limit_train_batches=3, log_every_n_steps=1, logger=logger)

    assert 6 == run.trainer.global_step
    assert [0, 1, 2] == [step for metrics, step in logger.calls if "loss" in metrics]
