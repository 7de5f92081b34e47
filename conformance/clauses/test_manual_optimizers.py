"""MAN: automatic_optimization = False, the optimizers and schedulers a module gets, global_step."""

import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._manual import fit_manual, manual_module, manual_step

MODULE = "lightning/pytorch/core/module.py"
MANUAL_TESTS = "tests/tests_pytorch/trainer/optimization/test_manual_optimization.py"


def _weights(module):
    return {name: param.detach().clone() for name, param in module.named_parameters()}


def _seen(what):
    """A manual training_step that records ``what(self)`` before doing its manual step."""

    def training_step(self, batch, batch_idx):
        self.seen.append(what(self))
        return manual_step(self, batch, batch_idx)

    return training_step


def _fit_recording(target, what, **features):
    module = manual_module(target, training_step=_seen(what), **features)
    module.seen = []
    fit_manual(target, module, limit_train_batches=1)
    return module.seen[0]


@clause(
    "MAN-001",
    "With automatic_optimization = False, the module's own opt.step() calls train its weights.",
    source=f"{MANUAL_TESTS}::test_multiple_optimizers_manual_call_counts",
)
@requires("manual_optimization")
def test_manual_module_trains(target):
    module = manual_module(target)
    before = _weights(module)

    run = fit_manual(target, module)

    assert run.module.automatic_optimization is False
    assert 2 == run.trainer.global_step
    changed = {name for name, weight in _weights(module).items()
               if not torch.equal(before[name], weight)}
    assert {"layer.weight", "layer.bias"} == changed


@clause(
    "MAN-002",
    "self.optimizers() gives the one optimizer as a LightningOptimizer that is-a its torch class.",
    source=f"{MODULE}::LightningModule.optimizers",
)
@requires("manual_optimization")
def test_single_optimizer(target):
    optimizer, raw = _fit_recording(
        target, lambda self: (self.optimizers(), self.optimizers(use_pl_optimizer=False)))

    assert isinstance(optimizer, torch.optim.SGD)
    assert type(optimizer).__name__ == "LightningSGD"
    assert type(raw) is torch.optim.SGD
    assert optimizer.optimizer is raw


@clause(
    "MAN-003",
    "With several optimizers, self.optimizers() is a list in configure_optimizers order.",
    source=f"{MANUAL_TESTS}::test_multiple_optimizers_manual_call_counts",
)
@requires("manual_optimization")
def test_several_optimizers(target):
    def owners(self):
        found = self.optimizers()
        return found, [[p is self.layer.weight for p in optimizer.param_groups[0]["params"]]
                       for optimizer in found]

    optimizers, owns_weight = _fit_recording(target, owners, optimizers=2)

    assert list is type(optimizers)
    assert [[True], [False]] == owns_weight
    assert all(isinstance(optimizer, torch.optim.SGD) for optimizer in optimizers)


@clause(
    "MAN-004",
    "self.lr_schedulers() gives None without schedulers, the one scheduler, or a list of several.",
    source=f"{MANUAL_TESTS}::test_lr_schedulers",
)
@requires("manual_optimization")
def test_lr_schedulers(target):
    def kinds(self):
        found = self.lr_schedulers()
        return [type(s).__name__ for s in found] if isinstance(found, list) else found

    none = _fit_recording(target, kinds)
    one = _fit_recording(target, lambda self: type(self.lr_schedulers()).__name__, schedulers=1)
    two = _fit_recording(target, kinds, optimizers=2, schedulers=2)

    assert (None, "StepLR", ["StepLR", "StepLR"]) == (none, one, two)


@clause(
    "MAN-007",
    "global_step counts every optimizer step: two optimizers stepped per batch add two per batch.",
    source=f"{MANUAL_TESTS}::test_multiple_optimizers_manual_call_counts",
)
@requires("manual_optimization")
def test_global_step_counts_optimizer_steps(target):
    run = fit_manual(target, manual_module(target, optimizers=2), max_epochs=2)

    assert 8 == run.trainer.global_step


@clause(
    "MAN-008",
    "In manual optimization the Trainer never steps a learning-rate scheduler.",
    source=f"{MANUAL_TESTS}::test_lr_scheduler_step_not_called",
)
@requires("manual_optimization")
def test_schedulers_not_stepped(target):
    module = manual_module(target, schedulers=1)

    run = fit_manual(target, module, max_epochs=2)

    assert [] == run.trace.calls("lr_scheduler_step")
    assert 0 == run.trainer.lr_scheduler_configs[0].scheduler.last_epoch
    assert [0.1] == [group["lr"] for group in run.trainer.optimizers[0].param_groups]
