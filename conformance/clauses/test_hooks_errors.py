"""HOOK: hooks removed in 2.0 and the minimum definitions each stage needs."""

import pytest

from lightning_conformance import clause

VALIDATOR = "lightning/pytorch/trainer/configuration_validator.py"


def _legacy(name):
    return {name: lambda self, outputs: None}


def _legacy_end(run, name, epoch_hook):
    """Module hook order around a legacy ``*_epoch_end`` call, and the outputs each call got."""
    order = run.trace.names("Module", hooks={name, epoch_hook})
    return order, [event.args["outputs"] for event in run.trace.calls(name)]


@clause(
    "HOOK-040",
    "A module defining training_epoch_end makes fit raise NotImplementedError (removed in 2.0).",
    source=f"{VALIDATOR}::__verify_train_val_loop_configuration",
    changes=("epoch_end_hooks_removed",),
)
def test_training_epoch_end_raises(target, contract):
    module = target.module(overrides=_legacy("training_epoch_end"))

    if contract.has("epoch_end_hooks_removed"):
        with pytest.raises(NotImplementedError, match="training_epoch_end"):
            target.fit(module, max_epochs=1, limit_train_batches=1)
    else:  # called with every training_step output, before on_train_epoch_end
        run = target.fit(module, max_epochs=1, limit_train_batches=2, limit_val_batches=0)
        assert (["Module.training_epoch_end", "Module.on_train_epoch_end"],
                [["dict[loss]"] * 2]) == _legacy_end(run, "training_epoch_end",
                                                     "on_train_epoch_end")


@clause(
    "HOOK-041",
    "A module defining validation_epoch_end makes fit and validate raise NotImplementedError.",
    source=f"{VALIDATOR}::__verify_eval_loop_configuration",
    changes=("epoch_end_hooks_removed",),
)
def test_validation_epoch_end_raises(target, contract):
    if contract.has("epoch_end_hooks_removed"):
        with pytest.raises(NotImplementedError, match="validation_epoch_end"):
            target.fit(target.module(overrides=_legacy("validation_epoch_end")), max_epochs=1,
                       limit_train_batches=1)
        with pytest.raises(NotImplementedError, match="validation_epoch_end"):
            target.validate(target.module(overrides=_legacy("validation_epoch_end")))
    else:  # called with every validation_step output, before on_validation_epoch_end
        fitted = target.fit(target.module(overrides=_legacy("validation_epoch_end")),
                            max_epochs=1, limit_train_batches=1, limit_val_batches=1,
                            num_sanity_val_steps=0)
        validated = target.validate(target.module(overrides=_legacy("validation_epoch_end")),
                                    limit_val_batches=2)
        expected = ["Module.validation_epoch_end", "Module.on_validation_epoch_end"]
        assert (expected, [["dict[x]"]]) == _legacy_end(fitted, "validation_epoch_end",
                                                        "on_validation_epoch_end")
        assert (expected, [["dict[x]"] * 2]) == _legacy_end(validated, "validation_epoch_end",
                                                            "on_validation_epoch_end")


@clause(
    "HOOK-042",
    "A module defining test_epoch_end makes test raise NotImplementedError (removed in 2.0).",
    source=f"{VALIDATOR}::__verify_eval_loop_configuration",
    changes=("epoch_end_hooks_removed",),
)
def test_test_epoch_end_raises(target, contract):
    if contract.has("epoch_end_hooks_removed"):
        with pytest.raises(NotImplementedError, match="test_epoch_end"):
            target.test(target.module(overrides=_legacy("test_epoch_end")))
    else:  # called with every test_step output, before on_test_epoch_end
        run = target.test(target.module(overrides=_legacy("test_epoch_end")), limit_test_batches=2)
        assert (["Module.test_epoch_end", "Module.on_test_epoch_end"],
                [["dict[y]"] * 2]) == _legacy_end(run, "test_epoch_end", "on_test_epoch_end")


@clause(
    "HOOK-043",
    "fit raises MisconfigurationException when the module has no training_step.",
    source=f"{VALIDATOR}::__verify_train_val_loop_configuration",
)
def test_fit_needs_training_step(target):
    module = target.module(without=("training_step",))

    with pytest.raises(target.pl.MisconfigurationException, match="training_step"):
        target.fit(module, max_epochs=1)


@clause(
    "HOOK-044",
    "fit raises MisconfigurationException when the module has no configure_optimizers.",
    source=f"{VALIDATOR}::__verify_train_val_loop_configuration",
)
def test_fit_needs_configure_optimizers(target):
    module = target.module(without=("configure_optimizers",))

    with pytest.raises(target.pl.MisconfigurationException, match="configure_optimizers"):
        target.fit(module, max_epochs=1)


@clause(
    "HOOK-045",
    "validate raises MisconfigurationException when the module has no validation_step.",
    source=f"{VALIDATOR}::__verify_eval_loop_configuration",
)
def test_validate_needs_validation_step(target):
    module = target.module(without=("validation_step",))

    with pytest.raises(target.pl.MisconfigurationException, match="validation_step"):
        target.validate(module)


@clause(
    "HOOK-046",
    "test raises MisconfigurationException when the module has no test_step.",
    source=f"{VALIDATOR}::__verify_eval_loop_configuration",
)
def test_test_needs_test_step(target):
    module = target.module(without=("test_step",))

    with pytest.raises(target.pl.MisconfigurationException, match="test_step"):
        target.test(module)
