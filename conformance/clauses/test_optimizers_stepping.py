"""OPT: when the Trainer steps learning-rate schedulers in automatic optimization."""

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._optimizers import (
    CustomScheduler,
    custom,
    fit,
    optimizer_hook,
    record_lr,
    returning,
    sgd,
    step_lr,
)

EPOCH_LOOP = "lightning/pytorch/loops/training_epoch_loop.py"
TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"


def _scheduled(target, *, overrides=None, **config):
    """A module with SGD(lr=0.1) and a StepLR(gamma=0.1) config dict with ``config``."""

    def make(self):
        optimizer = sgd(self)
        return [optimizer], [{"scheduler": step_lr(self, optimizer), **config}]

    return returning(target, make, overrides=overrides)


def _scheduler_steps(run) -> int:
    return len(run.trace.calls("lr_scheduler_step"))


def _rounded(lrs):
    return [round(lr, 8) for lr in lrs]


@clause(
    "OPT-031",
    'A "step" scheduler steps after every optimizer step, across epochs.',
    source=f"{EPOCH_LOOP}::update_lr_schedulers",
)
@requires("optimizers")
def test_step_interval(target):
    module = _scheduled(target, interval="step", overrides=record_lr("on_train_batch_start"))
    fit(target, module, max_epochs=2)

    assert [0.1, 0.01, 0.001, 0.0001] == _rounded(module.lrs)


@clause(
    "OPT-032",
    'A "step" scheduler\'s frequency counts the batch index within the epoch, not global_step.',
    source=f"{EPOCH_LOOP}::_update_learning_rates",
)
@requires("optimizers")
def test_step_frequency_counts_batch_index(target):
    module = _scheduled(target, interval="step", frequency=2)
    run = fit(target, module, max_epochs=2, limit_train_batches=3)

    # batch indices 1 of each epoch; counting global_step would step after steps 2, 4 and 6
    assert 2 == _scheduler_steps(run)


@clause(
    "OPT-033",
    'A "step" scheduler does not step on batches that only accumulate gradients.',
    source=f"{EPOCH_LOOP}::update_lr_schedulers",
)
@requires("optimizers")
def test_step_skips_accumulation(target):
    module = _scheduled(target, interval="step", overrides=record_lr("on_train_batch_end"))
    fit(target, module, limit_train_batches=5, accumulate_grad_batches=2)

    # windows close after batches 1 and 3, and at the end of the epoch (batch 4)
    assert [0.1, 0.01, 0.01, 0.001, 0.0001] == _rounded(module.lrs)


@clause(
    "OPT-034",
    'With accumulation, a "step" frequency still counts batch indices, not optimizer steps.',
    source=f"{EPOCH_LOOP}::_update_learning_rates",
)
@requires("optimizers")
def test_step_frequency_with_accumulation(target):
    module = _scheduled(target, interval="step", frequency=2)
    run = fit(target, module, limit_train_batches=4, accumulate_grad_batches=2)

    # batch indices 1 and 3 both close a window and are due; optimizer steps 1 and 2 would not be
    assert 2 == _scheduler_steps(run)


@clause(
    "OPT-035",
    'An "epoch" scheduler steps once per training epoch.',
    source=f"{TESTS}::test_lr_scheduler_epoch_step_frequency",
)
@requires("optimizers")
def test_epoch_interval(target):
    module = _scheduled(target, overrides=record_lr("on_train_epoch_start"))
    fit(target, module, max_epochs=3)

    assert [0.1, 0.01, 0.001] == _rounded(module.lrs)


@clause(
    "OPT-036",
    'An "epoch" scheduler steps at the last batch: after its optimizer_step, before on_train_batch_end.',
    source=f"{EPOCH_LOOP}::advance",
)
@requires("optimizers")
def test_epoch_step_at_last_batch(target):
    run = fit(target, _scheduled(target))
    names = run.trace.names("Module", hooks={"optimizer_step", "lr_scheduler_step",
                                             "on_train_batch_end", "on_train_epoch_end"})

    expected = ["Module.optimizer_step", "Module.on_train_batch_end", "Module.optimizer_step",
                "Module.lr_scheduler_step", "Module.on_train_batch_end", "Module.on_train_epoch_end"]
    assert expected == names


@clause(
    "OPT-037",
    'In-fit validation and checkpoints of an epoch already see its "epoch" scheduler stepped.',
    source=f"{TESTS}::test_lr_scheduler_state_updated_before_saving",
)
@requires("optimizers")
def test_epoch_step_before_validation(target):
    module = _scheduled(target, overrides=record_lr("on_validation_epoch_start"))
    fit(target, module, max_epochs=2, limit_val_batches=1, num_sanity_val_steps=0)

    assert [0.01, 0.001] == _rounded(module.lrs)


@clause(
    "OPT-038",
    'An "epoch" scheduler\'s frequency counts epochs: frequency 2 steps after every second epoch.',
    source=f"{EPOCH_LOOP}::_update_learning_rates",
)
@requires("optimizers")
def test_epoch_frequency(target):
    module = _scheduled(target, frequency=2, overrides=record_lr("on_train_epoch_start"))
    fit(target, module, max_epochs=4)

    assert [0.1, 0.1, 0.01, 0.01] == _rounded(module.lrs)


@clause(
    "OPT-039",
    "An \"epoch\" scheduler is not stepped when max_steps ends fit in mid-epoch.",
    source=f"{EPOCH_LOOP}::advance",
)
@requires("optimizers")
def test_no_epoch_step_in_mid_epoch(target):
    run = fit(target, _scheduled(target), max_steps=3, limit_train_batches=4)

    assert 0 == _scheduler_steps(run)


@clause(
    "OPT-040",
    "The default lr_scheduler_step gets (scheduler, None) for a scheduler that monitors nothing.",
    source="lightning/pytorch/core/module.py::lr_scheduler_step",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers")
def test_lr_scheduler_step_arguments(target, contract):
    run = fit(target, _scheduled(target, interval="step"))
    index = {} if contract.has("optimizer_idx_removed") else {"optimizer_idx": 0}

    assert [{"scheduler": "<StepLR>", **index, "metric": None}] * 2 == [
        event.args for event in run.trace.calls("lr_scheduler_step")
    ]


def _no_step(self, scheduler, metric):
    self.__dict__.setdefault("stepped", []).append((scheduler, metric))


def _no_step_hook(contract):
    """An lr_scheduler_step override that records (scheduler, metric) and steps nothing."""
    return {"lr_scheduler_step": optimizer_hook(contract, _no_step)}


@clause(
    "OPT-041",
    "An overridden lr_scheduler_step replaces the scheduler.step() call the Trainer would make.",
    source=f"{TESTS}::test_lr_scheduler_step_hook",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers")
def test_lr_scheduler_step_override(target, contract):
    module = _scheduled(target, interval="step", overrides=_no_step_hook(contract))
    run = fit(target, module)

    assert [(module.built_schedulers[0], None)] * 2 == module.stepped
    assert 0.1 == run.trainer.optimizers[0].param_groups[0]["lr"]


@clause(
    "OPT-042",
    "A custom scheduler is handed to the overridden lr_scheduler_step whenever it is due.",
    source=f"{TESTS}::test_lr_scheduler_step_hook",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers")
def test_custom_scheduler_stepped_by_hook(target, contract):
    def make(self):
        optimizer = sgd(self)
        return [optimizer], [custom(self, CustomScheduler, optimizer)]

    module = returning(target, make, overrides=_no_step_hook(contract))
    fit(target, module, max_epochs=3)

    assert [(module.built_schedulers[0], None)] * 3 == module.stepped


@clause(
    "OPT-043",
    "Several due schedulers are stepped in the order configure_optimizers returned them.",
    source=f"{EPOCH_LOOP}::_update_learning_rates",
    changes=("optimizer_idx_removed",),
)
@requires("optimizers")
def test_scheduler_order(target, contract):
    def make(self):
        optimizer = sgd(self)
        first, second = step_lr(self, optimizer, gamma=0.5), step_lr(self, optimizer, gamma=0.2)
        return [optimizer], [second, first]

    module = returning(target, make, overrides=_no_step_hook(contract))
    fit(target, module, max_epochs=2)
    first, second = module.built_schedulers

    assert [second, first, second, first] == [scheduler for scheduler, _ in module.stepped]


@clause(
    "OPT-044",
    "Only fit calls configure_optimizers: validate, test and predict leave optimizers empty.",
    source=f"{TESTS}::test_init_optimizers_during_evaluation_and_prediction",
)
@requires("optimizers")
@pytest.mark.parametrize("verb", ["validate", "test", "predict"])
def test_only_fit_configures_optimizers(target, verb):
    limit = {"validate": "limit_val_batches"}.get(verb, f"limit_{verb}_batches")
    run = getattr(target, verb)(_scheduled(target), **{limit: 1})

    assert [] == run.trace.calls("configure_optimizers")
    assert ([], []) == (run.trainer.optimizers, run.trainer.lr_scheduler_configs)
