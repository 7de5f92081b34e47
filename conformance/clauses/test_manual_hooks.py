"""MAN: which hooks run in manual optimization: manual_backward, opt.step(closure), the batch."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._expected import both, seq, transfer
from lightning_conformance.clauses._manual import fit_manual, manual_module
from lightning_conformance.clauses._optimizers import optimizer_hook

MODULE = "lightning/pytorch/core/module.py"
OPTIMIZER = "lightning/pytorch/core/optimizer.py"
MANUAL_TESTS = "tests/tests_pytorch/trainer/optimization/test_manual_optimization.py"

# hooks that only automatic optimization calls (Lightning's test_hooks.py::_manual_train_batch)
_AUTOMATIC_ONLY = ("optimizer_step", "optimizer_zero_grad", "on_before_zero_grad",
                   "configure_gradient_clipping", "clip_gradients", "lr_scheduler_step")


def _inside(run, name):
    """Names of the events nested in the first call of ``name``, in entry order."""
    events = run.trace.events
    start = run.trace.index(name)
    inside = []
    for event in events[start + 1:]:
        if event.depth <= events[start].depth:
            break
        inside.append(event.name)
    return inside


@clause(
    "MAN-005",
    "manual_backward runs on_before_backward, backward, then on_after_backward, callbacks first.",
    source=f"{MODULE}::LightningModule.manual_backward",
)
@requires("manual_optimization")
def test_manual_backward_hooks(target):
    def training_step(self, batch, batch_idx):
        self.manual_backward(self.layer(batch).sum())

    run = fit_manual(target, manual_module(target, training_step=training_step),
                     limit_train_batches=1)

    expected = seq(both("on_before_backward"), ["Module.backward"], both("on_after_backward"))
    assert expected == _inside(run, "Module.training_step")


@clause(
    "MAN-006",
    "opt.step(closure) runs the closure, then on_before_optimizer_step, then updates the weights.",
    source=f"{MANUAL_TESTS}::test_step_with_optimizer_closure",
    changes=("optimizer_idx_removed",),
)
@requires("manual_optimization")
def test_step_runs_closure_then_hook(target, contract):
    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()

        def closure():
            self.order.append("closure")
            optimizer.zero_grad()
            self.closure_loss = self.layer(batch).sum()
            self.manual_backward(self.closure_loss)
            return self.closure_loss

        self.before = self.layer.weight.detach().clone()
        self.step_output = optimizer.step(closure=closure)
        self.order.append(("stepped", torch.equal(self.before, self.layer.weight)))

    def on_before_optimizer_step(self, optimizer):
        has_grad = self.layer.weight.grad is not None
        self.order.append(("hook", has_grad, torch.equal(self.before, self.layer.weight)))

    hook = optimizer_hook(contract, on_before_optimizer_step)
    module = manual_module(target, training_step=training_step,
                           overrides={"on_before_optimizer_step": hook})
    module.order = []
    fit_manual(target, module, limit_train_batches=1)

    assert ["closure", ("hook", True, True), ("stepped", False)] == module.order
    assert module.step_output is module.closure_loss


@clause(
    "MAN-009",
    "In manual optimization the Trainer calls no optimizer_step, zero_grad or clipping hooks.",
    source="tests/tests_pytorch/models/test_hooks.py::_manual_train_batch",
)
@requires("manual_optimization")
def test_automatic_only_hooks_not_called(target):
    run = fit_manual(target, manual_module(target, schedulers=1), max_epochs=2)

    assert [] == [e.name for e in run.trace.events if e.hook in _AUTOMATIC_ONLY]


@clause(
    "MAN-010",
    "A manual batch runs transfer hooks, on_train_batch_start, training_step, on_train_batch_end.",
    source="tests/tests_pytorch/models/test_hooks.py::_manual_train_batch",
)
@requires("manual_optimization")
def test_manual_batch_order(target):
    run = fit_manual(target, manual_module(target), limit_train_batches=1)
    start = run.trace.index("Module.on_before_batch_transfer")
    end = run.trace.index("Module.on_train_batch_end", start)

    inner = seq(both("on_before_backward"), ["Module.backward"], both("on_after_backward"),
                both("on_before_optimizer_step"))
    expected = seq(transfer(), both("on_train_batch_start"), ["Module.training_step"], inner,
                   both("on_train_batch_end"))
    assert expected == run.trace.names()[start:end + 1]
    assert inner == _inside(run, "Module.training_step")


@clause(
    "MAN-023",
    "manual_backward in automatic optimization raises MisconfigurationException.",
    source=f"{MODULE}::LightningModule._verify_is_manual_optimization",
)
@requires("manual_optimization")
def test_manual_backward_in_automatic_mode_raises(target):
    def training_step(self, batch, batch_idx):
        loss = self.layer(batch).sum()
        self.manual_backward(loss)
        return loss

    module = target.module(overrides={"training_step": training_step})
    message = "to use manual_backward, please disable automatic optimization"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        fit_manual(target, module, limit_train_batches=1)


@clause(
    "MAN-024",
    "opt.step(closure) with a closure that is not callable raises MisconfigurationException.",
    source=f"{OPTIMIZER}::LightningOptimizer.step",
)
@requires("manual_optimization")
def test_step_with_non_callable_closure_raises(target):
    def training_step(self, batch, batch_idx):
        self.optimizers().step(closure=self.layer(batch).sum())

    module = manual_module(target, training_step=training_step)
    message = "When `optimizer.step(closure)` is called, the closure should be callable"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        fit_manual(target, module, limit_train_batches=1)


@clause(
    "MAN-025",
    "manual_backward passes its extra arguments, such as retain_graph=True, on to backward.",
    source=f"{MODULE}::LightningModule.manual_backward",
)
@requires("manual_optimization")
def test_manual_backward_forwards_arguments(target):
    def training_step(self, batch, batch_idx):
        loss = self.layer(batch).sum()
        self.manual_backward(loss, retain_graph=True)
        self.manual_backward(loss)  # needs the graph the first call retained

    run = fit_manual(target, manual_module(target, training_step=training_step),
                     limit_train_batches=1)

    assert [{"retain_graph": True}, {}] == [e.args.get("kwargs", {})
                                            for e in run.trace.calls("backward")]
