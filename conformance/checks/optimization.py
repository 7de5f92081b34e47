"""MOD-006..009: what configure_optimizers and configure_callbacks return, against what the
module trains and logs (read from the shared fit)."""

from __future__ import annotations

from lightning_conformance.checks._base import Failed, Skipped, Warned, check
from lightning_conformance.checks._state import shorten

__all__ = ["configured", "logged_keys", "unoptimized"]

OPTIMIZER = "lightning/pytorch/core/optimizer.py"
OPTIMIZER_TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"


def configured(ctx, asking: str):
    """The fit outcome once configure_optimizers has been parsed (or the check's verdict)."""
    outcome = ctx.fit
    if outcome.error is not None and ctx.claimant(outcome.error) == asking:
        ctx.require("fit", asking)  # raises Failed with the run's error
    if outcome.trainer is None or not list(outcome.trainer.optimizers or ()):
        ctx.require("fit", asking)
        raise Skipped("fit stopped before configure_optimizers was parsed")
    return outcome


def logged_keys(outcome) -> list[str]:
    return sorted(outcome.trainer.callback_metrics)


@check("MOD-006", "configure_optimizers returns a format the installed Lightning accepts.",
       source=f"{OPTIMIZER}::_configure_optimizers; {OPTIMIZER_TESTS}",
       claims=(r"Unknown configuration for model optimizers", r"lr scheduler dict must",
               r'"interval" key in lr scheduler dict',
               r"must include a monitor when a `ReduceLROnPlateau`",
               r"Training with multiple optimizers is only supported with manual",
               r"Some schedulers are attached", r"The provided lr scheduler",
               r"Found unsupported keys in the optimizer configuration"),
       fix="Return an Optimizer, a list of them, ([optimizers], [schedulers]) or "
           '{"optimizer": ..., "lr_scheduler": {"scheduler": ..., "monitor": ...}}.')
def optimizer_format(ctx):
    outcome = configured(ctx, "MOD-006")
    if type(outcome.trainer.optimizers[0]).__name__ == "_MockOptimizer":
        raise Warned("configure_optimizers returned None: fit runs without an optimizer and "
                     "the weights never change. Return an optimizer unless that is intended.")


def unoptimized(module, optimizers) -> list[str]:
    """The module's trainable parameters that no optimizer's param groups hold, by name."""
    optimized = {id(p) for optimizer in optimizers
                 for group in optimizer.param_groups for p in group["params"]}
    return [name for name, p in module.named_parameters()
            if p.requires_grad and id(p) not in optimized]


@check("MOD-007", "Every trainable parameter belongs to an optimizer from configure_optimizers.",
       source=f"{OPTIMIZER}::_init_optimizers_and_lr_schedulers",
       fix="Build the optimizer from self.parameters() (or list every submodule's parameters), "
           "or freeze the parameters with requires_grad_(False).")
def parameters_optimized(ctx):
    outcome = configured(ctx, "MOD-007")
    missing = unoptimized(outcome.module, outcome.trainer.optimizers)
    if missing:
        raise Failed(f"no optimizer holds {shorten(missing)}, so they never train.")


@check("MOD-008", "Every scheduler monitor names a metric that the module logs.",
       source="lightning/pytorch/loops/training_epoch_loop.py::_update_learning_rates",
       claims=(r"ReduceLROnPlateau conditioned on metric .* which is not available",),
       fix="Log the monitored key with self.log (e.g. self.log(\"val_loss\", loss) in "
           "validation_step) or monitor a key the module logs.")
def scheduler_monitors(ctx):
    outcome = configured(ctx, "MOD-008")
    if outcome.error is not None:
        ctx.require("fit", "MOD-008")  # the metrics are known only when fit completes
    monitors = [config.monitor for config in outcome.trainer.lr_scheduler_configs
                if getattr(config, "monitor", None)]
    missing = [key for key in monitors if key not in outcome.trainer.callback_metrics]
    if missing:
        raise Failed(f"the scheduler monitors {missing} but the module logs "
                     f"{logged_keys(outcome)}.")


def _callbacks(module) -> list:
    found = module.configure_callbacks()
    return list(found) if isinstance(found, (list, tuple)) else [found] if found else []


@check("MOD-009", "Every monitor of a callback from configure_callbacks is a key the module logs.",
       source="lightning/pytorch/callbacks/model_checkpoint.py::_validate_monitor_key; "
              "callbacks/early_stopping.py::_validate_condition_metric",
       claims=(r"could not find the monitored key", r"Early stopping conditioned on metric"),
       fix="Log the monitored key with self.log in a hook that runs before the callback reads "
           "it (validation_step for a val_* key), or monitor a key the module logs.")
def callback_monitors(ctx):
    callbacks = _callbacks(ctx.first)
    monitors = {type(c).__name__: c.monitor for c in callbacks if getattr(c, "monitor", None)}
    if not monitors:
        return
    outcome = ctx.fit
    if outcome.error is not None:
        ctx.require("fit", "MOD-009")
    logged = outcome.trainer.callback_metrics
    missing = {name: key for name, key in monitors.items() if key not in logged}
    if missing:
        raise Failed(f"{missing} monitor keys the module does not log; it logs "
                     f"{logged_keys(outcome)}.")
