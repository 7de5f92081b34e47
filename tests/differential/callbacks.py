"""The callbacks of a differential run: the probe that observes, and one that logs.

The probe is a plain callback named ``Probe``: in every ``PROBE_HOOKS`` hook it snapshots what
a callback can read (counters, learning rates, the three metrics dicts) and, at the scenario's
save point, writes the checkpoint with ``trainer.save_checkpoint``.
"""

from __future__ import annotations

from .modules import grouped_logs, log_all
from .scenario import Scenario

__all__ = ["PROBE_HOOKS", "build_logging_callback", "build_probe", "snapshot"]

PROBE_HOOKS = (
    "on_sanity_check_end", "on_train_start", "on_train_epoch_start", "on_train_batch_start",
    "on_before_optimizer_step", "on_train_batch_end", "on_train_epoch_end",
    "on_validation_start", "on_validation_batch_end", "on_validation_epoch_end",
    "on_validation_end", "on_train_end",
)  # fmt: skip


def build_logging_callback(pl, scenario: Scenario):
    """A callback whose hooks call ``pl_module.log`` for the scenario's callback calls, or None."""
    hooks = grouped_logs(scenario, "callback")
    if not hooks:
        return None

    def make_hook(hook, calls):
        def hook_method(self, trainer, pl_module, *args):
            log_all(self, pl_module, hook, calls)

        hook_method.__name__ = hook
        return hook_method

    methods = {hook: make_hook(hook, calls) for hook, calls in hooks.items()}
    return type("LoggingCallback", (pl.Callback,), methods)()


def _floats(metrics) -> dict:
    return {key: float(value) for key, value in sorted(metrics.items())}


def snapshot(trainer) -> dict:
    """What a callback can read at this point: counters, learning rates, metrics dicts."""
    return {
        "global_step": trainer.global_step,
        "epoch": trainer.current_epoch,
        "lrs": [[group["lr"] for group in opt.param_groups] for opt in trainer.optimizers],
        "callback_metrics": _floats(trainer.callback_metrics),
        "logged_metrics": _floats(trainer.logged_metrics),
        "progress_bar_metrics": _floats(trainer.progress_bar_metrics),
    }


def build_probe(pl, save_at=None, path=None):
    """A callback named ``Probe``: snapshots in every ``PROBE_HOOKS`` hook, saves at ``save_at``."""

    def make_hook(hook):
        def hook_method(self, trainer, pl_module, *args):
            self.snapshots.append(snapshot(trainer))
            if save_at is not None and not self.saved and _due(save_at, hook, trainer, args):
                trainer.save_checkpoint(path)
                self.saved = True

        hook_method.__name__ = hook
        return hook_method

    def __init__(self):
        pl.Callback.__init__(self)
        self.snapshots, self.saved = [], False

    methods = {hook: make_hook(hook) for hook in PROBE_HOOKS}
    return type("Probe", (pl.Callback,), {"__init__": __init__, **methods})()


def _due(save_at, hook, trainer, args) -> bool:
    if save_at[0] == "batch":
        return hook == "on_train_batch_end" and (trainer.current_epoch, args[-1]) == save_at[1:]
    if save_at[0] == "epoch_end":
        return hook == "on_train_epoch_end" and trainer.current_epoch == save_at[1]
    if save_at[0] == "validation_end":  # the epoch's first in-fit validation, ModelCheckpoint's
        return (hook == "on_validation_end" and not trainer.sanity_checking
                and trainer.current_epoch == save_at[1])
    return False
