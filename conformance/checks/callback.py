"""``ConformanceCallback``: watch a real Trainer run and report contract violations by clause.

Passive: it reads what the Trainer hands its hooks and wraps the module's ``log`` during the
stage (to see each call before Lightning checks it); it adds no state, checkpoint entry, random
draw or per-step synchronisation (non-finite values are counted on the device, read once per
epoch). Violations become ``callback.results``; a summary is printed on rank zero at the end.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import warnings
from types import MethodType

import torch

from lightning_conformance.checks import _callback_checkpoints as checkpoints
from lightning_conformance.checks import _callback_rules as rules
from lightning_conformance.checks._callback_coverage import not_covered_line
from lightning_conformance.checks._engine import ConformanceError, ConformanceWarning
from lightning_conformance.reports.model import Result, Subject
from lightning_conformance.reports.terminal import result_lines

__all__ = ["SEVERITIES", "ConformanceCallback"]

SEVERITIES = ("warn", "error", "log")
_NAMESPACES = {"lightning": "lightning.pytorch"}
_CLASSES: dict[str, type] = {}


def ConformanceCallback(severity: str = "warn", *, namespace=None):
    """A Callback that reports, by clause ID, what a run does against the Lightning contract.

    Args:
        severity: "warn" issues a ConformanceWarning for each violation when it is seen;
            "error" does too and raises ConformanceError at the end of the stage if a
            violation failed; "log" only prints the summary.
        namespace: the Lightning the Trainer comes from: "lightning" (``lightning.pytorch``,
            the default when installed), "pytorch_lightning", or a module providing
            ``Callback``.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
    pl = _namespace(namespace)
    # a target's namespace may be a plain object: name it by the package of its Callback
    name = getattr(pl, "__name__", None) or pl.Callback.__module__.rsplit(".", 1)[0]
    if name not in _CLASSES:
        bases = (_Watcher, pl.Callback)
        _CLASSES[name] = type("ConformanceCallback", bases, {"__module__": __name__})
    return _CLASSES[name](severity, name)


def _namespace(namespace):
    if namespace is None:
        namespace = "lightning" if importlib.util.find_spec("lightning") else "pytorch_lightning"
    if isinstance(namespace, str):
        return importlib.import_module(_NAMESPACES.get(namespace, namespace))
    return namespace


def _rebuild(severity, namespace, state):
    callback = ConformanceCallback(severity, namespace=namespace)
    callback.__dict__.update(state)
    return callback


class _Watcher:
    """The hooks of ConformanceCallback; combined with the namespace's ``Callback`` class."""

    def __init__(self, severity: str, namespace: str):
        self.severity, self.namespace = severity, namespace
        self.results: list[Result] = []
        self._begin(None, "fit")

    def __reduce__(self):  # the class is built at run time: pickle through the factory
        state = {k: v for k, v in self.__dict__.items() if k != "_log_owner"}
        return _rebuild, (self.severity, self.namespace, state)

    def _begin(self, pl_module, stage) -> None:
        self._stage, self._first = str(getattr(stage, "value", stage)), len(self.results)
        self._manual = pl_module is not None and not pl_module.automatic_optimization
        self._subject = (Subject("module", type(pl_module).__qualname__)
                         if pl_module is not None else None)
        self._scopes = rules.ScopeStack()
        self._reported: set[tuple] = set()
        self._logged: set[str] = set()  # names self.log was called with
        self._first_batch, self._batches, self._backwards = None, 0, 0
        self._stepped: dict[int, int] = {}
        self._bad_loss = None
        self._bad_logs: dict[str, int] = {}  # name -> non-finite values logged
        self._probed, self._resumed, self._done, self._epochs = False, None, False, 0

    # -- reporting -------------------------------------------------------------------------

    def _report(self, clause: str, status: str, message: str, key=None) -> None:
        key = key or (clause, message)
        if key in self._reported:
            return
        self._reported.add(key)
        self.results.append(Result(clause, status, message, sentence=rules.sentence(clause),
                                   subject=self._subject))
        if self.severity != "log":
            warnings.warn(f"{clause} {message}", ConformanceWarning, stacklevel=2)

    def _report_all(self, problems) -> None:
        for problem in filter(None, problems):
            self._report(*problem)

    def summary(self, error: BaseException | None = None) -> str:
        """What this stage's run did against the contract, one violation per line; after a fit,
        the MOD checks that a watched run cannot show."""
        found = self.results[self._first:]
        ended = f" (it stopped with {type(error).__name__})" if error is not None else ""
        head = f"{len(found)} contract violation(s)" if found else "no contract violation seen"
        lines = [f"lightning-conformance: {head} in {self._stage}{ended}{':' if found else '.'}"]
        for result in found:
            lines += result_lines(result)
        return "\n".join(lines + [not_covered_line()] * (self._stage == "fit"))

    def _finish(self, trainer, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        self._flush_flags()
        self._unwatch_log()
        if getattr(trainer, "is_global_zero", True):
            print(self.summary(error))
        failed = [r for r in self.results[self._first:] if r.status == "failed"]
        if error is None and failed and self.severity == "error":
            raise ConformanceError(failed)

    # -- hook order ------------------------------------------------------------------------

    def _enter(self, hook: str) -> None:
        problem = self._scopes.enter(hook, self._stage, self._manual)
        if problem:  # the first misplaced hook of a kind explains the rest
            self._report(*problem, key=(problem[0], "order"))

    def _step_hook(self, hook: str) -> None:
        needed, clause = ("train", "MAN-010") if self._manual else ("train_batch", "HOOK-013")
        if needed not in self._scopes.open:
            self._report(clause, "failed", f"{hook} was called outside {needed} "
                                           f"(open: {self._scopes.describe()})",
                         key=(clause, "order"))
        if self._first_batch is not None:
            self._first_batch.append(hook)

    def setup(self, trainer, pl_module, stage):
        self._begin(pl_module, stage)
        self._enter("setup")
        self._watch_log(pl_module)

    def teardown(self, trainer, pl_module, stage):
        self._enter("teardown")
        self._finish(trainer)

    def on_fit_start(self, trainer, pl_module):
        self._enter("on_fit_start")
        self._report_all(rules.scheduler_problems(trainer.lr_scheduler_configs))
        self._report_all([rules.optimizer_problem(pl_module, trainer.optimizers)])

    def on_fit_end(self, trainer, pl_module):
        self._enter("on_fit_end")
        self._finish(trainer)

    def on_exception(self, trainer, pl_module, exception):
        if self._epochs:  # e.g. Lightning's own error for a monitor never logged (MOD-008)
            self._report_all(rules.monitor_problems(trainer, self._logged))
        self._finish(trainer, exception)

    # -- training --------------------------------------------------------------------------

    def on_train_start(self, trainer, pl_module):
        self._enter("on_train_start")
        if self._resumed is not None and self._resumed != trainer.global_step:
            self._report("CKPT-017", "failed", f"resumed at global_step {trainer.global_step}"
                                               f"; the checkpoint saved {self._resumed}")

    def on_train_batch_start(self, trainer, pl_module, *args, **kwargs):
        self._enter("on_train_batch_start")
        self._batches += 1
        self._first_batch = [] if self._batches == 1 else None

    def on_train_batch_end(self, trainer, pl_module, *args, **kwargs):
        if self._first_batch is not None:
            self._report_all([rules.step_order_problem(self._first_batch, self._manual)])
            self._first_batch = None
        self._enter("on_train_batch_end")

    def on_train_epoch_end(self, trainer, pl_module):
        self._enter("on_train_epoch_end")
        self._epochs += 1
        self._flush_flags()

    def on_train_end(self, trainer, pl_module):
        self._enter("on_train_end")
        self._report_all(rules.monitor_problems(trainer, self._logged))
        if self._manual and self._batches:
            self._report_all(rules.manual_problems(trainer.optimizers, self._stepped,
                                                   self._backwards))

    def on_before_zero_grad(self, trainer, pl_module, optimizer):
        self._step_hook("on_before_zero_grad")

    def on_before_backward(self, trainer, pl_module, loss):
        self._step_hook("on_before_backward")
        self._backwards += 1
        self._report_all([] if self._manual else [rules.loss_problem(loss)])
        if isinstance(loss, torch.Tensor):
            bad = (~torch.isfinite(loss.detach())).sum()  # read once per epoch: no sync here
            self._bad_loss = bad if self._bad_loss is None else self._bad_loss + bad

    def on_after_backward(self, trainer, pl_module):
        self._step_hook("on_after_backward")

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self._step_hook("on_before_optimizer_step")
        key = rules.optimizer_key(optimizer)
        self._stepped[key] = self._stepped.get(key, 0) + 1
        if self._stepped[key] == 1:  # the first step of each optimizer
            self._report_all([rules.gradient_problem(pl_module, optimizer)])

    def _flush_flags(self) -> None:
        """Report the non-finite losses and logged values seen so far (one sync per epoch)."""
        if self._bad_loss is not None and int(self._bad_loss):
            self._report("MOD-014", "failed", "the loss was NaN or infinite in a training step")
        self._bad_loss = None
        for name, count in self._bad_logs.items():
            if int(count):
                self._report("MOD-017", "failed", f"{name!r} was logged as NaN or infinite")
        self._bad_logs = {}

    # -- logging ---------------------------------------------------------------------------

    def _watch_log(self, module) -> None:
        watcher, signature = self, inspect.signature(type(module).log)

        def log(module_self, *args, **kwargs):
            watcher._on_log(module_self, signature, args, kwargs)
            return type(module_self).log(module_self, *args, **kwargs)

        log.watched = True  # type: ignore[attr-defined]
        previous = module.__dict__.get("log")
        if getattr(getattr(previous, "__func__", None), "watched", False):
            previous = None  # left behind by a stage that ended without teardown
        self._log_owner = (module, previous)
        module.log = MethodType(log, module)

    def _unwatch_log(self) -> None:
        module, previous = self.__dict__.pop("_log_owner", (None, None))
        if module is not None and previous is None:
            module.__dict__.pop("log", None)
        elif module is not None:
            module.log = previous

    def _on_log(self, module, signature, args, kwargs) -> None:
        try:
            call = signature.bind(module, *args, **kwargs).arguments
        except TypeError:
            return  # Lightning itself reports a malformed call
        name, value = call.get("name"), call.get("value")
        self._logged.add(name)
        hook = getattr(module, "_current_fx_name", None)
        self._report_all(rules.log_call_problems(hook, call.get("on_step"), call.get("on_epoch")))
        self._report_all([rules.log_value_problem(name, value)])
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            bad = int((~torch.isfinite(value.detach())).sum())
            self._bad_logs[name] = self._bad_logs.get(name, 0) + bad
        elif isinstance(value, float) and not math.isfinite(value):
            self._report("MOD-017", "failed", f"{name!r} was logged as {value}")

    # -- checkpoints -----------------------------------------------------------------------

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        # Only full saves reach callbacks (CKPT-009); the module's additions come after.
        self._report_all(checkpoints.checkpoint_problems(checkpoint, trainer, pl_module))
        if not self._probed:  # the loading checks pickle the checkpoint: once per stage is enough
            self._probed = True
            self._report_all(checkpoints.loading_problems(type(pl_module), checkpoint))

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        self._report_all([checkpoints.resume_problem(checkpoint)])
        self._resumed = checkpoint.get("global_step")


def _scope_hook(hook: str):
    def method(self, trainer, pl_module, *args, **kwargs):
        self._enter(hook)

    method.__name__ = method.__qualname__ = hook
    return method


for _hook in rules.SCOPE_HOOKS:
    if _hook not in vars(_Watcher):
        setattr(_Watcher, _hook, _scope_hook(_hook))
