"""When learning-rate schedulers step in automatic optimization (Lightning 2.6's epoch loop).

- "step" schedulers: after each batch that stepped the optimizer, when ``(batch_idx + 1) % frequency
== 0``.
- "epoch" schedulers: on the last batch of the epoch, before on_train_batch_end, validation and
  checkpointing, when ``(current_epoch + 1) % frequency == 0``.
- ReduceLROnPlateau-like schedulers step later (after validation, or after on_train_epoch_end), with
the
  value of their monitored metric.
"""

import warnings

from .errors import MisconfigurationException

__all__ = ["step_lr_schedulers"]


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
    metrics = trainer._callback_metrics
    if config.monitor in metrics:
        return metrics[config.monitor]
    if config.strict:
        raise MisconfigurationException(
            f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available."
            f" Available metrics are: {list(metrics)}. Condition can be set using `monitor` key in"
            " lr scheduler dict"
        )
    warnings.warn(
        f"ReduceLROnPlateau conditioned on metric {config.monitor} which is not available but"
        " strict is set to `False`. Skipping learning rate update.",
        RuntimeWarning,
        stacklevel=2,
    )
    return None
