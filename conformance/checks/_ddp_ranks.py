"""What each rank runs for the DDP checks (``ddp.worker`` calls ``check_ranks``).

The parent process pickles the module's factory (and datamodule) into ``payload.pkl`` in the
launch directory. Every rank builds the module from the same seed, fits it for a few batches
with ``strategy="ddp"`` and records a ``ModuleFit``: its parameters' fingerprints, the monitored
values, the parameters that went without a gradient in some step and the warnings. Several
modules can share one launch (``ddp.prepare``): each is one phase, keyed by the parent.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from lightning_conformance.checks._probe import probe
from lightning_conformance.checks._state import reseed, trainable
from lightning_conformance.ddp.worker import RankContext

__all__ = ["DDP_SETTINGS", "PAYLOAD", "ModuleFit", "check_ranks", "fingerprint"]

PAYLOAD = "payload.pkl"
DDP_SETTINGS = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 2,
                "num_sanity_val_steps": 0, "enable_checkpointing": False}


@dataclass(slots=True)
class ModuleFit:
    """One module's short DDP fit on one rank."""

    parameters: dict[str, str] = field(default_factory=dict)  # name -> fingerprint
    monitors: dict[str, float] = field(default_factory=dict)  # monitored key -> value
    warnings: list[str] = field(default_factory=list)  # raised during fit (message texts)
    # optimized parameters that some backward left without a gradient
    without_grad: list[str] = field(default_factory=list)


def fingerprint(tensor: torch.Tensor) -> str:
    data = tensor.detach().to("cpu").contiguous()
    try:
        raw = data.numpy().tobytes()
    except (TypeError, RuntimeError):  # dtypes numpy lacks
        raw = repr(data.tolist()).encode()
    return hashlib.sha1(raw).hexdigest()


def _monitors(trainer: Any) -> list[str]:
    keys = [c.monitor for c in trainer.lr_scheduler_configs if getattr(c, "monitor", None)]
    keys += [c.monitor for c in trainer.callbacks if getattr(c, "monitor", None)]
    return sorted(set(keys))


def _without_grad(pl: Any, record: ModuleFit) -> Any:
    """A callback that notes, per backward, the optimized parameters that got no gradient."""

    def on_after_backward(self, trainer, pl_module):
        held = {id(p) for o in trainer.optimizers for g in o.param_groups for p in g["params"]}
        missing = [name for name, p in trainable(pl_module).items()
                   if id(p) in held and p.grad is None]
        record.without_grad.extend(name for name in missing if name not in record.without_grad)

    return type("UnusedParameters", (pl.Callback,), {"on_after_backward": on_after_backward})()


def _fit(ctx: RankContext, factory: Any, datamodule: Any, seed: int) -> ModuleFit:
    record = ModuleFit()
    reseed(seed)
    module = factory()
    callbacks = [probe(ctx.pl, seed)[0], _without_grad(ctx.pl, record)]
    trainer = ctx.pl.Trainer(**ctx.trainer_kwargs(callbacks=callbacks, **DDP_SETTINGS))
    kwargs = {"datamodule": datamodule() if callable(datamodule) else datamodule} \
        if datamodule is not None else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reseed(seed)
        trainer.fit(module, **kwargs)
    metrics = trainer.callback_metrics
    # Note: buffers are left out: DDP broadcasts them from rank 0 at each forward, so after a
    # last training step (no validation after it) batch-norm statistics legitimately differ.
    record.parameters = {name: fingerprint(p) for name, p in module.named_parameters()}
    record.monitors = {key: float(metrics[key]) for key in _monitors(trainer) if key in metrics}
    record.warnings = [str(w.message) for w in caught]
    return record


def check_ranks(ctx: RankContext) -> None:
    """The scenario: a short DDP fit of each module of the payload, in order, on this rank.

    The first module that raises ends the scenario (the process group may be broken): its
    error is recorded, the modules after it get no record.
    """
    for key, factory, datamodule, seed in pickle.loads((ctx.root / PAYLOAD).read_bytes()):
        if ctx.phase(key, functools.partial(_fit, ctx, factory, datamodule, seed)).error:
            return
