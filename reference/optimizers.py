"""What ``configure_optimizers`` may return, normalised into optimizers and scheduler configs.

Accepted shapes (Lightning 2.6 ``core/optimizer.py``)::

    Optimizer | [Optimizer, ...] | (Optimizer, ...)
    ([Optimizer, ...], [Scheduler or config dict, ...])  or  ([Optimizer, ...], Scheduler)
    {"optimizer": Optimizer, "lr_scheduler": Scheduler or config dict, "monitor": str}
    [{"optimizer": ...}, ...]   (a top-level "monitor" is ignored in this shape)
    None                        (a warning, and a stand-in optimizer that only runs the closure)

Scheduler configs and their checks live in ``schedulers.py``.
"""

import warnings

import torch

from .data import takes_param
from .errors import MisconfigurationException, clause_message
from .schedulers import scheduler_configs, validate_schedulers

__all__ = ["LightningOptimizer", "parse_optimizers"]

_OPTIMIZER_KEYS = {"optimizer", "lr_scheduler", "monitor"}
_UNKNOWN_CONFIGURATION = (
    "Output from `model.configure_optimizers()` should be one of:\n * `Optimizer`\n"
    " * [`Optimizer`]\n * ([`Optimizer`], [`LRScheduler`])\n"
    ' * {"optimizer": `Optimizer`, (optional) "lr_scheduler": `LRScheduler`}\n'
)
_MULTIPLE_OPTIMIZERS = (
    "Training with multiple optimizers is only supported with manual optimization"
)
_ACCESS_OPTIMIZERS = (
    "access your optimizers in `training_step` with `opt1, opt2, ... = self.optimizers()`."
)


def parse_optimizers(conf, module, custom_lr_scheduler_step):
    """Turn the output of ``configure_optimizers()`` into ``(optimizers, scheduler_configs)``.

    ``custom_lr_scheduler_step`` says whether the module overrides ``lr_scheduler_step``, which
    allows schedulers that do not follow PyTorch's API. The checks run in Lightning's order.
    """
    if conf is None:
        warnings.warn(
            "`LightningModule.configure_optimizers` returned `None`, this fit will run with no"
            " optimizer",
            stacklevel=2,
        )
        conf = _MockOptimizer()
    optimizers, schedulers, monitor = _split(conf)
    configs = scheduler_configs(schedulers, monitor, module.automatic_optimization)
    _check_automatic_has_one_optimizer(optimizers, module)
    require_torch_api = module.automatic_optimization and not custom_lr_scheduler_step
    validate_schedulers(configs, optimizers, require_torch_api)
    return optimizers, configs


def _check_automatic_has_one_optimizer(optimizers, module):
    if takes_param(module.training_step, "optimizer_idx", explicit=True):
        fix = (
            "Remove the `optimizer_idx` argument from `training_step`, set"
            f" `self.automatic_optimization = False` and {_ACCESS_OPTIMIZERS}"
        )
        raise RuntimeError(clause_message("OPT-026", _MULTIPLE_OPTIMIZERS, fix))
    if module.automatic_optimization and len(optimizers) > 1:
        fix = f"Set `self.automatic_optimization = False`, then {_ACCESS_OPTIMIZERS}"
        raise RuntimeError(clause_message("OPT-025", _MULTIPLE_OPTIMIZERS, fix))


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
    message = "Unknown configuration for model optimizers"
    raise MisconfigurationException(clause_message("OPT-015", message, _UNKNOWN_CONFIGURATION))


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


class LightningOptimizer:
    """Wraps an optimizer so that ``step()`` runs the Trainer's hooks after the closure.

    Like Lightning's, the wrapper's class is a subclass of the wrapped optimizer's class named
    ``"Lightning" + <optimizer class name>``, so ``isinstance`` checks on the optimizer keep
    working.
    """

    def __init__(self, optimizer, step_fn):
        self._optimizer = optimizer
        self._step_fn = step_fn  # step_fn(optimizer, closure, **kwargs), provided by the Trainer
        self._on_after_step = _do_nothing  # the manual optimization loop counts steps here
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
        output = self._step_fn(self._optimizer, closure, **kwargs)
        self._on_after_step()
        return output

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
