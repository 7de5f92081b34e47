"""Learning-rate scheduler configs, and when automatic optimization steps the schedulers.

Configs (Lightning 2.6 ``core/optimizer.py``): a bare scheduler or a config dict becomes an
``LRSchedulerConfig`` with Lightning's defaults; bad dicts and schedulers raise, naming the clause.

Stepping (Lightning 2.6 ``loops/training_epoch_loop.py`` and ``fit_loop.py``):

- "step" schedulers: after each batch that stepped the optimizer, when
  ``(batch_idx + 1) % frequency == 0`` (the batch index within the epoch, not global_step).
- "epoch" schedulers: on the last batch of the epoch, before on_train_batch_end, validation and
  checkpointing, when ``(current_epoch + 1) % frequency == 0``.
- ReduceLROnPlateau-like schedulers step later (after validation, or after on_train_epoch_end),
  with the value of their monitored metric.
"""

import warnings
from dataclasses import dataclass, fields
from typing import Any

from torch.optim.lr_scheduler import LRScheduler, OneCycleLR, ReduceLROnPlateau

from .errors import MisconfigurationException, clause_message

__all__ = ["LRSchedulerConfig", "scheduler_configs", "step_lr_schedulers", "validate_schedulers"]

# keys that only automatic optimization acts on; "interval" stays (LearningRateMonitor reads it)
_AUTOMATIC_ONLY_KEYS = ("reduce_on_plateau", "monitor", "strict")


@dataclass
class LRSchedulerConfig:
    """A scheduler and when to step it; the defaults are Lightning's."""

    scheduler: Any
    name: str | None = None
    interval: str = "epoch"
    frequency: int = 1
    reduce_on_plateau: bool = False
    monitor: str | None = None
    strict: bool = True


def scheduler_configs(schedulers, monitor, automatic):
    """One config per scheduler or config dict; ``monitor`` is the optimizer dict's own."""
    if automatic:
        return [_automatic_config(scheduler, monitor) for scheduler in schedulers]
    return [_manual_config(scheduler) for scheduler in schedulers]


def _automatic_config(scheduler, monitor):
    if isinstance(scheduler, dict):
        return _config_from_dict(scheduler)
    if isinstance(scheduler, ReduceLROnPlateau):
        if monitor is None:
            raise MisconfigurationException(
                clause_message(
                    "OPT-019",
                    "`configure_optimizers` must include a monitor when a `ReduceLROnPlateau`"
                    " scheduler is used",
                    'For example: {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor":'
                    ' "metric_to_track"}',
                )
            )
        return LRSchedulerConfig(scheduler, reduce_on_plateau=True, monitor=monitor)
    return LRSchedulerConfig(scheduler)


def _manual_config(scheduler):
    """Manual optimization steps its schedulers itself: the keys about stepping are dropped."""
    if not isinstance(scheduler, dict):
        return LRSchedulerConfig(scheduler)
    ignored = [key for key in scheduler if key in _AUTOMATIC_ONLY_KEYS]
    if ignored:
        warnings.warn(
            f"The lr scheduler dict contains the key(s) {ignored}, but the keys will be ignored."
            " You need to call `lr_scheduler.step()` manually in manual optimization.",
            RuntimeWarning,
            stacklevel=2,
        )
    return LRSchedulerConfig(**{k: v for k, v in scheduler.items() if k not in ignored})


def _config_from_dict(scheduler):
    supported = {field.name for field in fields(LRSchedulerConfig)}
    extra_keys = scheduler.keys() - supported
    if extra_keys:
        warnings.warn(
            f"Found unsupported keys in the lr scheduler dict: {extra_keys}. HINT: remove them from"
            " the output of `configure_optimizers`.",
            RuntimeWarning,
            stacklevel=2,
        )
        scheduler = {key: value for key, value in scheduler.items() if key in supported}
    if "scheduler" not in scheduler:
        raise MisconfigurationException(
            clause_message(
                "OPT-017",
                'The lr scheduler dict must have the key "scheduler" with its item being an lr'
                " scheduler",
                'For example: {"scheduler": scheduler, "interval": "epoch"}',
            )
        )
    interval = scheduler.get("interval", "epoch")
    if interval not in ("step", "epoch"):
        raise MisconfigurationException(
            clause_message(
                "OPT-018",
                'The "interval" key in lr scheduler dict must be "step" or "epoch" but is'
                f' "{interval}"',
                '"step" steps after every optimizer step, "epoch" once per epoch',
            )
        )
    return _plateau_checked(dict(scheduler))


def _plateau_checked(scheduler):
    scheduler.setdefault("reduce_on_plateau", isinstance(scheduler["scheduler"], ReduceLROnPlateau))
    if scheduler["reduce_on_plateau"] and scheduler.get("monitor") is None:
        raise MisconfigurationException(
            clause_message(
                "OPT-020",
                "The lr scheduler dict must include a monitor when a `ReduceLROnPlateau` scheduler"
                " is used",
                'For example: {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler,'
                ' "monitor": "your_loss"}}',
            )
        )
    is_one_cycle = isinstance(scheduler["scheduler"], OneCycleLR)
    if is_one_cycle and scheduler.get("interval", "epoch") == "epoch":
        warnings.warn(
            "A `OneCycleLR` scheduler is using 'interval': 'epoch'. Are you sure you didn't mean"
            " 'interval': 'step'?",
            RuntimeWarning,
            stacklevel=2,
        )
    return LRSchedulerConfig(**scheduler)


def validate_schedulers(configs, optimizers, require_torch_api):
    """Lightning's checks, in its order: attached optimizers first, then the scheduler API."""
    for config in configs:
        if config.scheduler.optimizer not in optimizers:
            raise MisconfigurationException(
                clause_message(
                    "OPT-022",
                    "Some schedulers are attached with an optimizer that wasn't returned from"
                    " `configure_optimizers`",
                    "Return every optimizer that a scheduler is attached to.",
                )
            )
    for config in configs:
        _check_scheduler_api(config.scheduler, require_torch_api)


def _check_scheduler_api(scheduler, require_torch_api):
    name = type(scheduler).__name__
    stateful = all(
        callable(getattr(scheduler, method, None)) for method in ("state_dict", "load_state_dict")
    )
    if not stateful:
        raise TypeError(
            clause_message(
                "OPT-023",
                f"The provided lr scheduler `{name}` is invalid",
                "It should have `state_dict` and `load_state_dict` methods defined.",
            )
        )
    if require_torch_api and not isinstance(scheduler, (LRScheduler, ReduceLROnPlateau)):
        raise MisconfigurationException(
            clause_message(
                "OPT-024",
                f"The provided lr scheduler `{name}` doesn't follow PyTorch's LRScheduler API",
                "You should override the `LightningModule.lr_scheduler_step` hook with your own"
                " logic if you are using a custom LR scheduler.",
            )
        )


def step_lr_schedulers(trainer, interval, plateau, batch_idx):
    """Call ``lr_scheduler_step`` for each due scheduler of ``interval`` (plateau or not)."""
    for config in trainer.lr_scheduler_configs:
        index = (batch_idx if interval == "step" else trainer.current_epoch) + 1
        due = config.interval == interval and index % config.frequency == 0
        if config.reduce_on_plateau != plateau or not due:
            continue
        metric = _monitored_value(trainer, config) if config.reduce_on_plateau else None
        if config.reduce_on_plateau and metric is None:
            continue  # strict=False and the metric is missing: skip this update
        trainer._call_module("lr_scheduler_step", config.scheduler, metric)


def _monitored_value(trainer, config):
    metrics = trainer.callback_metrics
    if config.monitor in metrics:
        return metrics[config.monitor]
    if config.strict:
        raise MisconfigurationException(
            clause_message(
                "OPT-047",
                f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available."
                f" Available metrics are: {list(metrics)}",
                "Condition can be set using `monitor` key in lr scheduler dict",
            )
        )
    warnings.warn(
        f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available but"
        " strict is set to `False`. Skipping learning rate update.",
        RuntimeWarning,
        stacklevel=2,
    )
    return None
