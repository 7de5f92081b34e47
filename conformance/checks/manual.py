"""MOD-025..026: a module in manual optimization drives backward and its optimizers properly."""

from __future__ import annotations

from lightning_conformance.checks._base import Failed, check

__all__ = []

MANUAL = "lightning/pytorch/loops/optimization/manual.py"
MANUAL_TESTS = "tests/tests_pytorch/trainer/optimization/test_manual_optimization.py"


@check("MOD-025", "In manual optimization, training_step calls self.manual_backward(loss).",
       source=f"lightning/pytorch/core/module.py::LightningModule.manual_backward; {MANUAL_TESTS}",
       needs=("manual",),
       fix="Call self.manual_backward(loss) instead of loss.backward(): Lightning applies "
           "precision scaling and DDP gradient sync there and calls the backward hooks.")
def manual_backward_used(ctx):
    outcome = ctx.require("fit", "MOD-025")
    record = outcome.record
    if record.train_batches and not record.backward_calls:
        how = ("the optimizers were stepped, so backward ran outside Lightning "
               "(loss.backward()?)" if record.stepped else "no backward ran at all")
        raise Failed(f"{record.train_batches} training batches ran and manual_backward was "
                     f"never called: {how}.")


@check("MOD-026", "In manual optimization, training steps every optimizer of configure_optimizers.",
       source=f"{MANUAL}; {MANUAL_TESTS}::test_multiple_optimizers_manual_call_counts",
       needs=("manual",),
       fix="Step every optimizer from self.optimizers() with opt.step() (and opt.zero_grad()), "
           "or return only the optimizers you use from configure_optimizers.")
def every_optimizer_stepped(ctx):
    outcome = ctx.require("fit", "MOD-026")
    stepped = {id(getattr(o, "_optimizer", o)) for o in outcome.record.stepped}
    idle = [f"#{index} ({type(o).__name__})"
            for index, o in enumerate(outcome.trainer.optimizers) if id(o) not in stepped]
    if idle and outcome.record.train_batches:
        raise Failed(f"optimizer {', '.join(idle)} was never stepped in "
                     f"{outcome.record.train_batches} training batches.")
