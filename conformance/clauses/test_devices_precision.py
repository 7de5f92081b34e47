"""DEV: the precision plugins on the CPU: dtypes of parameters, batches and new tensors,
autocast inside the *_step methods and nowhere else, and the Trainer's precision values."""

import re
import warnings

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._devices import (
    autocast_dtype,
    fit_settings,
    labelled_loader,
    precision,
    probing_steps,
    run_every_stage,
)

PLUGINS = "lightning/pytorch/plugins/precision"
CONNECTOR = "lightning/pytorch/trainer/connectors/accelerator_connector.py"
CONVERT = "lightning/fabric/connector.py::_convert_precision_to_unified_args"
STEP_CONTEXTS = f"{PLUGINS}/precision.py::Precision.train_step_context"


def _fit_probing(target, probe, **settings):
    """Fit one batch with a training_step that records ``probe(self, batch)``; return it."""
    seen = {}
    module = target.module(overrides=probing_steps(probe, seen))
    run = target.fit(module, **fit_settings(limit_train_batches=1, **settings))
    return run, seen["training_step"]


@clause(
    "DEV-006",
    "By default trainer.precision is '32-true': float32 parameters, no autocast in training_step.",
    source=f"{PLUGINS}/precision.py::Precision",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_default_precision(target, contract):
    # Note: the Trainer's default is precision=None from 2.1 and "32-true" in 2.0; not passed.
    run, seen = _fit_probing(target, lambda self, batch: (
        self.layer.weight.dtype, batch.dtype, autocast_dtype()))

    assert precision(contract, "32-true") == run.trainer.precision
    assert (torch.float32, torch.float32, None) == seen


@clause(
    "DEV-007",
    "With 'bf16-mixed', every *_step method runs under CPU autocast with dtype bfloat16.",
    source=f"{PLUGINS}/amp.py::MixedPrecision.forward_context",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_bf16_mixed_autocast_in_steps(target, contract):
    seen = {}
    run_every_stage(target, lambda: target.module(overrides=probing_steps(
        lambda self, batch: (autocast_dtype(), self.layer(batch).dtype), seen)),
        precision=precision(contract, "bf16-mixed"))

    expected = dict.fromkeys(("training_step", "validation_step", "test_step", "predict_step"),
                             (torch.bfloat16, torch.bfloat16))
    assert expected == seen


_OUTSIDE_STEPS = ("on_before_batch_transfer", "on_after_batch_transfer", "on_train_batch_start",
                  "on_before_backward", "on_after_backward", "on_before_optimizer_step",
                  "on_train_batch_end")


def _recording_autocast(hook, seen):
    def method(self, *args):
        seen.setdefault(hook, autocast_dtype())
        return args[0] if hook.endswith("batch_transfer") else None

    return method


@clause(
    "DEV-008",
    "With 'bf16-mixed', autocast is off in the transfer, batch, backward and optimizer-step hooks.",
    source=STEP_CONTEXTS,
    changes=("precision_flag_names",),
)
@requires("devices")
def test_bf16_mixed_autocast_only_in_steps(target, contract):
    seen = {}

    def backward(self, loss, *args, **kwargs):
        # Note: automatic optimization passes no extra arguments (1.9: optimizer, optimizer_idx).
        seen.setdefault("backward", autocast_dtype())
        loss.backward()

    overrides = {hook: _recording_autocast(hook, seen) for hook in _OUTSIDE_STEPS}
    module = target.module(overrides={**overrides, "backward": backward})
    target.fit(module, precision=precision(contract, "bf16-mixed"),
               **fit_settings(limit_train_batches=1))

    assert dict.fromkeys((*_OUTSIDE_STEPS, "backward")) == seen


@clause(
    "DEV-009",
    "With 'bf16-mixed', parameters and their gradients stay float32 and trainer.scaler is None.",
    source=f"{PLUGINS}/amp.py::MixedPrecision",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_bf16_mixed_keeps_float32_parameters(target, contract):
    grads = []

    def on_before_optimizer_step(self, optimizer, *optimizer_idx):  # 1.9 passes optimizer_idx
        grads.append(self.layer.weight.grad.dtype)

    module = target.module(overrides={"on_before_optimizer_step": on_before_optimizer_step})
    bf16 = precision(contract, "bf16-mixed")
    run = target.fit(module, precision=bf16, **fit_settings(limit_train_batches=1))

    assert bf16 == run.trainer.precision
    assert run.trainer.scaler is None
    assert {torch.float32} == {param.dtype for param in run.module.parameters()}
    assert [torch.float32] == grads


@clause(
    "DEV-010",
    "precision='16-mixed' on the CPU warns that fp16 AMP is unsupported and runs as 'bf16-mixed'.",
    source=f"{CONNECTOR}::_AcceleratorConnector._check_and_init_precision",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_16_mixed_on_cpu_falls_back_to_bf16(target, contract):
    if contract.has("precision_flag_names"):
        message = ("You passed `Trainer(accelerator='cpu', precision='16-mixed')` but AMP with"
                   " fp16 is not supported on CPU. Using `precision='bf16-mixed'` instead.")
    else:
        message = ("You passed `Trainer(accelerator='cpu', precision=16)` but native AMP is not"
                   " supported on CPU. Using `precision='bf16'` instead.")

    with pytest.warns(UserWarning, match=re.escape(message)):
        run, seen = _fit_probing(target, lambda self, batch: autocast_dtype(),
                                 precision=precision(contract, "16-mixed"))

    assert precision(contract, "bf16-mixed") == run.trainer.precision
    assert torch.bfloat16 == seen


@clause(
    "DEV-011",
    "With '64-true', parameters are float64 from on_fit_start on, and stay float64 after fit.",
    source=f"{PLUGINS}/double.py::DoublePrecision.convert_module",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_double_precision_parameters(target, contract):
    seen = []

    def on_fit_start(self):
        seen.append(self.layer.weight.dtype)

    module = target.module(overrides={"on_fit_start": on_fit_start})
    double = precision(contract, "64-true")
    run = target.fit(module, precision=double, **fit_settings())

    assert double == run.trainer.precision
    assert [torch.float64] == seen
    assert {torch.float64} == {param.dtype for param in run.module.parameters()}


def _labelled_module(target, seen, **overrides):
    def training_step(self, batch, batch_idx):
        features, labels = batch
        seen.setdefault("training_step", (features.dtype, labels.dtype))
        return self.layer(features).sum()

    return target.module(overrides={"train_dataloader": lambda self: labelled_loader(),
                                    "training_step": training_step, **overrides})


@clause(
    "DEV-012",
    "With '64-true', float batch tensors reach training_step as float64; integer ones keep their dtype.",
    source=f"{PLUGINS}/double.py::DoublePrecision.convert_input",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_double_precision_batches(target, contract):
    seen = {}
    target.fit(_labelled_module(target, seen), precision=precision(contract, "64-true"),
               **fit_settings())

    assert (torch.float64, torch.int64) == seen["training_step"]


@clause(
    "DEV-013",
    "With '64-true', float batches are float64 already in on_before_batch_transfer (2.0: in the step).",
    source="lightning/pytorch/loops/training_epoch_loop.py::_TrainingEpochLoop.advance",
    changes=("double_precision_converts_input_first", "precision_flag_names"),
)
@requires("devices")
def test_double_precision_converts_before_transfer(target, contract):
    seen = {}

    def on_before_batch_transfer(self, batch, dataloader_idx):
        seen.setdefault("on_before_batch_transfer", tuple(t.dtype for t in batch))
        return batch

    module = _labelled_module(target, seen, on_before_batch_transfer=on_before_batch_transfer)
    target.fit(module, precision=precision(contract, "64-true"), **fit_settings())

    early = contract.has("double_precision_converts_input_first")
    expected = (torch.float64 if early else torch.float32, torch.int64)
    assert expected == seen["on_before_batch_transfer"]
    assert (torch.float64, torch.int64) == seen["training_step"]


@clause(
    "DEV-014",
    "With '64-true', new tensors default to float64 inside a *_step and to float32 in other hooks.",
    source=f"{PLUGINS}/double.py::DoublePrecision.forward_context",
    changes=("precision_flag_names",),
)
@requires("devices")
def test_double_precision_default_dtype(target, contract):
    seen = {}
    hook = _recording_default_dtype("on_train_batch_start", seen)
    steps = probing_steps(lambda self, batch: torch.get_default_dtype(), seen)
    run_every_stage(target, lambda: target.module(overrides={**steps,
                                                             "on_train_batch_start": hook}),
                    precision=precision(contract, "64-true"))

    expected = {"on_train_batch_start": torch.float32,
                **dict.fromkeys(("training_step", "validation_step", "test_step",
                                 "predict_step"), torch.float64)}
    assert expected == seen


def _recording_default_dtype(hook, seen):
    def method(self, *args):
        seen.setdefault(hook, torch.get_default_dtype())

    return method


@clause(
    "DEV-015",
    "With 'bf16-true' or '16-true', parameters, float batches and new tensors take that dtype.",
    source=f"{PLUGINS}/half.py::HalfPrecision",
    versions=">=2.1",
)
@requires("devices")
@pytest.mark.parametrize(("precision", "dtype"), [("bf16-true", torch.bfloat16),
                                                  ("16-true", torch.float16)])
def test_true_half_precision(target, precision, dtype):
    run, seen = _fit_probing(target, lambda self, batch: (
        self.layer.weight.dtype, batch.dtype, torch.get_default_dtype(), autocast_dtype()),
        precision=precision)

    assert precision == run.trainer.precision
    assert (dtype, dtype, dtype, None) == seen


@clause(
    "DEV-016",
    "An unknown precision value raises ValueError: 'Precision ... is invalid' with the allowed values.",
    source=CONVERT,
    changes=("invalid_precision_value_error",),
)
@requires("devices")
def test_unknown_precision_rejected(target, contract):
    message = "Precision 'fp8' is invalid. Allowed precision values: ("
    error = (ValueError if contract.has("invalid_precision_value_error")
             else target.pl.MisconfigurationException)

    with pytest.raises(error, match=re.escape(message)):
        target.fit(target.module(), precision="fp8", **fit_settings())


def _precision_warnings(target, value):
    """trainer.precision for Trainer(precision=value), and the 'historical reasons' warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = target.pl.Trainer(precision=value, **target.adapter.trainer_settings(
            str(target.root)))
    texts = [str(w.message) for w in caught if "historical reasons" in str(w.message)]
    return trainer.precision, texts


@clause(
    "DEV-017",
    "Legacy precision 16 and 'bf16' warn and become '-mixed' names; 64 and 32 become '-true' silently.",
    source=CONVERT,
    changes=("precision_flag_names",),
)
@requires("devices")
def test_legacy_precision_values(target, contract):
    advice = "is supported for historical reasons but its usage is discouraged. Please set your"

    def advised(name):
        # 1.9: these values are the precision names themselves, given without advice
        if not contract.has("precision_flag_names"):
            return []
        return [f"{advice} precision to {name} instead!"]

    quiet = {value: _precision_warnings(target, value) for value in (64, "64", 32, "32")}
    bf16, bf16_warnings = _precision_warnings(target, "bf16")
    _, sixteen_warnings = _precision_warnings(target, 16)

    double, single = precision(contract, "64-true"), precision(contract, "32-true")
    assert {64: (double, []), "64": (double, []), 32: (single, []),
            "32": (single, [])} == quiet
    assert precision(contract, "bf16-mixed") == bf16
    assert advised("bf16-mixed") == [text[text.index(advice):] for text in bf16_warnings]
    assert advised("16-mixed") == [text[text.index(advice):] for text in sixteen_warnings]
