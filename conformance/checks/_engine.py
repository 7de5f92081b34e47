"""Running checks: ``run_check`` (one), ``check_module`` (all) and ``ConformanceError``."""

from __future__ import annotations

import functools
import tempfile
import time
import warnings
from pathlib import Path

import torch

from lightning_conformance.checks._base import (
    Check,
    CheckInputError,
    Failed,
    Skipped,
    Warned,
    registered,
)
from lightning_conformance.checks._context import Context
from lightning_conformance.reports.model import Result, Subject
from lightning_conformance.session.interrupts import Interrupted

__all__ = ["DATA_CHECK", "ConformanceError", "ConformanceWarning", "check_module", "evaluate",
           "run_check"]

ON_FAIL = ("raise", "warn", None)
# Without training data no run can start: check_module(require_data=True) stops there.
DATA_CHECK = "MOD-002"


class ConformanceError(AssertionError):
    """Raised by ``check_module(on_fail="raise")``: lists every failed check."""

    def __init__(self, results: list[Result]):
        self.results = results
        failed = [r for r in results if r.status == "failed"]
        lines = [f"{r.clause} {r.sentence}\n    {r.message}" for r in failed]
        super().__init__(f"{len(failed)} conformance check(s) failed:\n" + "\n".join(lines))


class ConformanceWarning(UserWarning):
    """Issued by ``check_module(on_fail="warn")`` for every failed check."""


def _needs(ctx: Context, check: Check) -> str:
    """Why the check cannot run in this context ("" when it can)."""
    if "cuda" in check.needs and ctx.device != "cuda":
        return "needs CUDA: run with device='cuda' (--device cuda) on a machine with a GPU"
    if "cuda" in check.needs and not torch.cuda.is_available():
        return "needs CUDA, but torch sees no CUDA device on this machine"
    if "ddp" in check.needs and ctx.ddp < 2:
        return "needs several processes: run with ddp=2 (--ddp 2)"
    if "manual" in check.needs and ctx.first.automatic_optimization:
        return "the module uses automatic optimization (automatic_optimization is True)"
    if "automatic" in check.needs and not ctx.first.automatic_optimization:
        return "the module uses manual optimization (automatic_optimization is False)"
    return ""


def evaluate(ctx: Context, check: Check) -> Result:
    """The result of ``check`` on the context's module (computed once per context)."""
    if check.id not in ctx.results:
        ctx.results[check.id] = _evaluate(ctx, check)
    return ctx.results[check.id]


def _evaluate(ctx: Context, check: Check) -> Result:
    from lightning_conformance.checks._reproduce import script

    started = time.perf_counter()  # the first check to need a run pays for it

    def result(status, message="", reproduction=""):
        return Result(check.id, status, message, reproduction, check.sentence, check.source,
                      _subject(ctx), str(ctx.namespace.contract), time.perf_counter() - started)

    reason = _needs(ctx, check)
    if reason:
        return result("skipped", reason)
    try:
        check.function(ctx)
    except Skipped as skip:
        return result("skipped", str(skip))
    except Warned as warn:
        return result("warned", str(warn))
    except Failed as failure:
        found = str(failure).strip()
        deviation = _known_deviation(ctx, check)
        if deviation is not None:  # Lightning itself breaks the clause here: not the module
            return result("warned", f"{ctx.namespace.label} is known not to hold "
                          f"{check.id}: {deviation.reason} (evidence: {deviation.evidence}). "
                          f"Observed: {found}")
        message = f"{found}{'' if found.endswith(('.', ')')) else '.'} {check.fix}".strip()
        return result("failed", message, script(ctx, check, failure.stage, message))
    return result("passed")


def _known_deviation(ctx: Context, check: Check):
    """The target's known-deviation entry for this check at this Lightning version, if any."""
    from lightning_conformance.adapters.deviations import load_deviations

    for deviation in load_deviations(ctx.namespace.name):
        if deviation.clause == check.id and deviation.matches(ctx.namespace.contract):
            return deviation
    return None


def _subject(ctx: Context) -> Subject:
    """The module of ``ctx`` as the subject of its results, on the Lightning it runs on."""
    factory = ctx.factory
    if isinstance(factory, functools.partial):
        factory = factory.func
    name = getattr(factory, "__qualname__", None) or type(factory).__name__
    namespace = ctx.namespace
    version = namespace.adapter.version if namespace.adapter is not None else namespace.contract
    return Subject("module", name, None, Subject("target", namespace.name, str(version)))


def _context(factory, datamodule, target, ddp, device, root, fit_timeout) -> Context:
    if device not in ("cpu", "cuda"):
        raise CheckInputError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    return Context(factory, datamodule=datamodule, target=target, ddp=ddp, device=device,
                   root=Path(root), fit_timeout=fit_timeout)


def run_check(check: Check, factory, *, datamodule=None, target=None, ddp=0,
              device="cpu", fit_timeout: float | None = None) -> Result:
    """Run one check on the module that ``factory`` builds."""
    with tempfile.TemporaryDirectory(prefix="lck-check-") as root:
        return evaluate(_context(factory, datamodule, target, ddp, device, root, fit_timeout),
                        check)


def check_module(factory, *, datamodule=None, target=None, ddp=0, device="cpu",
                 on_fail="raise", require_data=False, on_result=None,
                 fit_timeout: float | None = None) -> list[Result]:
    """Run every check on the module that ``factory`` builds (a class or a callable).

    Args:
        factory: a LightningModule class (built without arguments) or a zero-argument callable.
        datamodule: a LightningDataModule class, factory or instance giving the data.
        target: "lightning", "pytorch_lightning" or None (the namespace the class derives from).
        ddp: number of processes for the DDP checks (0: skip them).
        device: "cpu" or "cuda" ("cuda" also runs the mixed-precision check).
        on_fail: "raise" a ConformanceError, "warn" once per failure, or None.
        require_data: raise CheckInputError, before any other check runs, when the module has
            no training data (MOD-002 fails); its result is then reused, not computed again.
        on_result: called with each result as soon as it is known (``check`` shows progress).
        fit_timeout: seconds each fit, validate, test or predict run may take (None:
            ``$LCK_FIT_TIMEOUT``, else 300; 0: no limit). A run that takes longer is stopped
            and fails its check (MOD-010..013) with where it hung; the checks that need
            that run skip, the others go on.
    """
    if on_fail not in ON_FAIL:
        raise ValueError(f"on_fail must be one of {ON_FAIL}, not {on_fail!r}")
    with tempfile.TemporaryDirectory(prefix="lck-check-") as root:
        ctx = _context(factory, datamodule, target, ddp, device, root, fit_timeout)
        if require_data:
            _require_data(ctx)
        results = []
        try:
            for check in registered():
                results.append(evaluate(ctx, check))
                if on_result is not None:
                    on_result(results[-1])
        except Interrupted as stop:  # `check` shows the checks that finished
            stop.finished = list(results)
            raise
    failed = [r for r in results if r.status == "failed"]
    if failed and on_fail == "raise":
        raise ConformanceError(results)
    if on_fail == "warn":
        for r in failed:
            warnings.warn(f"{r.clause} {r.sentence} {r.message}", ConformanceWarning,
                          stacklevel=2)
    return results


def _require_data(ctx: Context) -> None:
    data = evaluate(ctx, next(c for c in registered() if c.id == DATA_CHECK))
    if data.status == "failed":
        raise CheckInputError(f"no training data: {data.message}")
