"""The run verb shared by the adapters: build a Trainer, record the hooks, run a stage."""

from __future__ import annotations

from lightning_conformance.adapters.base import Run
from lightning_conformance.adapters.hook_names import CALLBACK_HOOKS, DATAMODULE_HOOKS, MODULE_HOOKS
from lightning_conformance.adapters.trace import Recorder

__all__ = ["VERBS", "neutral_settings", "run_stage"]

VERBS = ("fit", "validate", "test", "predict")


def neutral_settings(root_dir: str) -> dict:
    """Trainer settings that keep a run to the contract: CPU, one device, nothing extra."""
    return {
        "default_root_dir": root_dir,
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
    }


def run_stage(target, verb: str, module, *, root_dir: str, datamodule=None, callbacks=(),
              ckpt_path=None, **trainer_kwargs) -> Run:
    """Run one stage of ``target`` on ``module`` with every hook recorded.

    Callbacks are recorded under their class name (``Callback`` for a plain recording
    callback), the module as ``Module`` and the datamodule as ``DataModule``.
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


def _owner(callback) -> str:
    name = type(callback).__name__
    return "Callback" if name == "RecordingCallback" else name
