"""Devices and precision: where the module and its batches live, and in which dtype steps run.

Lightning's ``trainer/connectors/accelerator_connector.py`` (the checks and their messages) and
its precision plugins (``plugins/precision/``). What each ``precision`` value does to a run::

    "32-true"     nothing
    "64-true"     module.double(); float batch tensors to float64 before on_before_batch_transfer;
                  float64 is the default dtype inside the *_step methods and configure_model
    "16-true"     the same in float16 (and "bf16-true" in bfloat16)
    "bf16-mixed"  autocast(bfloat16) around each *_step; parameters stay float32
    "16-mixed"    autocast(float16) around each *_step, and a GradScaler: the loss is scaled
                  before on_before_backward, the gradients unscaled before
                  on_before_optimizer_step, the step skipped when they are not finite.
                  On the CPU it becomes "bf16-mixed" with a warning.

Nothing else touches dtypes: hooks outside the *_step methods run without autocast.
The CUDA paths (root device cuda:0, the GradScaler) mirror Lightning's source.
"""

import warnings
from contextlib import contextmanager, nullcontext

import torch

from .data import _apply
from .errors import MisconfigurationException, unsupported

__all__ = [
    "DoublePrecision",
    "HalfPrecision",
    "MixedPrecision",
    "Precision",
    "connect",
    "load_precision_state",
    "parse_accelerator",
    "parse_precision",
    "precision_state",
]

# Lightning 2.6's accepted values, in the order its error message lists them
_NAMES = ("transformer-engine", "transformer-engine-float16", "16-true", "16-mixed", "bf16-true",
          "bf16-mixed", "32-true", "64-true")  # fmt: skip
_ALIASES = {"64": "64-true", "32": "32-true", "16": "16-mixed", "bf16": "bf16-mixed"}
_SUPPORTED = (*_NAMES, 64, 32, 16, *_ALIASES)
_ACCELERATORS = ("cpu", "cuda", "mps", "tpu")  # the names Lightning registers
# the hooks that run in the plugin's step context (Lightning: strategy.training_step and co.)
_STEP_HOOKS = frozenset({"training_step", "validation_step", "test_step", "predict_step"})
_NO_CONTEXT = nullcontext()  # holds no state, so one instance serves every hook


def parse_precision(precision):
    """The full precision name for a Trainer's ``precision`` argument (None -> "32-true")."""
    if precision is None:
        return "32-true"
    if precision not in _SUPPORTED:
        raise ValueError(
            f"Precision {precision!r} is invalid. Allowed precision values: {_SUPPORTED}"
        )
    precision = str(precision)  # 16 -> "16", so that the integer flags are aliases too
    if precision in _ALIASES:
        if precision[:2] not in ("32", "64"):  # "16" and "bf16" are discouraged
            warnings.warn(
                f"`precision={precision}` is supported for historical reasons but its usage is"
                f" discouraged. Please set your precision to {_ALIASES[precision]} instead!",
                stacklevel=4,
            )
        precision = _ALIASES[precision]
    if precision.startswith("transformer-engine"):
        raise unsupported(f"`Trainer(precision={precision!r})`", "it has no Transformer Engine")
    return precision


def parse_accelerator(accelerator):
    """"cpu" or "cuda" for a Trainer's ``accelerator`` argument, with Lightning's checks."""
    if not isinstance(accelerator, str):
        raise unsupported(f"`Trainer(accelerator={accelerator!r})`", "it takes accelerator names")
    if accelerator not in _ACCELERATORS and accelerator not in ("auto", "gpu"):
        raise ValueError(
            f"You selected an invalid accelerator name: `accelerator={accelerator!r}`."
            f" Available names are: auto, {', '.join(_ACCELERATORS)}."
        )
    cuda = torch.cuda.is_available()
    if accelerator == "auto":
        return "cuda" if cuda else "cpu"
    if accelerator == "gpu" and not cuda:
        raise MisconfigurationException("No supported gpu backend found!")
    if accelerator in ("mps", "tpu"):
        raise unsupported(f"`Trainer(accelerator={accelerator!r})`", "it runs on CPU or CUDA only")
    if accelerator in ("cuda", "gpu") and not cuda:
        raise MisconfigurationException(
            "`CUDAAccelerator` can not run on your system since the accelerator is not available."
            " The following accelerator(s) is available and can be passed into `accelerator`"
            " argument of `Trainer`: ['cpu']."
        )
    return "cuda" if accelerator == "gpu" else accelerator


def connect(strategy, accelerator, precision):
    """Give the strategy its root device and precision plugin (Lightning's connector)."""
    device_type = parse_accelerator(accelerator)
    precision = parse_precision(precision)
    strategy.root_device = torch.device("cuda", 0) if device_type == "cuda" else torch.device("cpu")
    strategy.precision_plugin = _plugin(precision, device_type)


def _plugin(precision, device_type):
    if precision == "32-true":
        return Precision()
    if precision == "64-true":
        return DoublePrecision()
    if precision in ("16-true", "bf16-true"):
        return HalfPrecision(precision)
    if precision == "16-mixed" and device_type == "cpu":
        warnings.warn(
            "You passed `Trainer(accelerator='cpu', precision='16-mixed')` but AMP with fp16 is not"
            " supported on CPU. Using `precision='bf16-mixed'` instead.",
            stacklevel=4,
        )
        precision = "bf16-mixed"
    return MixedPrecision(precision, device_type)


class Precision:
    """"32-true": leaves dtypes alone. The other plugins change one of these methods each."""

    precision = "32-true"
    scaler = None

    def convert_module(self, module):
        return module

    def convert_input(self, batch):
        return batch

    def hook_context(self, hook):
        """The context a module hook runs in: the *_step methods get ``step_context``."""
        if hook in _STEP_HOOKS:
            return self.step_context()
        if hook == "configure_model":
            return self.module_init_context()
        return _NO_CONTEXT  # every other hook: called about ten times per training step

    def step_context(self):
        return nullcontext()

    def module_init_context(self):
        return nullcontext()

    def pre_backward(self, loss):
        """The tensor that on_before_backward and backward receive."""
        return loss

    def unscaling(self, closure, optimizer, automatic):
        """The closure, followed by whatever must happen before on_before_optimizer_step."""
        return closure

    def optimizer_step(self, optimizer, closure, automatic, **kwargs):
        return optimizer.step(closure=closure, **kwargs)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class HalfPrecision(Precision):
    """"16-true" / "bf16-true": module, float inputs and new tensors in that dtype."""

    def __init__(self, precision):
        self.precision = precision
        self.dtype = torch.bfloat16 if precision == "bf16-true" else torch.float16

    def convert_module(self, module):
        return module.to(dtype=self.dtype)

    def convert_input(self, batch):
        # integer tensors (labels, indices) keep their dtype
        def convert(data):
            is_float = isinstance(data, torch.Tensor) and torch.is_floating_point(data)
            return data.to(self.dtype) if is_float else data

        return _apply(batch, convert)

    def step_context(self):
        return _default_dtype(self.dtype)

    def module_init_context(self):
        return _default_dtype(self.dtype)


class DoublePrecision(HalfPrecision):
    """"64-true": like the half-precision plugin, in float64."""

    def __init__(self):
        self.precision, self.dtype = "64-true", torch.float64


class MixedPrecision(Precision):
    """"16-mixed" / "bf16-mixed": autocast in the steps; a GradScaler for float16."""

    def __init__(self, precision, device_type):
        self.precision, self.device_type = precision, device_type
        self.dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float16
        self.scaler = torch.amp.GradScaler(device_type) if precision == "16-mixed" else None

    def step_context(self):
        return torch.autocast(self.device_type, dtype=self.dtype, cache_enabled=False)

    def pre_backward(self, loss):
        return loss if self.scaler is None else self.scaler.scale(loss)

    def unscaling(self, closure, optimizer, automatic):
        if self.scaler is None:
            return closure

        def closure_then_unscale():
            result = closure()
            # unscaled before the hooks, so that they and clipping see the true gradients;
            # fused optimizers unscale inside their own step
            handles_unscaling = getattr(optimizer, "_step_supports_amp_scaling", False)
            if not _backward_skipped(result, automatic) and not handles_unscaling:
                self.scaler.unscale_(optimizer)
            return result

        return closure_then_unscale

    def optimizer_step(self, optimizer, closure, automatic, **kwargs):
        if self.scaler is None:
            return optimizer.step(closure=closure, **kwargs)
        if isinstance(optimizer, torch.optim.LBFGS):
            raise MisconfigurationException("AMP and the LBFGS optimizer are not compatible.")
        result = closure()
        if _backward_skipped(result, automatic):
            return result
        output = self.scaler.step(optimizer, **kwargs)  # skips the step on inf/NaN gradients
        self.scaler.update()
        return output

    def state_dict(self):
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state):
        if self.scaler is not None:
            self.scaler.load_state_dict(state)


def _backward_skipped(closure_result, automatic):
    """training_step returned None in automatic optimization: no gradients to unscale or use."""
    return closure_result is None and automatic


@contextmanager
def _default_dtype(dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


# ---- checkpoints: the plugin's state under its class name (Lightning: "MixedPrecision") ----


def precision_state(plugin):
    """The checkpoint entry of the plugin's state; none when the state is empty."""
    state = plugin.state_dict()
    return {type(plugin).__qualname__: state} if state else {}


def load_precision_state(plugin, checkpoint):
    """Restore the plugin's state (the GradScaler's) from a checkpoint, if it holds one."""
    key = type(plugin).__qualname__
    if key in checkpoint:
        plugin.load_state_dict(checkpoint[key])
    if "native_amp_scaling_state" in checkpoint and isinstance(plugin, MixedPrecision):
        plugin.load_state_dict(checkpoint["native_amp_scaling_state"])  # Lightning 1.x files
