"""What ``configure_optimizers`` may return, normalised into optimizers and scheduler configs.

Accepted shapes (Lightning 2.6 ``core/optimizer.py``):
    Optimizer | [Optimizer, ...] | ([Optimizer, ...], [Scheduler or config dict, ...] or one of
    them)
    | {"optimizer": Optimizer, "lr_scheduler": Scheduler or config dict, "monitor": str} | [such
    dicts] | None
"""

import warnings
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler, OneCycleLR, ReduceLROnPlateau

from .data import takes_param
from .errors import MisconfigurationException

__all__ = ["LRSchedulerConfig", "LightningOptimizer", "parse_optimizers"]

_OPTIMIZER_KEYS = {"optimizer", "lr_scheduler", "monitor"}
_UNKNOWN_CONFIGURATION = (
    "Unknown configuration for model optimizers. Output from `model.configure_optimizers()` should"
    " be one of:\n * `Optimizer`\n * [`Optimizer`]\n * ([`Optimizer`], [`LRScheduler`])\n"
    ' * {"optimizer": `Optimizer`, (optional) "lr_scheduler": `LRScheduler`}\n'
)
_MULTIPLE_OPTIMIZERS = (
    "Training with multiple optimizers is only supported with manual optimization. Set"
    " `self.automatic_optimization = False`, then access your optimizers in `training_step` with"
    " `opt1, opt2, ... = self.optimizers()`."
)


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


def parse_optimizers(conf, module, custom_lr_scheduler_step):
    """Turn the output of ``configure_optimizers()`` into ``(optimizers, scheduler_configs)``.

    ``custom_lr_scheduler_step`` says whether the module overrides ``lr_scheduler_step``, which
    allows
    schedulers that do not follow PyTorch's API.
    """
    if conf is None:
        warnings.warn(
            "`LightningModule.configure_optimizers` returned `None`, this fit will run with no"
            " optimizer",
            stacklevel=2,
        )
        conf = _MockOptimizer()
    optimizers, schedulers, monitor = _split(conf)
    configs = [_scheduler_config(scheduler, monitor) for scheduler in schedulers]
    if takes_param(module.training_step, "optimizer_idx", explicit=True):
        raise RuntimeError(
            "Training with multiple optimizers is only supported with manual optimization. Remove"
            " the `optimizer_idx` argument from `training_step`, set `self.automatic_optimization"
            " = False` and access your optimizers in `training_step` with `opt1, opt2, ... ="
            " self.optimizers()`."
        )
    if module.automatic_optimization and len(optimizers) > 1:
        raise RuntimeError(_MULTIPLE_OPTIMIZERS)
    require_torch_api = module.automatic_optimization and not custom_lr_scheduler_step
    _validate_schedulers(configs, optimizers, require_torch_api)
    return optimizers, configs


# Lightning's `Optimizable` protocol: anything shaped like a torch optimizer counts as one
_OPTIMIZER_MEMBERS = (
    "step",
    "zero_grad",
    "state_dict",
    "load_state_dict",
    "param_groups",
    "defaults",
)


def _is_optimizer(obj):
    return all(hasattr(obj, name) for name in (*_OPTIMIZER_MEMBERS, "state"))


def _split(conf):
    """Return ``(optimizers, schedulers, monitor)`` for one of the accepted shapes."""
    if _is_optimizer(conf):
        return [conf], [], None
    is_sequence = isinstance(conf, (list, tuple))
    if (
        is_sequence
        and len(conf) == 2
        and isinstance(conf[0], list)
        and all(map(_is_optimizer, conf[0]))
    ):
        optimizers, schedulers = conf
        return optimizers, schedulers if isinstance(schedulers, list) else [schedulers], None
    if isinstance(conf, dict):
        _check_optimizer_dict(conf)
        schedulers = [conf["lr_scheduler"]] if "lr_scheduler" in conf else []
        return [conf["optimizer"]], schedulers, conf.get("monitor")
    if is_sequence and all(isinstance(item, dict) for item in conf):
        for item in conf:
            _check_optimizer_dict(item)
        # Note: as in Lightning, a top-level "monitor" is ignored in this shape; only the scheduler
        # dict's counts.
        schedulers = [
            _as_scheduler_dict(item["lr_scheduler"]) for item in conf if "lr_scheduler" in item
        ]
        return [item["optimizer"] for item in conf], schedulers, None
    if is_sequence and all(map(_is_optimizer, conf)):
        return list(conf), [], None
    raise MisconfigurationException(_UNKNOWN_CONFIGURATION)


def _as_scheduler_dict(scheduler):
    return dict(scheduler) if isinstance(scheduler, dict) else {"scheduler": scheduler}


def _check_optimizer_dict(conf):
    extra_keys = conf.keys() - _OPTIMIZER_KEYS
    if extra_keys:
        warnings.warn(
            f"Found unsupported keys in the optimizer configuration: {set(extra_keys)}",
            RuntimeWarning,
            stacklevel=2,
        )


def _scheduler_config(scheduler, monitor):
    """Normalise a bare scheduler or a scheduler dict into an ``LRSchedulerConfig``."""
    if isinstance(scheduler, dict):
        return _config_from_dict(scheduler)
    if isinstance(scheduler, ReduceLROnPlateau):
        if monitor is None:
            raise MisconfigurationException(
                "`configure_optimizers` must include a monitor when a `ReduceLROnPlateau`"
                ' scheduler is used. For example: {"optimizer": optimizer, "lr_scheduler":'
                ' scheduler, "monitor": "metric_to_track"}'
            )
        return LRSchedulerConfig(scheduler, reduce_on_plateau=True, monitor=monitor)
    return LRSchedulerConfig(scheduler)


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
            'The lr scheduler dict must have the key "scheduler" with its item being'
            " an lr scheduler"
        )
    if "interval" in scheduler and scheduler["interval"] not in ("step", "epoch"):
        raise MisconfigurationException(
            'The "interval" key in lr scheduler dict must be "step" or "epoch" but is'
            f' "{scheduler["interval"]}"'
        )
    return _check_scheduler_dict(dict(scheduler))


def _check_scheduler_dict(scheduler):
    scheduler.setdefault("reduce_on_plateau", isinstance(scheduler["scheduler"], ReduceLROnPlateau))
    if scheduler["reduce_on_plateau"] and scheduler.get("monitor") is None:
        raise MisconfigurationException(
            "The lr scheduler dict must include a monitor when a `ReduceLROnPlateau` scheduler is"
            ' used. For example: {"optimizer": optimizer, "lr_scheduler":'
            ' {"scheduler": scheduler, "monitor": "your_loss"}}'
        )
    if (
        isinstance(scheduler["scheduler"], OneCycleLR)
        and scheduler.get("interval", "epoch") == "epoch"
    ):
        warnings.warn(
            "A `OneCycleLR` scheduler is using 'interval': 'epoch'. Are you sure you didn't mean"
            " 'interval': 'step'?",
            RuntimeWarning,
            stacklevel=2,
        )
    return LRSchedulerConfig(**scheduler)


def _validate_schedulers(configs, optimizers, require_torch_api):
    """Lightning's checks, in its order: attached optimizers first, then the scheduler API."""
    for config in configs:
        if config.scheduler.optimizer not in optimizers:
            raise MisconfigurationException(
                "Some schedulers are attached with an optimizer that wasn't returned from"
                " `configure_optimizers`."
            )
    for config in configs:
        name = type(config.scheduler).__name__
        stateful = all(
            callable(getattr(config.scheduler, method, None))
            for method in ("state_dict", "load_state_dict")
        )
        if not stateful:
            raise TypeError(
                f"The provided lr scheduler `{name}` is invalid. It should have `state_dict` and"
                " `load_state_dict` methods defined."
            )
        if require_torch_api and not isinstance(config.scheduler, (LRScheduler, ReduceLROnPlateau)):
            raise MisconfigurationException(
                f"The provided lr scheduler `{name}` doesn't follow PyTorch's LRScheduler API. You"
                " should override the `LightningModule.lr_scheduler_step` hook with your own logic"
                " if you are using a custom LR scheduler."
            )


class LightningOptimizer:
    """Wraps an optimizer so that ``step()`` runs the Trainer's hooks after the closure.

    Like Lightning's, the wrapper's class is a subclass of the wrapped optimizer's class named
    ``"Lightning" + <optimizer class name>``, so ``isinstance`` checks on the optimizer keep
    working.
    """

    def __init__(self, optimizer, step_fn):
        self._optimizer = optimizer
        self._step_fn = step_fn  # step_fn(optimizer, closure, **kwargs), provided by the Trainer
        self.__class__ = type(
            "Lightning" + type(optimizer).__name__, (LightningOptimizer, type(optimizer)), {}
        )

    @property
    def optimizer(self):
        return self._optimizer

    def step(self, closure=None, **kwargs):
        """Run ``closure`` (or nothing), the before-optimizer-step hooks and the wrapped step."""
        if closure is None:
            closure = _do_nothing
        elif not callable(closure):
            raise MisconfigurationException(
                "When `optimizer.step(closure)` is called, the closure should be callable"
            )
        return self._step_fn(self._optimizer, closure, **kwargs)

    def __getattr__(self, item):
        return getattr(self._optimizer, item)


def _do_nothing():
    return None


class _MockOptimizer(torch.optim.Optimizer):
    """Stands in when ``configure_optimizers`` returns None: a step only runs the closure."""

    def __init__(self):
        super().__init__([torch.zeros(1)], {})

    def add_param_group(self, param_group):
        pass

    def load_state_dict(self, state_dict):
        pass

    def state_dict(self):
        return {}

    def step(self, closure=None):
        if closure is not None:
            return closure()

    def zero_grad(self, set_to_none=True):
        pass

    def __repr__(self):
        return "No Optimizer"
