"""Run one ``Scenario`` on one target and flatten everything observable into events.

An event is a ``(stage, kind, payload)`` tuple with a JSON-like payload: every recorded hook
call (with its summarised arguments and nesting depth), followed, for the probe callback's own
calls, by the probe's snapshot; then the logger's ``log_metrics`` calls, the end state of the
trainer, the checkpoint's structure and an exception if the stage raised one. ``stage`` is
``fit``, ``resume`` (a second fit from the scenario's checkpoint) or ``validate``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
import warnings
from pathlib import Path

import torch

from lightning_conformance.adapters import load_target
from lightning_conformance.session.harness import Harness
from lightning_conformance.spec.contract import Contract

from .callbacks import PROBE_HOOKS, build_logging_callback, build_probe
from .modules import build_module
from .scenario import Scenario

__all__ = ["OutsideReference", "run_scenario"]

SEED = 0
_TARGETS: dict = {}
# Lightning prints its device summary and stop reasons through these loggers
_CHATTY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning",
                   "lightning_fabric")


class OutsideReference(Exception):
    """The reference raised UnsupportedByReference: the generator left the contract."""


def _harness(target: str, root: Path) -> Harness:
    if target not in _TARGETS:
        _TARGETS[target] = load_target(target)
    adapter = _TARGETS[target]
    return Harness(adapter, root, Contract(adapter.contract))


def run_scenario(scenario: Scenario, target: str) -> list[tuple]:
    """Every event of ``scenario`` on ``target`` (see the module docstring)."""
    with tempfile.TemporaryDirectory() as root:
        harness = _harness(target, Path(root))  # imported first: Lightning sets its log levels
        with _quiet():
            events = _run_stages(harness, scenario, root)
        # each target runs in its own temporary directory: paths are compared below it
        return [(stage, kind, json.loads(json.dumps(payload, default=str).replace(root, "<root>")))
                for stage, kind, payload in events]


def _run_stages(harness, scenario: Scenario, root: str) -> list[tuple]:
    path = str(Path(root) / "scenario.ckpt")
    events, fitted = _stage(harness, scenario, "fit", path)
    checkpoint = scenario.checkpoint
    if checkpoint is not None and Path(path).exists():
        events += _checkpoint_events(path)
        if checkpoint.resume:
            events += _stage(harness, scenario, "resume", path)[0]
    if scenario.then_validate and fitted is not None:
        events += _stage(harness, scenario, "validate", path, module=fitted)[0]
    return events


def _stage(harness, scenario: Scenario, stage: str, path: str, module=None):
    """Run one stage; return its events and the module when the stage finished."""
    torch.manual_seed(SEED)
    if module is None:
        module = build_module(harness.pl, scenario, harness.module)
    checkpoint = scenario.checkpoint
    saves = stage == "fit" and checkpoint is not None
    probe = build_probe(harness.pl, checkpoint.at if saves else None, path)
    logger = harness.logger()
    logging_callback = build_logging_callback(harness.pl, scenario)
    callbacks = [probe] + ([logging_callback] if logging_callback is not None else [])
    kwargs = {"callbacks": callbacks, "logger": logger, **scenario.trainer.kwargs()}
    if scenario.model_checkpoint is not None and stage != "validate":
        callbacks.append(harness.checkpoint_callback(**scenario.model_checkpoint.kwargs()))
        kwargs["enable_checkpointing"] = True
    if stage == "resume":
        max_steps = scenario.trainer.max_steps
        kwargs |= {"ckpt_path": path,
                   "max_epochs": scenario.trainer.max_epochs + checkpoint.resume_epochs,
                   "max_steps": max_steps + checkpoint.resume_steps if max_steps != -1 else -1}
    try:
        if stage == "validate":
            run = harness.validate(module, **kwargs)
        else:
            run = harness.fit(module, **kwargs)
    except Exception as error:  # both targets must fail the same way
        if type(error).__name__ == "UnsupportedByReference":
            raise OutsideReference(str(error)) from error
        return [*_probe_events(stage, probe), *_logger_events(stage, logger),
                (stage, "raised", _error(error))], None
    if saves and checkpoint.at == ("fit_end",):
        run.trainer.save_checkpoint(path)
    events = _hook_events(stage, run.trace, probe) + _logger_events(stage, logger)
    events.append((stage, "end", _end_state(run)))
    return events, run.module


def _hook_events(stage, trace, probe) -> list[tuple]:
    snapshots = iter(probe.snapshots)
    events = []
    for event in trace.events:
        events.append((stage, "hook", {"call": event.name, "args": event.args,
                                       "depth": event.depth}))
        if event.owner == "Probe" and event.hook in PROBE_HOOKS:
            events.append((stage, "probe", next(snapshots)))
    return events


def _probe_events(stage, probe) -> list[tuple]:
    return [(stage, "probe", snapshot) for snapshot in probe.snapshots]


def _logger_events(stage, logger) -> list[tuple]:
    events = [(stage, "log_metrics", {"metrics": metrics, "step": step})
              for metrics, step in logger.floats()]
    return events + [(stage, "logger_finalize", status) for status in logger.statuses]


def _end_state(run) -> dict:
    trainer = run.trainer
    state = {"global_step": trainer.global_step, "epoch": trainer.current_epoch,
             "weights": [float(p.sum()) for p in run.module.parameters()]}
    for callback in run.callbacks:
        if type(callback).__name__ == "RecordingCheckpoint":
            state["model_checkpoint"] = _model_checkpoint_state(callback)
    if isinstance(run.result, list):  # validate's one dict per dataloader
        state["result"] = [{key: float(value) for key, value in result.items()}
                           for result in run.result]
    return state


def _model_checkpoint_state(callback) -> dict:
    """The files a ModelCheckpoint kept and what it says about them (paths by file name)."""
    directory = Path(callback.dirpath)
    score = callback.best_model_score
    return {
        "files": sorted(path.name for path in directory.glob("*.ckpt")),
        "best_model_path": Path(callback.best_model_path).name,
        "best_model_score": None if score is None else float(score),
        "last_model_path": Path(callback.last_model_path).name,
        "best_k_models": {Path(path).name: float(value)
                          for path, value in callback.best_k_models.items()},
        "kth_value": float(callback.kth_value),
    }


def _error(error: BaseException) -> dict:
    # Note: the reference prefixes contract errors with their clause ID and a fix hint, so
    # compare.py compares the exception type; the message is kept for the report.
    return {"type": type(error).__name__, "message": str(error)}


# ---- the checkpoint ----

def _checkpoint_events(path: str) -> list[tuple]:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if "loops" in checkpoint:
        checkpoint["loops"] = _resume_progress(checkpoint["loops"])
    checkpoint = _summarise(checkpoint)
    return [("checkpoint", key, checkpoint[key])
            for key in sorted(checkpoint) if key != "pytorch-lightning_version"]


# Note: the "loops" entry holds Lightning's private progress trackers. The contract is its keys
# (CKPT-001) and what a resume does with it (the "resume" stage is compared event by event), so
# only the counters that decide where a resume starts are compared; the rest (zero_grad and
# scheduler counts, the in-fit validation loop's batches, the manual optimizer's per-epoch step
# count, which Lightning never resets) are compared by their keys alone.
_RESUME_COUNTERS = ("epoch_progress", "epoch_loop.batch_progress", "epoch_loop.state_dict")


def _resume_progress(loops: dict) -> dict:
    fit_loop = loops.get("fit_loop", {})
    return {"keys": _keys(loops),
            "fit_loop": {key: fit_loop[key] for key in _RESUME_COUNTERS if key in fit_loop}}


def _keys(value):
    if isinstance(value, dict):
        return {str(key): _keys(item) for key, item in value.items()}
    return "*"


def _summarise(value):
    """Nested dicts and lists as they are, tensors by shape and sum, anything else by type."""
    if isinstance(value, torch.Tensor):
        return {"shape": list(value.shape), "sum": float(value.float().sum())}
    if isinstance(value, dict):
        return {str(key): _summarise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_summarise(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f"<{type(value).__name__}>"


@contextlib.contextmanager
def _quiet():
    """No warnings or INFO lines from either target: the traces are what is compared."""
    levels = {name: logging.getLogger(name).level for name in _CHATTY_LOGGERS}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for name in levels:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
