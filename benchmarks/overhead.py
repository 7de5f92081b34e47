"""Per-step overhead: a hand-written loop, the reference Trainer and Lightning on one tiny model.

Every variant trains ``Linear(32, 2)`` with SGD on the same seeded in-memory data (batch 2,
one epoch of exactly ``steps`` batches), in one process, interleaved so that noise on a shared
machine hits every variant alike:

- ``raw``: a hand-written loop doing forward, loss, zero_grad, backward, step (the order of
  Lightning's closure);
- ``raw+hooks``: the same loop shaped like a Lightning step: an empty function called where
  each of the step's hooks runs, the step in a closure under ``torch.enable_grad()``, a detached
  copy of the loss. What separates it from the reference is the contract's bookkeeping;
- ``<target>``: ``Trainer(**neutral settings, max_steps=steps).fit(module, loader)``;
- ``<target>+log``: the same with one ``self.log("loss", loss)`` per step.

A variant's time runs from building its optimizer (raw) or its Trainer (targets) to the end of
the last step, so a Trainer's fixed costs (construction, setup and teardown hooks) are included,
spread over the steps. The neutral settings are the adapters' (``adapters/stage.py``): CPU, one
device, no logger, no checkpointing, no progress bar, no model summary. Each variant runs once
untimed first (warm-up); each timed run starts after a garbage collection.
"""

from __future__ import annotations

import gc
import logging
import statistics
import tempfile
import time
import warnings
from contextlib import contextmanager
from functools import partial

import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = [
    "BATCH_SIZE",
    "FEATURES",
    "RAW",
    "RAW_HOOKS",
    "WARMUP_STEPS",
    "measure_overhead",
    "summarise",
    "variant_names",
]

FEATURES, OUTPUTS, BATCH_SIZE, LEARNING_RATE = 32, 2, 2, 0.1
WARMUP_STEPS = 50
RAW = "raw"
RAW_HOOKS = "raw+hooks"
# Lightning prints its device summary through these loggers on every Trainer(); silenced alike.
_CHATTY_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric")


def variant_names(targets) -> list[str]:
    """``raw`` and ``raw+hooks`` first, then each target without and with ``self.log``."""
    return [RAW, RAW_HOOKS] + [name for target in targets for name in (target, f"{target}+log")]


def measure_overhead(steps=1000, repeats=5, targets=("reference", "lightning"), threads=1) -> dict:
    """Time every variant ``repeats`` times over ``steps`` steps; return the JSON-ready summary.

    Targets that cannot be loaded are listed under ``unavailable`` with the reason.
    """
    from lightning_conformance.adapters import TargetError, load_target

    adapters, unavailable = {}, {}
    for name in targets:
        try:
            adapters[name] = load_target(name)
        except TargetError as error:
            unavailable[name] = str(error)
    names = variant_names(adapters)
    with _quiet(), _threads(threads), tempfile.TemporaryDirectory() as root:
        runners = {name: _runner(name, adapters, root) for name in names}
        for name in names:  # warm-up: imports, first-call caches, allocator
            runners[name](min(steps, WARMUP_STEPS))
        samples = {name: {"wall": [], "cpu": []} for name in names}
        for repeat in range(repeats):
            for name in _rotated(names, repeat):
                wall, cpu = runners[name](steps)
                samples[name]["wall"].append(wall / steps * 1e6)
                samples[name]["cpu"].append(cpu / steps * 1e6)
    settings = _settings(steps, repeats, threads, adapters, root)
    return summarise(samples, settings, unavailable)


def summarise(samples, settings, unavailable=None) -> dict:
    """Medians, spreads and ratios to ``raw`` from per-step samples in microseconds.

    ``samples`` maps a variant name to ``{"wall": [...], "cpu": [...]}`` (µs per step).
    """
    variants = {name: _statistics(sample) for name, sample in samples.items()}
    raw = variants[RAW]
    ratios = {
        name: {
            "wall": round(stats["median_us"] / raw["median_us"], 3),
            "cpu": round(stats["cpu_median_us"] / raw["cpu_median_us"], 3),
        }
        for name, stats in variants.items()
        if name != RAW
    }
    return {"settings": settings, "variants": variants, "ratios": ratios,
            "unavailable": dict(unavailable or {})}


def _statistics(sample) -> dict:
    wall, cpu = sample["wall"], sample["cpu"]
    median = statistics.median(wall)
    return {
        "wall_us_per_step": [round(value, 2) for value in wall],
        "cpu_us_per_step": [round(value, 2) for value in cpu],
        "median_us": round(median, 2),
        "min_us": round(min(wall), 2),
        "max_us": round(max(wall), 2),
        # (max - min) / median: how far apart the repeats were on this machine
        "spread_pct": round(100 * (max(wall) - min(wall)) / median, 1),
        "cpu_median_us": round(statistics.median(cpu), 2),
    }


def _rotated(names, repeat):
    # start each repeat with another variant, so that none always runs after the same one
    shift = repeat % len(names)
    return names[shift:] + names[:shift]


# ---- the variants ----


def _runner(name, adapters, root):
    """A function ``steps -> (wall seconds, CPU seconds)`` for one variant."""
    if name == RAW:
        return _timed(_raw_loop)
    if name == RAW_HOOKS:
        return _timed(_raw_loop_with_hooks)
    target, _, log = name.partition("+")
    adapter = adapters[target]
    settings = adapter.trainer_settings(root)
    module_class = _module_class(adapter.pl, log=bool(log))
    return _timed(lambda steps: _fit(adapter.pl, settings, module_class, steps))


def _timed(run):
    def timed(steps):
        work = run(steps)  # everything untimed: data, model, module
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        return time.perf_counter() - wall, time.process_time() - cpu

    return timed


def _loader(steps):
    """One epoch of exactly ``steps`` batches, the same tensors for every variant."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(steps * BATCH_SIZE, FEATURES, generator=generator)
    targets = torch.randn(steps * BATCH_SIZE, OUTPUTS, generator=generator)
    return DataLoader(TensorDataset(inputs, targets), batch_size=BATCH_SIZE)


def _raw_loop(steps):
    torch.manual_seed(0)
    model, loader = torch.nn.Linear(FEATURES, OUTPUTS), _loader(steps)

    def work():
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        for inputs, targets in loader:
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return work


def _hook(*args):
    """An empty hook: what calling one costs."""


def _raw_loop_with_hooks(steps):
    torch.manual_seed(0)
    model, loader = torch.nn.Linear(FEATURES, OUTPUTS), _loader(steps)

    def work():
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

        @torch.enable_grad()
        def closure(batch):
            inputs, targets = batch
            loss = torch.nn.functional.mse_loss(model(inputs), targets)  # training_step
            _hook(optimizer)  # on_before_zero_grad
            optimizer.zero_grad()  # optimizer_zero_grad
            _hook(loss)  # on_before_backward
            loss.backward()  # backward
            _hook()  # on_after_backward
            return loss.detach().clone()  # the loss that on_train_batch_end sees

        def closure_then_hooks(batch):
            loss = closure(batch)
            _hook(optimizer)  # on_before_optimizer_step
            _hook(optimizer)  # configure_gradient_clipping
            return loss

        for batch_idx, batch in enumerate(loader):
            _hook(batch)  # on_before_batch_transfer
            _hook(batch)  # transfer_batch_to_device
            _hook(batch)  # on_after_batch_transfer
            _hook(batch, batch_idx)  # on_train_batch_start
            _hook(optimizer)  # optimizer_step
            loss = optimizer.step(partial(closure_then_hooks, batch))
            _hook(loss, batch, batch_idx)  # on_train_batch_end

    return work


def _fit(pl, settings, module_class, steps):
    torch.manual_seed(0)
    module, loader = module_class(), _loader(steps)

    def work():
        trainer = pl.Trainer(**settings, max_steps=steps)
        trainer.fit(module, loader)
        if trainer.global_step != steps:  # a benchmark of the wrong work is worse than none
            raise RuntimeError(f"{pl.Trainer} ran {trainer.global_step} steps, not {steps}")

    return work


def _module_class(pl, log):
    class TinyModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(FEATURES, OUTPUTS)

        def training_step(self, batch, batch_idx):
            inputs, targets = batch
            loss = torch.nn.functional.mse_loss(self.layer(inputs), targets)
            if log:
                self.log("loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=LEARNING_RATE)

    return TinyModule


# ---- environment ----


@contextmanager
def _quiet():
    """No warnings and no info lines from any target while timing (both alike)."""
    levels = {name: logging.getLogger(name).level for name in _CHATTY_LOGGERS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


@contextmanager
def _threads(threads):
    # The model is too small for intra-op parallelism: with one thread the ratio measures the
    # trainers' Python overhead, not thread scheduling on a shared machine.
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _settings(steps, repeats, threads, adapters, root) -> dict:
    neutral = next(iter(adapters.values())).trainer_settings(root) if adapters else {}
    neutral.pop("default_root_dir", None)
    return {
        "steps": steps,
        "repeats": repeats,
        "warmup_steps": min(steps, WARMUP_STEPS),
        "model": f"Linear({FEATURES}, {OUTPUTS}), SGD(lr={LEARNING_RATE}), mse_loss",
        "batch_size": BATCH_SIZE,
        "torch_threads": threads or torch.get_num_threads(),
        "torch": torch.__version__,
        "targets": {name: str(adapter.version) for name, adapter in adapters.items()},
        "trainer_settings": neutral,
    }
