"""Running checks: ``run_check`` (one), ``check_module`` (all) and ``ConformanceError``."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import torch

from lightning_conformance.checks._base import (
    Check,
    CheckResult,
    Failed,
    Skipped,
    Warned,
    registered,
)
from lightning_conformance.checks._context import Context

__all__ = ["ConformanceError", "ConformanceWarning", "check_module", "evaluate", "run_check"]

ON_FAIL = ("raise", "warn", None)


class ConformanceError(AssertionError):
    """Raised by ``check_module(on_fail="raise")``: lists every failed check."""

    def __init__(self, results: list[CheckResult]):
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


def evaluate(ctx: Context, check: Check) -> CheckResult:
    """The result of ``check`` on the context's module (computed once per context)."""
    if check.id not in ctx.results:
        ctx.results[check.id] = _evaluate(ctx, check)
    return ctx.results[check.id]


def _evaluate(ctx: Context, check: Check) -> CheckResult:
    from lightning_conformance.checks._reproduce import script

    def result(status, message="", reproduction=""):
        return CheckResult(check.id, status, message, reproduction, check.sentence)

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


def _context(factory, datamodule, target, ddp, device, root) -> Context:
    if device not in ("cpu", "cuda"):
        from lightning_conformance.checks._base import CheckInputError

        raise CheckInputError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    return Context(factory, datamodule=datamodule, target=target, ddp=ddp, device=device,
                   root=Path(root))


def run_check(check: Check, factory, *, datamodule=None, target=None, ddp=0,
              device="cpu") -> CheckResult:
    """Run one check on the module that ``factory`` builds."""
    with tempfile.TemporaryDirectory(prefix="lck-check-") as root:
        return evaluate(_context(factory, datamodule, target, ddp, device, root), check)


def check_module(factory, *, datamodule=None, target=None, ddp=0, device="cpu",
                 on_fail="raise") -> list[CheckResult]:
    """Run every check on the module that ``factory`` builds (a class or a callable).

    Args:
        factory: a LightningModule class (built without arguments) or a zero-argument callable.
        datamodule: a LightningDataModule class, factory or instance giving the data.
        target: "lightning", "pytorch_lightning" or None (the namespace the class derives from).
        ddp: number of processes for the DDP checks (0: skip them).
        device: "cpu" or "cuda" ("cuda" also runs the mixed-precision check).
        on_fail: "raise" a ConformanceError, "warn" once per failure, or None.
    """
    if on_fail not in ON_FAIL:
        raise ValueError(f"on_fail must be one of {ON_FAIL}, not {on_fail!r}")
    with tempfile.TemporaryDirectory(prefix="lck-check-") as root:
        ctx = _context(factory, datamodule, target, ddp, device, root)
        results = [evaluate(ctx, check) for check in registered()]
    failed = [r for r in results if r.status == "failed"]
    if failed and on_fail == "raise":
        raise ConformanceError(results)
    if on_fail == "warn":
        for r in failed:
            warnings.warn(f"{r.clause} {r.sentence} {r.message}", ConformanceWarning,
                          stacklevel=2)
    return results
