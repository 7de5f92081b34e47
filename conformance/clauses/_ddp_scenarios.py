"""Distributed scenarios: what each rank runs and records (``lightning_conformance.ddp.worker``).

A scenario is a function of a ``RankContext``. It runs phases (one Trainer stage each, in
the same process group); each phase returns one record, a dataclass: ``FitRecord`` (a fit),
``ModuleRecord`` (``validate``: what the module recorded) or ``ForkedRecord`` (``forked``).
The records hold ranks, samplers, batches, synced values, gradients, parameters, the files
each rank wrote. Clauses (``conformance/clauses/test_ddp_*.py``) read the records of all ranks
by attribute (``ddp.phases.records``). Many clauses share one launch, so a target pays for
three launches in the whole DDP area.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from lightning_conformance.clauses._ddp_module import (
    TRAIN_ITEMS,
    VAL_ITEMS,
    ModuleRecord,
    flat_parameters,
    module_class,
    own_sampler_loader,
    plain_loader,
)
from lightning_conformance.clauses._memory_logger import build_logger
from lightning_conformance.ddp.worker import RankContext
from lightning_conformance.ddp.writes import FileWrites
from lightning_conformance.spec.contract import Contract

__all__ = ["TRAIN_ITEMS", "VAL_ITEMS", "CheckpointDecisions", "FinalState", "FitRecord",
           "ForkedRecord", "ModuleRecord", "forked", "two_devices", "two_nodes"]


@dataclass(slots=True)
class CheckpointDecisions:
    """ModelCheckpoint's choices after fit, paths relative to the launch directory."""

    best_model_path: str | None
    last_model_path: str | None
    best_model_score: float | None


@dataclass(slots=True)
class FitRecord(ModuleRecord):
    """A fit phase: the module's record and what the trainer holds afterwards."""

    callback_metrics: dict[str, float] = field(default_factory=dict)
    logger_calls: int = 0
    global_step: int = 0
    checkpoint: CheckpointDecisions | None = None  # with checkpointing only
    writes: list[str] = field(default_factory=list)  # files this rank wrote during the phase


@dataclass(slots=True)
class FinalState:
    """What one process holds after a ``ddp_fork`` fit."""

    params: list[float]
    global_step: int
    callback_metrics: dict[str, float]


@dataclass(slots=True)
class ForkedRecord:
    """The ``forked`` fit: the launching process's state and each forked rank's, in order."""

    main: FinalState
    ranks: list[FinalState]


def _fit_phase(ctx: RankContext, writes: FileWrites, trainer_overrides: dict[str, Any],
               *, checkpointing: bool = False, **module_options: Any) -> Callable[[], FitRecord]:
    def run() -> FitRecord:
        record = FitRecord()
        module_type = module_class(ctx.pl, record, **module_options)
        start = len(writes.paths)
        callbacks, logger = [], build_logger(ctx.pl)
        if checkpointing:
            callbacks.append(ctx.pl.ModelCheckpoint(dirpath=str(ctx.root / "checkpoints"),
                                                    monitor="val_sync", save_top_k=1,
                                                    save_last=True))
        settings = {"max_epochs": 2, "callbacks": callbacks, "logger": logger,
                    "num_sanity_val_steps": 0, "enable_checkpointing": checkpointing}
        trainer = ctx.pl.Trainer(**ctx.trainer_kwargs(**settings | trainer_overrides))
        trainer.fit(module_type())
        record.callback_metrics = _floats(trainer.callback_metrics)
        record.logger_calls = len(logger.calls)
        record.global_step = trainer.global_step
        if checkpointing:
            record.checkpoint = _checkpoint_decisions(ctx, callbacks[0])
            trainer.save_checkpoint(str(ctx.root / "manual.ckpt"))  # every rank must call it
        record.writes = writes.since(start)
        return record

    return run


def _floats(metrics: dict[str, Any]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}


def _checkpoint_decisions(ctx: RankContext, callback: Any) -> CheckpointDecisions:
    def relative(path: str | None) -> str | None:
        return os.path.relpath(path, ctx.root) if path else path

    score = callback.best_model_score
    return CheckpointDecisions(relative(callback.best_model_path),
                               relative(callback.last_model_path),
                               None if score is None else float(score))


def two_devices(ctx: RankContext) -> None:
    """One node, two processes: ranks, samplers, sync_dist, all_gather, gradients, files."""
    writes = FileWrites(ctx.root)
    ctx.phase("fit", _fit_phase(ctx, writes, {}, checkpointing=True, train_loader=plain_loader))
    ctx.phase("own_sampler", _fit_phase(ctx, writes, {"max_epochs": 1},
                                        train_loader=own_sampler_loader(ctx.world_size, ctx.rank)))
    flag = "use_distributed_sampler" if Contract(ctx.adapter.contract).has(
        "use_distributed_sampler_flag") else "replace_sampler_ddp"
    ctx.phase("no_distributed_sampler", _fit_phase(ctx, writes, {"max_epochs": 1, flag: False},
                                                   train_loader=plain_loader))
    ctx.phase("validate", _validate_phase(ctx))
    if ctx.adapter.contract.release >= (2, 3):  # DDP-031 holds from 2.3
        ctx.phase("none_step", _fit_phase(ctx, writes, {"max_epochs": 1},
                                          train_loader=plain_loader, use_none_step=True))


def _validate_phase(ctx: RankContext) -> Callable[[], ModuleRecord]:
    def run() -> ModuleRecord:
        record = ModuleRecord()
        trainer = ctx.pl.Trainer(**ctx.trainer_kwargs())
        trainer.validate(module_class(ctx.pl, record, train_loader=plain_loader)())
        return record

    return run


def two_nodes(ctx: RankContext) -> None:
    """Two simulated nodes of one process each: node ranks and prepare_data per node."""
    writes = FileWrites(ctx.root)
    ctx.phase("per_node", _fit_phase(ctx, writes, {"max_epochs": 1},
                                     train_loader=plain_loader))
    ctx.phase("once", _fit_phase(ctx, writes, {"max_epochs": 1}, train_loader=plain_loader,
                                 prepare_once=True))


def forked(ctx: RankContext) -> None:
    """One launching process; the target forks two ranks itself (``strategy="ddp_fork"``).

    Each forked rank writes its final state to ``fork_rank<N>.json``; the launching process
    records what it holds after fit.
    """
    ctx.phase("fit", _forked_fit(ctx))


def _final_state(trainer: Any, module: torch.nn.Module) -> FinalState:
    return FinalState(flat_parameters(module), trainer.global_step,
                      _floats(trainer.callback_metrics))


def _forked_fit(ctx: RankContext) -> Callable[[], ForkedRecord]:
    def on_train_end(callback: Any, trainer: Any, module: torch.nn.Module) -> None:
        state = asdict(_final_state(trainer, module))
        (ctx.root / f"fork_rank{trainer.global_rank}.json").write_text(json.dumps(state))

    def run() -> ForkedRecord:
        reporter = type("FinalStateWriter", (ctx.pl.Callback,), {"on_train_end": on_train_end})()
        settings = ctx.adapter.trainer_settings(str(ctx.root / "run")) | {
            "strategy": "ddp_fork", "devices": 2, "max_epochs": 1, "callbacks": [reporter],
            "num_sanity_val_steps": 0}
        trainer = ctx.pl.Trainer(**settings)
        module = module_class(ctx.pl, ModuleRecord(), train_loader=plain_loader)()
        trainer.fit(module)
        ranks = [FinalState(**json.loads((ctx.root / f"fork_rank{rank}.json").read_text()))
                 for rank in range(2)]
        return ForkedRecord(_final_state(trainer, module), ranks)

    return run
