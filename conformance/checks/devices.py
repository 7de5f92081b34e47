"""MOD-027..029: the module runs wherever the Trainer puts it (no hard-coded CUDA), in mixed
precision on CUDA, and can be sent to spawned processes."""

from __future__ import annotations

import inspect
import pickle
import re

from lightning_conformance.checks._base import Failed, Warned, check
from lightning_conformance.checks._context import describe
from lightning_conformance.checks.runs import provides

__all__ = ["cuda_lines"]

_CUDA = re.compile(r"""\.cuda\(|device\s*=\s*["']cuda|torch\.device\(\s*["']cuda|"""
                   r"""\.to\(\s*["']cuda""")
# Lines that choose the device on purpose rather than hard-coding it.
_DELIBERATE = re.compile(r"is_available\(\)|self\.device|accelerator")
_STAGES = {"validate": ("validation_step", "val_dataloader"),
           "test": ("test_step", "test_dataloader"), "predict": (None, "predict_dataloader")}


def cuda_lines(ctx) -> list[str]:
    """``file:line: code`` for each line of the module's own classes that names CUDA."""
    found = []
    for klass in ctx.user_classes():
        try:
            lines, start = inspect.getsourcelines(klass)
            path = inspect.getsourcefile(klass) or "?"
        except (OSError, TypeError):
            continue
        for offset, line in enumerate(lines):
            code = line.split("#", 1)[0]
            if _CUDA.search(code) and not _DELIBERATE.search(code):
                found.append(f"{path}:{start + offset}: {line.strip()}")
    return found


def _applicable(ctx) -> list[str]:
    stages = ["fit"]
    for stage, (step, dataloader) in _STAGES.items():
        if (step is None or ctx.overrides(step)) and provides(ctx, dataloader):
            stages.append(stage)
    return stages


@check("MOD-027", "The module creates no tensor on a hard-coded CUDA device.",
       source="lightning/pytorch/core/module.py::LightningModule.device; docs: accelerator_prepare",
       claims=(r"CUDA", r"cuda", r"NVIDIA driver",
               r"Expected all tensors to be on the same device"),
       claim_when=lambda ctx, error: ctx.device == "cpu",
       fix="Create tensors on the module's device: torch.zeros(..., device=self.device), "
           "x.to(self.device) or self.register_buffer(...); never .cuda() or device='cuda'.")
def no_hard_coded_cuda(ctx):
    for stage in _applicable(ctx):
        outcome = getattr(ctx, stage)
        if outcome.error is not None and ctx.claimant(outcome.error) == "MOD-027":
            raise Failed(f"on a CPU Trainer, {stage} raised {describe(outcome.error)}",
                         stage=stage)
    lines = cuda_lines(ctx)
    if lines:
        raise Warned("these lines name CUDA explicitly and break on CPU or another GPU: "
                     + "; ".join(lines[:5]) + ". Use self.device instead.")


@check("MOD-028", "With device='cuda', fit runs in 16-bit mixed precision with finite losses.",
       source="lightning/pytorch/plugins/precision/amp.py::MixedPrecision",
       needs=("cuda",), stage="mixed",
       fix="Keep the loss in float32-safe ranges under autocast (compute it from logits with "
           "F.cross_entropy, not from softmax + log), and avoid manual .half() casts.")
def mixed_precision_runs(ctx):
    outcome = ctx.require("mixed", "MOD-028")
    problems = outcome.record.loss_problems
    if problems:
        raise Failed("; ".join(problems[:3]) + ".", stage="mixed")


@check("MOD-029", "The module can be pickled, as ddp_spawn does to send it to each process.",
       source="lightning/pytorch/strategies/launchers/multiprocessing.py::_MultiProcessingLauncher",
       needs=("ddp",), stage="fit",
       fix="Keep only picklable attributes on the module (no lambdas, local functions, open "
           "files, locks or generators; classes defined at module level), or launch with "
           "strategy='ddp', which starts fresh processes instead of pickling the module.")
def module_pickles(ctx):
    module = ctx.build()
    try:
        pickle.dumps(module)
    except Exception as error:
        raise Failed(f"pickle.dumps(module) raised {describe(error)}") from None
