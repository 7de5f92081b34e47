"""The facts of the contract that ``ConformanceCallback`` checks, as functions of what it saw.

Each rule returns its violations as ``(clause, status, message)`` and only reads its inputs.
HOOK, LOG, CKPT and MAN clauses name what the run broke of Lightning's contract; MOD clauses
name what the module does that ``lightning-conformance check`` reports too.
"""

from __future__ import annotations

import functools
import numbers
from pathlib import Path

import torch

from lightning_conformance.checks._state import shorten
from lightning_conformance.checks.optimization import unoptimized
from lightning_conformance.clauses._logging import (
    CALLBACK_FORBIDDEN,
    FORBIDDEN,
    HOOK_LEVELS,
    PREDICT_HOOKS,
)

__all__ = [
    "Problem",
    "SCOPE_HOOKS",
    "STEP_HOOKS",
    "ScopeStack",
    "gradient_problem",
    "log_call_problems",
    "log_value_problem",
    "loss_problem",
    "manual_problems",
    "monitor_problems",
    "optimizer_key",
    "optimizer_problem",
    "scheduler_problems",
    "sentence",
    "step_order_problem",
]

# A violation the callback reports: (clause ID, status, message).
Problem = tuple[str, str, str]

# hook -> (opens or closes, scope). Scopes nest: a scope opens on top of one of its PARENTS.
SCOPE_HOOKS = {"setup": ("open", "stage"), "teardown": ("close", "stage"),
               "on_fit_start": ("open", "fit"), "on_fit_end": ("close", "fit"),
               "on_sanity_check_start": ("open", "sanity"),
               "on_sanity_check_end": ("close", "sanity")}
for _loop in ("train", "validation", "test", "predict"):
    for _level, _scope in (("", _loop), ("_epoch", f"{_loop}_epoch"), ("_batch", f"{_loop}_batch")):
        SCOPE_HOOKS[f"on_{_loop}{_level}_start"] = ("open", _scope)
        SCOPE_HOOKS[f"on_{_loop}{_level}_end"] = ("close", _scope)

# In fit, validation runs in the sanity check or inside a training epoch (HOOK-030); in
# validate, right inside the stage. Test and predict run only in their own stage.
PARENTS = {"stage": (None,), "fit": ("stage",), "sanity": ("fit",), "train": ("fit",),
           "validation": ("sanity", "train_epoch", "stage"), "test": ("stage",),
           "predict": ("stage",)}
for _loop in ("train", "validation", "test", "predict"):
    PARENTS[f"{_loop}_epoch"], PARENTS[f"{_loop}_batch"] = (_loop,), (f"{_loop}_epoch",)

# The order of one automatic-optimization batch's step hooks (HOOK-014: inside the closure).
STEP_HOOKS = ("on_before_zero_grad", "on_before_backward", "on_after_backward",
              "on_before_optimizer_step")
_STAGE_CLAUSES = {"validate": "HOOK-050", "test": "HOOK-051", "predict": "HOOK-052"}


def _fit_clause(scope: str, manual: bool) -> str:
    if scope == "train_batch":
        return "MAN-010" if manual else "HOOK-013"
    return "HOOK-002" if scope == "sanity" or scope.startswith("validation") else "HOOK-001"


class ScopeStack:
    """The open hook scopes of one stage: ``*_start`` hooks open one, ``*_end`` hooks close it."""

    def __init__(self) -> None:
        self.open: list[str] = []

    def describe(self) -> str:
        return " > ".join(self.open) or "nothing"

    def enter(self, hook: str, stage: str, manual: bool) -> Problem | None:
        """Record ``hook``; the violation it makes, or None."""
        action, scope = SCOPE_HOOKS[hook]
        clause = _STAGE_CLAUSES.get(stage) or _fit_clause(scope, manual)
        if action == "open":
            top = self.open[-1] if self.open else None
            self.open.append(scope)
            if top not in PARENTS[scope]:
                return clause, "failed", (f"{hook} was called inside {top or 'no scope'} "
                                          f"(open: {self.describe()})")
            return None
        return self._close(hook, scope, clause)

    def _close(self, hook: str, scope: str, clause: str) -> Problem | None:
        # Note: a module's on_train_batch_start returning -1 ends the epoch without
        # on_train_batch_end (HOOK-024): closing the epoch also closes that batch.
        if scope == "train_epoch" and self.open[-1:] == ["train_batch"]:
            self.open.pop()
        if self.open[-1:] == [scope]:
            self.open.pop()
            return None
        if scope in self.open:
            del self.open[self.open.index(scope):]
        return clause, "failed", (f"{hook} was called while {scope} was not the innermost "
                                  f"open scope (open: {self.describe()})")


def step_order_problem(seen: list[str], manual: bool):
    """The violation in the step hooks of the first training batch (in call order), or None."""
    if manual:  # several manual_backward calls may come, each a pair
        pairs = [h for h in seen if h in ("on_before_backward", "on_after_backward")]
        if pairs != ["on_before_backward", "on_after_backward"] * (len(pairs) // 2):
            return "MAN-005", "failed", (f"manual_backward's hooks came as {pairs}: each "
                                         "on_before_backward must be followed by on_after_backward")
        return None
    expected = [hook for hook in STEP_HOOKS if hook in seen]
    if seen != expected:
        return "HOOK-014", "failed", (f"the first training batch called {seen}; the closure "
                                      f"calls them once each, in the order {expected}")
    return None


def log_call_problems(hook: str | None, on_step, on_epoch) -> list[tuple]:
    """Violations of the logging table by ``self.log(on_step=..., on_epoch=...)`` in ``hook``."""
    if hook is None:
        return []
    where = f"self.log in {hook}"
    if hook in PREDICT_HOOKS:
        return [("LOG-006", "failed", f"{where}: predict hooks cannot log")]
    if hook in FORBIDDEN or hook in CALLBACK_FORBIDDEN:
        clause = "LOG-005" if hook in FORBIDDEN else "LOG-008"
        return [(clause, "failed", f"{where}: this hook does not allow logging")]
    levels = HOOK_LEVELS.get(hook)
    if levels is None:
        return []
    problems = []
    if on_step is not None and on_step not in levels.on_step:
        problems.append(("LOG-003", "failed", f"{where} with on_step={on_step}: allowed "
                                              f"{list(levels.on_step)}"))
    if on_epoch is not None and on_epoch not in levels.on_epoch:
        problems.append(("LOG-004", "failed", f"{where} with on_epoch={on_epoch}: allowed "
                                              f"{list(levels.on_epoch)}"))
    if on_step is False and on_epoch is False:
        problems.append(("LOG-022", "failed", f"{where} with on_step=False and on_epoch=False "
                                              "logs nothing"))
    return problems


def log_value_problem(name: str, value):
    """The violation of a value given to ``self.log(name, value)``, or None."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return "LOG-013", "failed", (f"self.log({name!r}) got a tensor of shape "
                                         f"{list(value.shape)}: log one number per key")
        return None
    if isinstance(value, numbers.Number) or _is_metric(value):
        return None
    return "LOG-014", "failed", (f"self.log({name!r}) got a {type(value).__name__}: log a "
                                 "number, a one-element tensor or a torchmetrics Metric")


def _is_metric(value) -> bool:  # without importing torchmetrics
    return any(cls.__name__ == "Metric" and cls.__module__.startswith("torchmetrics")
               for cls in type(value).__mro__)


def optimizer_key(optimizer) -> int:
    """The identity of the torch optimizer, also behind a LightningOptimizer."""
    return id(getattr(optimizer, "_optimizer", optimizer))


def optimizer_problem(module, optimizers):
    """MOD-007 when a trainable parameter is in no optimizer's param groups, or None."""
    missing = unoptimized(module, optimizers)
    if missing:
        return "MOD-007", "failed", f"no optimizer holds {shorten(missing)}, so they never train"
    return None


def loss_problem(loss):
    """MOD-014 when the loss of an automatic step is not one number that requires grad (backward
    is about to fail on it), or None. Manual backward may pass a tensor and its gradient."""
    if not isinstance(loss, torch.Tensor):
        return None
    if loss.numel() != 1:
        return "MOD-014", "failed", (f"training_step returned a loss of shape "
                                     f"{list(loss.shape)}: reduce it to one number")
    if not loss.requires_grad:
        return "MOD-014", "failed", "training_step returned a loss that does not require grad"
    return None


def gradient_problem(module, optimizer):
    """MOD-015 when a trainable parameter of ``optimizer`` has no gradient at its step."""
    names = {id(p): name for name, p in module.named_parameters()}
    missing = [names.get(id(p), "?") for group in optimizer.param_groups
               for p in group["params"] if p.requires_grad and p.grad is None]
    if missing:
        return "MOD-015", "failed", (f"{', '.join(missing[:5])} got no gradient before the "
                                     "first step of their optimizer")
    return None


def manual_problems(optimizers, stepped: dict, backwards: int) -> list[tuple]:
    """MOD-026 for each optimizer never stepped, MOD-025 when manual_backward never ran."""
    problems = [("MOD-026", "failed", f"optimizer {index} ({type(optimizer).__name__}) was "
                                      "never stepped: call its step() in training_step")
                for index, optimizer in enumerate(optimizers)
                if not stepped.get(optimizer_key(optimizer))]
    if stepped and not backwards:
        problems.append(("MOD-025", "failed", "no manual_backward ran: call "
                                              "self.manual_backward(loss), not loss.backward()"))
    return problems


def scheduler_problems(configs) -> list[tuple]:
    """OPT-029 for a OneCycleLR stepped per epoch (Lightning warns; it is meant per step)."""
    return [("OPT-029", "warned", "OneCycleLR is stepped once per epoch (interval 'epoch'); "
                                  "it is meant to be stepped per step")
            for config in configs
            if type(config.scheduler).__name__ == "OneCycleLR" and config.interval == "epoch"]


_MONITORING = {"ModelCheckpoint", "EarlyStopping"}


def monitor_problems(trainer, logged: set) -> list[tuple]:
    """MOD-008 / MOD-009 for each scheduler or callback monitor that was never logged."""
    available = logged | set(trainer.callback_metrics)
    problems = [("MOD-008", "failed", f"the scheduler monitors {config.monitor!r}, which was "
                                      "never logged")
                for config in trainer.lr_scheduler_configs
                if config.monitor and config.monitor not in available]
    for callback in trainer.callbacks:
        monitor = getattr(callback, "monitor", None)
        kinds = {cls.__name__ for cls in type(callback).__mro__}
        if kinds & _MONITORING and monitor and monitor not in available:
            problems.append(("MOD-009", "failed", f"{type(callback).__name__} monitors "
                                                  f"{monitor!r}, which was never logged"))
    return problems


@functools.lru_cache(maxsize=1)
def _sentences() -> dict[str, str]:
    """Clause ID -> sentence, from the generated index (no clause module gets imported)."""
    index = Path(__file__).resolve().parent.parent / "CLAUSES.md"
    rows = (line.split(" | ") for line in index.read_text().splitlines() if line.startswith("| "))
    return {row[0][2:]: row[2] for row in rows if len(row) > 2}


def sentence(clause: str) -> str:
    """The sentence of ``clause`` ("" when neither the index nor the checks know it)."""
    if clause in _sentences():
        return _sentences()[clause]
    from lightning_conformance.checks import by_id  # a MOD check that the index does not list yet

    try:
        return by_id(clause).sentence
    except KeyError:
        return ""
