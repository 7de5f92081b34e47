"""Trainer arguments: Lightning's defaults and checks; features the reference lacks raise."""

import os
import warnings

import torch

from .errors import MisconfigurationException, unsupported

__all__ = [
    "batch_limit",
    "check_clipping",
    "check_validation_flags",
    "parse_loop_limits",
    "reject_unsupported",
    "resolve_opt_outs",
    "set_torch_flags",
]

# Note: each row is a Lightning feature outside the reference; only the listed values are accepted.
# (`logger` is checked by `logger_connector.configure_loggers`, `accelerator` and `precision` by
# `precision.connect`, `strategy`, `devices` and `num_nodes` by `distributed.parallel_strategy`.)
_RESTRICTED = (
    ("fast_dev_run", (False, 0), "fast_dev_run is a later issue"),
    ("max_time", (None,), "the Timer callback is a later issue"),
    ("overfit_batches", (0, 0.0), "overfit_batches is a later issue"),
    ("enable_progress_bar", (None, False), "it has no progress bar"),
    ("enable_model_summary", (None, False), "it prints no model summary"),
    ("profiler", (None,), "it has no profiler"),
    ("plugins", (None,), "it has no plugins"),
    ("sync_batchnorm", (False,), "its DDP strategy converts no BatchNorm layers"),
    ("model_registry", (None,), "it has no model registry"),
)


def _accepted(value, allowed):
    # compare types too, so that True is not taken for 1
    return any(value == option and type(value) is type(option) for option in allowed)


def reject_unsupported(arguments):
    """Raise ``UnsupportedByReference`` for the first argument the reference cannot honour."""
    for name, allowed, why in _RESTRICTED:
        if not _accepted(arguments[name], allowed):
            raise unsupported(f"`Trainer({name}={arguments[name]!r})`", why)


_OPT_OUTS = {
    "enable_checkpointing": True,
    "logger": True,
    "enable_progress_bar": True,
    "log_every_n_steps": 50,
    "enable_model_summary": True,
    "num_sanity_val_steps": 2,
}
# what Lightning's barebones error calls each feature ("Logging can impact raw speed ...")
_FEATURES = {
    "enable_checkpointing": "Checkpointing",
    "logger": "Logging",
    "enable_progress_bar": "The progress bar",
    "log_every_n_steps": "Logging",
    "enable_model_summary": "Model summary",
    "num_sanity_val_steps": "Sanity checking",
    "detect_anomaly": "Anomaly detection",
}
_BAREBONES = {
    "enable_checkpointing": False,
    "logger": False,
    "enable_progress_bar": False,
    "log_every_n_steps": 0,
    "enable_model_summary": False,
    "num_sanity_val_steps": 0,
}


def resolve_opt_outs(arguments):
    """The opt-out flags after Lightning's defaults, or after ``barebones=True``'s rules."""
    flags = {name: arguments[name] for name in _OPT_OUTS}
    if not arguments["barebones"]:
        return {name: _OPT_OUTS[name] if value is None else value for name, value in flags.items()}
    for name, value in {**flags, "detect_anomaly": arguments["detect_anomaly"]}.items():
        if value not in (None, False, 0):  # the user explicitly turned a feature on
            raise ValueError(
                f"`Trainer(barebones=True, {name}={value!r})` was passed. {_FEATURES[name]} can"
                " impact raw speed so it is disabled in barebones mode."
            )
    return dict(_BAREBONES)


def batch_limit(value, name):
    """Lightning's limit rule: None → 1.0, values in [0, 1] kept, whole numbers → int."""
    if value is None:
        return 1.0
    if 0 <= value <= 1:
        return value
    if value > 1 and value % 1.0 == 0:
        return int(value)
    raise MisconfigurationException(
        f"You have passed invalid value {value} for {name}, it has to be in [0.0, 1.0] or an int."
    )


def check_validation_flags(
    val_check_interval, check_val_every_n_epoch, reload_dataloaders_every_n_epochs
):
    """Validate the flags that schedule validation and dataloader reloading."""
    if isinstance(val_check_interval, (str, dict)) or hasattr(val_check_interval, "total_seconds"):
        raise unsupported(
            f"`Trainer(val_check_interval={val_check_interval!r})`",
            "time-based validation is a later issue",
        )
    if check_val_every_n_epoch is not None and not isinstance(check_val_every_n_epoch, int):
        raise MisconfigurationException(
            f"`check_val_every_n_epoch` should be an integer, found {check_val_every_n_epoch!r}."
        )
    if check_val_every_n_epoch is None and isinstance(val_check_interval, float):
        raise MisconfigurationException(
            "`val_check_interval` should be an integer or a time-based duration (str"
            " 'DD:HH:MM:SS', datetime.timedelta, or dict kwargs for timedelta) when"
            " `check_val_every_n_epoch=None`."
        )
    if (
        not isinstance(reload_dataloaders_every_n_epochs, int)
        or reload_dataloaders_every_n_epochs < 0
    ):
        raise MisconfigurationException(
            "`reload_dataloaders_every_n_epochs` should be an int >= 0, got"
            f" {reload_dataloaders_every_n_epochs}."
        )


def check_clipping(gradient_clip_val, gradient_clip_algorithm):
    """Validate the clipping flags; the algorithm is returned lower-cased (or None)."""
    if gradient_clip_val is not None and not isinstance(gradient_clip_val, (int, float)):
        raise TypeError(
            f"`gradient_clip_val` should be an int or a float. Got {gradient_clip_val}."
        )
    if gradient_clip_algorithm is None:
        return gradient_clip_val, None
    if gradient_clip_algorithm.lower() not in ("value", "norm"):
        raise MisconfigurationException(
            f"`gradient_clip_algorithm` {gradient_clip_algorithm} is invalid. Allowed algorithms:"
            " ['value', 'norm']."
        )
    # Note: Lightning stores a `GradClipAlgorithmType` str-enum here; the reference stores the plain
    # string.
    return gradient_clip_val, gradient_clip_algorithm.lower()


def set_torch_flags(deterministic, benchmark):
    """Set cuDNN benchmarking and deterministic algorithms exactly when Lightning does."""
    if deterministic and benchmark is None:
        benchmark = False
    elif deterministic and benchmark:
        warnings.warn(
            "You passed `deterministic=True` and `benchmark=True`. Note that PyTorch ignores"
            " torch.backends.cudnn.deterministic=True when torch.backends.cudnn.benchmark=True.",
            stacklevel=2,
        )
    if benchmark is not None:
        torch.backends.cudnn.benchmark = benchmark
    if deterministic == "warn":
        torch.use_deterministic_algorithms(True, warn_only=True)
    elif isinstance(deterministic, bool):
        torch.use_deterministic_algorithms(deterministic)
    if deterministic:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"


def parse_loop_limits(min_steps, max_steps, min_epochs, max_epochs):
    """Resolve ``(min_epochs, max_epochs)`` when fit starts (Lightning's 1000-epoch default)."""
    if max_epochs is None:
        if max_steps == -1:
            # Note: Lightning skips this default when a Timer callback is present; the reference has
            # none.
            warnings.warn(
                "`max_epochs` was not set. Setting it to 1000 epochs. To train without an epoch"
                " limit, set `max_epochs=-1`.",
                stacklevel=2,
            )
            max_epochs = 1000
        else:
            max_epochs = -1
    if min_epochs is None:
        # with only min_steps set, one epoch lets `should_stop` be re-evaluated, as in Lightning
        min_epochs = 1 if min_steps is not None else 0
    return min_epochs, max_epochs
