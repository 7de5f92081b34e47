"""Turn a ``Scenario`` into a module of a fresh class on one target's ``pl``.

The module is the kit's BoringModel-style scenario (``clauses._models``) with the scenario's
dataloaders, training_step, validation_step, configure_optimizers and ``self.log``
calls. The callbacks of a run are in ``callbacks.py``.
"""

from __future__ import annotations

import torch

from lightning_conformance.clauses._manual import as_list
from lightning_conformance.clauses._models import _BASE, loader

from .scenario import LogCall, Scenario

__all__ = ["MONITOR", "OPTIMIZER_LAYOUTS", "build_module", "grouped_logs", "log_all"]

MONITOR = "monitored"  # the key a ReduceLROnPlateau scheduler watches (logged in training_step)

# configure_optimizers return formats; the "*_config" ones wrap the scheduler in a config dict
OPTIMIZER_LAYOUTS = {
    "none": lambda opts, scheds: None,
    "optimizer": lambda opts, scheds: opts[0],
    "list": lambda opts, scheds: list(opts),
    "tuple": lambda opts, scheds: tuple(opts),
    "dict": lambda opts, scheds: {"optimizer": opts[0]},
    "lists": lambda opts, scheds: (list(opts), [s["scheduler"] for s in scheds]),
    "lists_config": lambda opts, scheds: (list(opts), list(scheds)),
    "dict_scheduler": lambda opts, scheds: {"optimizer": opts[0],
                                            "lr_scheduler": scheds[0]["scheduler"]},
    "dict_monitor": lambda opts, scheds: {"optimizer": opts[0], "monitor": MONITOR,
                                          "lr_scheduler": scheds[0]["scheduler"]},
    "dict_config": lambda opts, scheds: {"optimizer": opts[0], "lr_scheduler": scheds[0]},
    "list_of_dicts": lambda opts, scheds: [
        {"optimizer": opt, "lr_scheduler": sched} for opt, sched in zip(opts, scheds, strict=True)],
}

_OPTIMIZERS = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.1),
    "momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01),
}
_SCHEDULERS = {
    "step": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
    "exponential": lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "multistep": lambda opt: torch.optim.lr_scheduler.MultiStepLR(opt, [1, 3], gamma=0.5),
    "plateau": lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5,
                                                                      patience=0),
}

# ---- configure_optimizers ----

def _configure_optimizers(spec):
    def configure_optimizers(self):
        groups = ([self.layer.weight], [self.layer.bias]) if spec.optimizers == 2 else (
            [*self.layer.parameters()],)
        optimizers = [_OPTIMIZERS[spec.optimizer](params) for params in groups]
        schedulers = [_scheduler_config(spec, opt) for opt in optimizers] if spec.scheduler else []
        return OPTIMIZER_LAYOUTS[spec.layout](optimizers, schedulers)

    return configure_optimizers


def _scheduler_config(spec, optimizer) -> dict:
    config = {"scheduler": _SCHEDULERS[spec.scheduler](optimizer), "interval": spec.interval,
              "frequency": spec.frequency}
    if spec.scheduler == "plateau":
        config["monitor"] = MONITOR
    return config


# ---- training_step ----

def _loss(self, batch):
    return self.layer(batch).sum()


def _returned(kind, loss, batch_idx):
    if kind == "dict":
        return {"loss": loss}
    if kind == "dict_extra":
        return {"loss": loss, "extra": loss.detach() * 2}
    if kind == "none_on_odd" and batch_idx % 2 == 1:
        return None
    return loss


def _automatic_step(scenario: Scenario):
    spec = scenario.optimization

    def training_step(self, batch, batch_idx):
        loss = _loss(self, batch)
        _step_extras(self, scenario)
        if spec.scheduler == "plateau":  # the monitored value gets worse every time it is logged
            monitor_on_step = spec.interval == "step"
            self.log(MONITOR, float(self.global_step + batch_idx + 1), on_step=monitor_on_step,
                     on_epoch=not monitor_on_step)
        return _returned(scenario.training_step_returns, loss, batch_idx)

    return training_step


def _manual_step(scenario: Scenario):
    spec = scenario.optimization

    def training_step(self, batch, batch_idx):
        optimizers = as_list(self.optimizers())
        loss = _loss(self, batch)
        _step_extras(self, scenario)
        for optimizer in optimizers:
            optimizer.zero_grad()
        self.manual_backward(loss)
        for optimizer in optimizers:
            if spec.manual_clip:
                self.clip_gradients(optimizer, gradient_clip_val=0.5,
                                    gradient_clip_algorithm="norm")
            optimizer.step()
        if spec.manual_scheduler_step == "batch":
            _step_schedulers(self)
        return _returned(scenario.training_step_returns, loss, batch_idx)

    return training_step


def _step_extras(self, scenario):
    """What every training_step does besides its loss: ask to stop, log ModelCheckpoint's score."""
    if self.global_step == scenario.stop_at_step:
        self.trainer.should_stop = True
    checkpointing = scenario.model_checkpoint
    if checkpointing is not None and checkpointing.monitor == "score":
        self.log("score", _score(self.global_step), on_step=True, on_epoch=False)


def _score(count: int) -> float:
    """A score that goes up and down (0, 2, 4, 1, 3, 0, ...), so top-k files change."""
    return float(count * 7 % 5)


def _validation_step(scenario: Scenario):
    """The scenario's validation_step: its loss (and ModelCheckpoint's ``val_score``)."""
    checkpointing = scenario.model_checkpoint
    scores = checkpointing is not None and checkpointing.monitor == "val_score"

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        if scores:
            self.log("val_score", _score(self.current_epoch + batch_idx), on_epoch=True)
        return {"x": self.layer(batch).sum()}

    return validation_step


def _val_dataloaders(scenario: Scenario):
    """One val dataloader, or two (validation then runs all of the first, then the second)."""
    length = 2 * scenario.val_batches

    def val_dataloader(self):
        if scenario.val_dataloaders == 1:
            return loader(length, seed=2)
        return [loader(length, seed=2), loader(length, seed=5)]

    return val_dataloader


def _skip_rest_of_epoch_at(index):
    def on_train_batch_start(self, batch, batch_idx):
        return -1 if batch_idx == index else None

    return on_train_batch_start


def _step_schedulers(self):
    schedulers = self.lr_schedulers()
    for scheduler in [] if schedulers is None else as_list(schedulers):
        scheduler.step()


# ---- self.log calls ----

def log_all(owner, module, hook, calls: list[LogCall]):
    """Log every call's value: how often ``owner``'s ``hook`` ran, times the call's rank."""
    count = owner.__dict__.setdefault("hook_calls", {}).get(hook, 0) + 1
    owner.hook_calls[hook] = count
    for rank, call in enumerate(calls, start=1):
        value = float(count * rank)
        module.log(call.name, torch.tensor(value) if call.as_tensor else value,
                   on_step=call.on_step, on_epoch=call.on_epoch, prog_bar=call.prog_bar,
                   logger=call.logger, reduce_fx=call.reduce_fx, batch_size=call.batch_size)


def _logging(hook, calls: list[LogCall], base):
    """The module's ``hook``: log ``calls``, then do what it did before."""

    def logged(self, *args, **kwargs):
        log_all(self, self, hook, calls)
        return base(self, *args, **kwargs)

    return logged


def grouped_logs(scenario: Scenario, owner: str) -> dict:
    calls = [call for call in scenario.logs if call.owner == owner]
    hooks = dict.fromkeys(call.hook for call in calls)
    return {hook: [call for call in calls if call.hook == hook] for hook in hooks}


def build_module(pl, scenario: Scenario, build=None):
    """A fresh module of a fresh class for ``scenario`` (``build`` is ``Harness.module``)."""
    spec = scenario.optimization
    methods = {
        "train_dataloader": lambda self: loader(2 * scenario.train_batches, seed=1),
        "val_dataloader": _val_dataloaders(scenario),
        "configure_optimizers": _configure_optimizers(spec),
        "training_step": _manual_step(scenario) if spec.manual else _automatic_step(scenario),
    }
    if spec.manual:
        methods["automatic_optimization"] = False
        if spec.manual_scheduler_step == "epoch":
            methods["on_train_epoch_end"] = lambda self: _step_schedulers(self)
    if scenario.validation_step:
        methods["validation_step"] = _validation_step(scenario)
    if scenario.skip_rest_of_epoch_at is not None:
        methods["on_train_batch_start"] = _skip_rest_of_epoch_at(scenario.skip_rest_of_epoch_at)
    for hook, calls in grouped_logs(scenario, "module").items():
        base = methods.get(hook) or _BASE.get(hook) or getattr(pl.LightningModule, hook)
        methods[hook] = _logging(hook, calls, base)
    without = () if scenario.validation_step else ("validation_step",)
    return build(overrides=methods, without=without)
