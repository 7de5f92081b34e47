"""OPT: every accepted configure_optimizers format, normalised into optimizers and configs."""

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._optimizers import (
    DEFAULTS,
    OPTIMIZER_SOURCE,
    fit,
    plateau,
    returning,
    settings,
    sgd,
    step_lr,
)

TESTS = "tests/tests_pytorch/trainer/optimization/test_optimizers.py"


def _normalised(run):
    """What the Trainer holds after fit: optimizers and (scheduler, settings) pairs."""
    trainer = run.trainer
    return trainer.optimizers, [(c.scheduler, settings(c)) for c in trainer.lr_scheduler_configs]


def _built(module, **config):
    """The expected normalised form: the module's own objects, each scheduler with defaults."""
    schedulers = module.__dict__.get("built_schedulers", [])
    return module.built_optimizers, [(s, DEFAULTS | config) for s in schedulers]


@clause(
    "OPT-001",
    "A single optimizer returned by configure_optimizers becomes the only optimizer, no schedulers.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_single_optimizer(target):
    module = returning(target, lambda self: sgd(self))

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-002",
    "A list or tuple of one optimizer is accepted like the optimizer itself.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
@pytest.mark.parametrize("container", [list, tuple])
def test_sequence_of_one_optimizer(target, container):
    module = returning(target, lambda self: container([sgd(self)]))

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-003",
    "([optimizer], [scheduler]) gives one config: interval epoch, frequency 1, strict, no monitor.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_two_lists(target):
    def make(self):
        optimizer = sgd(self)
        return [optimizer], [step_lr(self, optimizer)]

    module = returning(target, make)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-004",
    "([optimizer], scheduler) with the scheduler outside a list gives the same config.",
    source=f"{OPTIMIZER_SOURCE}::_configure_optimizers",
)
@requires("optimizers")
def test_list_and_bare_scheduler(target):
    def make(self):
        optimizer = sgd(self)
        return [optimizer], step_lr(self, optimizer)

    module = returning(target, make)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-005",
    'A dict with only an "optimizer" key gives that optimizer and no scheduler.',
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_dict_without_scheduler(target):
    module = returning(target, lambda self: {"optimizer": sgd(self)})

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-006",
    'A dict whose "lr_scheduler" is a scheduler gives one config with the defaults.',
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_dict_with_scheduler(target):
    def make(self):
        optimizer = sgd(self)
        return {"optimizer": optimizer, "lr_scheduler": step_lr(self, optimizer)}

    module = returning(target, make)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-007",
    'An "lr_scheduler" config dict keeps its interval, frequency and name; other keys default.',
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_dict_with_scheduler_config(target):
    chosen = {"interval": "step", "frequency": 2, "name": "decay"}

    def make(self):
        optimizer = sgd(self)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": step_lr(self, optimizer), **chosen}}

    module = returning(target, make)

    run = fit(target, module)

    assert _built(module, **chosen) == _normalised(run)


@clause(
    "OPT-008",
    'A list of one {"optimizer", "lr_scheduler"} dict is accepted in automatic optimization.',
    source=f"{OPTIMIZER_SOURCE}::_configure_optimizers",
)
@requires("optimizers")
def test_list_of_one_dict(target):
    def make(self):
        optimizer = sgd(self)
        return [{"optimizer": optimizer, "lr_scheduler": step_lr(self, optimizer)}]

    module = returning(target, make)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


# max_steps ends fit before the epoch does, so no plateau scheduler is stepped (OPT-049)
_NO_EPOCH_END = {"max_steps": 1, "limit_train_batches": 2}


@clause(
    "OPT-009",
    'A bare ReduceLROnPlateau in a dict takes the dict\'s "monitor" and is marked reduce_on_plateau.',
    source=f"{TESTS}::test_reducelronplateau_with_no_monitor_raises",
)
@requires("optimizers")
def test_dict_monitor_for_plateau(target):
    def make(self):
        optimizer = sgd(self)
        return {"optimizer": optimizer, "lr_scheduler": plateau(self, optimizer), "monitor": "m"}

    module = returning(target, make)
    run = fit(target, module, **_NO_EPOCH_END)

    assert _built(module, reduce_on_plateau=True, monitor="m") == _normalised(run)


@clause(
    "OPT-010",
    "A ReduceLROnPlateau config dict with a monitor is marked reduce_on_plateau, strict by default.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers")
def test_scheduler_dict_monitor_for_plateau(target):
    def make(self):
        optimizer = sgd(self)
        scheduler = {"scheduler": plateau(self, optimizer), "monitor": "m"}
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    module = returning(target, make)
    run = fit(target, module, **_NO_EPOCH_END)

    assert _built(module, reduce_on_plateau=True, monitor="m") == _normalised(run)


@clause(
    "OPT-011",
    "configure_optimizers returning None warns; fit runs training_step and updates no parameter.",
    source=f"{TESTS}::test_none_optimizer",
)
@requires("optimizers")
def test_none_warns_and_trains_nothing(target):
    module = returning(target, lambda self: None)
    before = [p.detach().clone() for p in module.parameters()]

    with pytest.warns(UserWarning, match="returned `None`, this fit will run with no optimizer"):
        run = fit(target, module)

    assert 2 == len(run.trace.calls("training_step"))
    assert all(b.equal(a) for b, a in zip(before, module.parameters(), strict=True))
    assert (1, []) == (len(run.trainer.optimizers), run.trainer.lr_scheduler_configs)


def _two_optimizers(self):
    return sgd(self), sgd(self, lr=0.2)


@clause(
    "OPT-012",
    "A list of optimizers (manual optimization) keeps every optimizer, in order.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers", "manual_optimization")
def test_list_of_optimizers(target):
    module = returning(target, lambda self: list(_two_optimizers(self)), manual=True)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-013",
    "([opt1, opt2], [sched1, sched2]) keeps both optimizers and both schedulers, in order.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers", "manual_optimization")
def test_two_lists_of_two(target):
    def make(self):
        first, second = _two_optimizers(self)
        return [first, second], [step_lr(self, first), step_lr(self, second)]

    module = returning(target, make, manual=True)

    run = fit(target, module)

    assert _built(module) == _normalised(run)


@clause(
    "OPT-014",
    "A list of optimizer dicts keeps every optimizer and the schedulers of those that have one.",
    source=f"{TESTS}::test_optimizer_return_options",
)
@requires("optimizers", "manual_optimization")
def test_list_of_dicts(target):
    def make(self):
        first, second = _two_optimizers(self)
        return [{"optimizer": first}, {"optimizer": second, "lr_scheduler": step_lr(self, second)}]

    module = returning(target, make, manual=True)

    run = fit(target, module)

    assert _built(module) == _normalised(run)
