"""HOOK: the order of hooks across a whole ``fit`` (setup, epochs, teardown)."""

from lightning_conformance import clause
from lightning_conformance.clauses._expected import (
    both,
    eval_loop,
    fit_end,
    fit_start,
    prepare_data,
    seq,
    train_batch,
    train_data_and_mode,
)

HOOKS_TEST = "tests/tests_pytorch/models/test_hooks.py"


def _train_epoch(batches, *, scheduler=False, validation=()):
    blocks = [both("on_train_epoch_start")]
    for index in range(batches):
        blocks.append(train_batch(scheduler=scheduler and index == batches - 1))
    blocks += [validation, both("on_train_epoch_end")]
    return seq(*blocks)


@clause(
    "HOOK-001",
    "fit without validation_step runs setup, train_dataloader, the epoch and teardown hooks in order.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_fit_no_val_and_resume_max_epochs",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden",
             "eval_mode_restored_without_train_call", "configure_model_hook",
             "train_dataloader_before_train_mode"),
)
def test_fit_without_validation(target, contract):
    module = target.module(without=("validation_step",))
    run = target.fit(module, callbacks=[target.callback()], max_epochs=1, limit_train_batches=2)

    expected = seq(
        fit_start(contract),
        train_data_and_mode(contract),
        both("on_train_start"),
        _train_epoch(2),
        fit_end(),
    )
    assert expected == run.trace.names()


@clause(
    "HOOK-002",
    "fit with validation runs the sanity check, training batches, then validation, in this order.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_fit",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden",
             "eval_mode_restored_without_train_call", "configure_model_hook",
             "train_dataloader_before_train_mode", "epoch_end_hooks_removed"),
)
def test_fit_with_validation_and_sanity_check(target, contract):
    module = target.module(scheduler=True)
    run = target.fit(module, callbacks=[target.callback()], max_epochs=1, limit_train_batches=2,
                     limit_val_batches=1, num_sanity_val_steps=1)

    expected = seq(
        fit_start(contract),
        ["Callback.on_sanity_check_start"],
        eval_loop(contract, "validation", 1),
        ["Callback.on_sanity_check_end"],
        train_data_and_mode(contract),
        both("on_train_start"),
        _train_epoch(2, scheduler=True,
                     validation=eval_loop(contract, "validation", 1, dataloader=False, in_fit=True)),
        fit_end(),
    )
    assert expected == run.trace.names()


@clause(
    "HOOK-003",
    "Each further epoch repeats the epoch block; dataloader hooks are called only once per fit.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_fit",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden",
             "eval_mode_restored_without_train_call", "configure_model_hook",
             "train_dataloader_before_train_mode", "epoch_end_hooks_removed"),
)
def test_fit_two_epochs(target, contract):
    run = target.fit(target.module(), callbacks=[target.callback()], max_epochs=2,
                     limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0)

    first_val = eval_loop(contract, "validation", 1, dataloader=True, in_fit=True)
    first_val = [name for name in first_val if name != "Module.val_dataloader"]
    expected = seq(
        fit_start(contract),
        train_data_and_mode(contract),
        ["Module.val_dataloader"],
        both("on_train_start"),
        _train_epoch(1, validation=first_val),
        _train_epoch(1, validation=eval_loop(contract, "validation", 1, dataloader=False, in_fit=True)),
        fit_end(),
    )
    assert expected == run.trace.names()


@clause(
    "HOOK-004",
    "With a datamodule, fit calls its setup, train and val dataloaders and teardown, in this order.",
    source=f"{HOOKS_TEST}::test_trainer_datamodule_hook_system",
    changes=("prepare_data_only_if_overridden",),
)
def test_fit_datamodule_hooks(target, contract):
    run = target.fit(target.module(dataloaders=False), datamodule=target.datamodule(),
                     max_epochs=1, limit_train_batches=1, limit_val_batches=1)

    expected = seq(prepare_data(contract, datamodule=True)[:1],
                   ["DataModule.setup", "DataModule.val_dataloader",
                    "DataModule.train_dataloader", "DataModule.teardown"])
    assert expected == run.trace.names("DataModule")


@clause(
    "HOOK-005",
    "setup is called on the datamodule, then on each callback, then on the module.",
    source="lightning/pytorch/trainer/call.py::_call_setup_hook",
)
def test_setup_order(target):
    run = target.fit(target.module(dataloaders=False), datamodule=target.datamodule(),
                     callbacks=[target.callback()], max_epochs=1, limit_train_batches=1,
                     limit_val_batches=0)

    expected = ["DataModule.setup", "Callback.setup", "Module.setup"]
    assert expected == run.trace.names(hooks={"setup"})
    assert ["fit"] * 3 == [event.args["stage"] for event in run.trace.events
                           if event.hook == "setup"]


@clause(
    "HOOK-006",
    "teardown is called on the datamodule, then on each callback, then on the module, last of all.",
    source="lightning/pytorch/trainer/call.py::_call_teardown_hook",
)
def test_teardown_order(target):
    run = target.fit(target.module(dataloaders=False), datamodule=target.datamodule(),
                     callbacks=[target.callback()], max_epochs=1, limit_train_batches=1,
                     limit_val_batches=0)

    expected = ["DataModule.teardown", "Callback.teardown", "Module.teardown"]
    assert expected == run.trace.names()[-3:]


@clause(
    "HOOK-007",
    "An overridden prepare_data runs on the datamodule, then the module, before any setup.",
    source="lightning/pytorch/trainer/connectors/data_connector.py::prepare_data",
)
def test_prepare_data_order(target):
    prepare = {"prepare_data": lambda self: None}
    run = target.fit(target.module(dataloaders=False, overrides=prepare),
                     datamodule=target.datamodule(overrides=prepare),
                     callbacks=[target.callback()], max_epochs=1, limit_train_batches=1,
                     limit_val_batches=0)

    expected = ["DataModule.prepare_data", "Module.prepare_data", "DataModule.setup",
                "Callback.setup", "Module.setup"]
    assert expected == run.trace.names(hooks={"prepare_data", "setup"})


@clause(
    "HOOK-008",
    "An overridden configure_model is called after setup and before configure_optimizers.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_fit",
    versions=">=2.1",
    changes=("configure_model_hook", "prepare_data_only_if_overridden"),
)
def test_configure_model_placement(target, contract):
    module = target.module(overrides={"configure_model": lambda self: None})
    run = target.fit(module, max_epochs=1, limit_train_batches=1, limit_val_batches=0)

    expected = seq(["Module.configure_callbacks"], prepare_data(contract),
                   ["Module.setup", "Module.configure_model", "Module.configure_optimizers",
                    "Module.on_fit_start"])
    assert expected == run.trace.names()[:len(expected)]


@clause(
    "HOOK-009",
    "configure_callbacks is the first hook of a stage, before prepare_data and setup.",
    source="lightning/pytorch/trainer/connectors/callback_connector.py::_attach_model_callbacks",
)
def test_configure_callbacks_first(target):
    module = target.module(overrides={"prepare_data": lambda self: None})
    run = target.validate(module, limit_val_batches=1)

    expected = ["Module.configure_callbacks", "Module.prepare_data", "Module.setup"]
    assert expected == run.trace.names()[:3]


@clause(
    "HOOK-010",
    "The module's zero_grad is called once, right after on_fit_start, before the sanity check.",
    source="lightning/pytorch/trainer/trainer.py::_run_stage",
    versions=">=2.1",
    changes=("run_stage_zero_grad",),
)
def test_zero_grad_after_fit_start(target):
    run = target.fit(target.module(), callbacks=[target.callback()], max_epochs=1,
                     limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=1)
    names = run.trace.names()
    start = names.index("Module.on_fit_start")

    assert ["Module.on_fit_start", "Module.zero_grad", "Callback.on_sanity_check_start"] == \
        names[start:start + 3]
    assert 2 == names.count("Module.zero_grad")  # the second comes from in-fit validation


@clause(
    "HOOK-011",
    "After fit with max_epochs=E and B batches per epoch, current_epoch is E and global_step E*B.",
    source="tests/tests_pytorch/models/test_restore.py::test_correct_step_and_epoch",
)
def test_epoch_and_step_counters(target):
    run = target.fit(target.module(), callbacks=[target.callback()], max_epochs=2,
                     limit_train_batches=3, limit_val_batches=0)

    assert (2, 6) == (run.trainer.current_epoch, run.trainer.global_step)
    assert [0, 1] == [e.args["epoch"] for e in run.trace.calls("optimizer_step")][::3]


@clause(
    "HOOK-012",
    "max_steps stops training after that many optimizer steps, even in the middle of an epoch.",
    source="lightning/pytorch/loops/fit_loop.py::done",
)
def test_max_steps_stops_mid_epoch(target):
    run = target.fit(target.module(), callbacks=[target.callback()], max_epochs=5, max_steps=3,
                     limit_train_batches=2, limit_val_batches=0)

    assert 3 == len(run.trace.calls("optimizer_step"))
    assert 3 == run.trainer.global_step
    assert [0, 1] == [e.args["batch_idx"] for e in run.trace.calls("on_train_batch_end")][:2]
    assert ["Module.on_train_epoch_end"] * 2 == run.trace.names("Module",
                                                                hooks={"on_train_epoch_end"})
