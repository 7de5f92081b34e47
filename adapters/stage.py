"""The run verb shared by the adapters: build a Trainer, record the hooks, run a stage.

A third-party adapter calls ``run_stage`` from its ``run`` and ``neutral_settings`` from its
``trainer_settings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from lightning_conformance.adapters.base import Run, Target
from lightning_conformance.adapters.hook_names import CALLBACK_HOOKS, DATAMODULE_HOOKS, MODULE_HOOKS
from lightning_conformance.adapters.trace import Recorder

__all__ = ["NEUTRAL_SETTINGS", "OWNER_ATTRIBUTE", "VERBS", "cuda_capability", "neutral_settings",
           "run_stage"]

VERBS = ("fit", "validate", "test", "predict")

# Trainer settings that keep a run to the contract: CPU, one device, nothing extra. Every
# Trainer the kit builds for a clause or a check starts from these.
NEUTRAL_SETTINGS: Mapping[str, Any] = MappingProxyType({
    "accelerator": "cpu",
    "devices": 1,
    "logger": False,
    "enable_checkpointing": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
})

# A callback that sets this attribute is recorded under its value instead of its class name.
OWNER_ATTRIBUTE = "trace_owner"


def neutral_settings(root_dir: str) -> dict[str, Any]:
    """The neutral settings, writing under ``root_dir``."""
    return {"default_root_dir": root_dir, **NEUTRAL_SETTINGS}


def cuda_capability() -> frozenset[str]:
    """``{"cuda"}`` where torch sees a CUDA device, else nothing: a target that can place runs
    on cuda:0 adds it to its capabilities."""
    import torch

    return frozenset({"cuda"}) if torch.cuda.is_available() else frozenset()


def run_stage(target: Target, verb: str, module: Any, *, root_dir: str, datamodule: Any = None,
              callbacks: Sequence[Any] = (), ckpt_path: str | None = None,
              **trainer_kwargs: Any) -> Run:
    """Run one stage of ``target`` on ``module`` with every hook recorded.

    The module is recorded as ``Module``, the datamodule as ``DataModule`` and each callback
    under its ``trace_owner`` attribute, or its class name where it has none.
    """
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}; expected one of {VERBS}")
    recorder = Recorder()
    recorder.watch(module, "Module", MODULE_HOOKS)
    for callback in callbacks:
        recorder.watch(callback, _owner(callback), CALLBACK_HOOKS)
    if datamodule is not None:
        recorder.watch(datamodule, "DataModule", DATAMODULE_HOOKS)
    settings = target.trainer_settings(root_dir) | {"callbacks": list(callbacks)}
    trainer = target.pl.Trainer(**(settings | trainer_kwargs))
    stage_kwargs = {"datamodule": datamodule} if datamodule is not None else {}
    if ckpt_path is not None:
        stage_kwargs["ckpt_path"] = ckpt_path
    result = getattr(trainer, verb)(module, **stage_kwargs)
    return Run(recorder.trace, trainer, module, result, list(callbacks))


def _owner(callback: Any) -> str:
    return getattr(callback, OWNER_ATTRIBUTE, None) or type(callback).__name__
