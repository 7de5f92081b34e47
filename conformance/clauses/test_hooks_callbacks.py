"""HOOK: how callbacks are ordered among themselves and against the module."""

from lightning_conformance import clause

CALL = "lightning/pytorch/trainer/call.py"


def _fit(target, callbacks, module=None, **kwargs):
    settings = {"max_epochs": 1, "limit_train_batches": 1, "limit_val_batches": 1,
                "num_sanity_val_steps": 1} | kwargs
    return target.fit(module or target.module(), callbacks=callbacks, **settings)


@clause(
    "HOOK-038",
    "Every hook that callbacks and the module share is called on the callbacks first.",
    source=f"{CALL}::_call_callback_hooks",
)
def test_callbacks_before_module(target):
    run = _fit(target, [target.callback()])
    names = run.trace.names()
    shared = {e.hook for e in run.trace.events if e.owner == "Callback"}

    late = [name for i, name in enumerate(names)
            if name.startswith("Module.") and name.split(".")[1] in shared
            and names[i - 1] != f"Callback.{name.split('.')[1]}"]
    assert [] == late


@clause(
    "HOOK-039",
    "Checkpoint callbacks get on_train_epoch_end after the module; other callbacks get it before.",
    source="lightning/pytorch/loops/fit_loop.py::on_advance_end",
    changes=("monitoring_callbacks_after_module",),
)
def test_monitoring_callbacks_after_module(target, contract):
    run = _fit(target, [target.checkpoint_callback(), target.callback()],
               enable_checkpointing=True, limit_val_batches=0)

    if contract.has("monitoring_callbacks_after_module"):
        expected = ["Callback.on_train_epoch_end", "Module.on_train_epoch_end",
                    "RecordingCheckpoint.on_train_epoch_end"]
    else:
        expected = ["Callback.on_train_epoch_end", "RecordingCheckpoint.on_train_epoch_end",
                    "Module.on_train_epoch_end"]
    assert expected == run.trace.names(hooks={"on_train_epoch_end"})


@clause(
    "HOOK-047",
    "Callbacks are called in the order given to the Trainer, with checkpoint callbacks moved last.",
    source="lightning/pytorch/trainer/connectors/callback_connector.py::_reorder_callbacks",
)
def test_callback_order(target):
    first = target.callback(name="First")
    second = target.callback(name="Second")
    run = _fit(target, [target.checkpoint_callback(), first, second], enable_checkpointing=True)

    expected = ["First.on_fit_start", "Second.on_fit_start", "RecordingCheckpoint.on_fit_start",
                "Module.on_fit_start"]
    assert expected == run.trace.names(hooks={"on_fit_start"})
    assert [first, second] == run.trainer.callbacks[:2]


@clause(
    "HOOK-048",
    "configure_callbacks adds its callbacks, replacing any Trainer callback of the same type.",
    source="lightning/pytorch/trainer/connectors/callback_connector.py::_attach_model_callbacks",
)
def test_configure_callbacks_replaces_same_type(target):
    started = []
    record = {"on_fit_start": lambda self, trainer, pl_module: started.append(self)}
    given = target.callback(name="Replaced", overrides=record)
    kept = target.callback(name="Kept")
    returned = type(given)()

    module = target.module(overrides={"configure_callbacks": lambda self: [returned]})
    run = _fit(target, [given, kept], module=module)

    assert [returned] == started
    assert given not in run.trainer.callbacks
    assert kept in run.trainer.callbacks


@clause(
    "HOOK-049",
    "Saving calls every callback's state_dict, then every on_save_checkpoint, then the module's.",
    source=f"{CALL}::_call_callbacks_on_save_checkpoint",
)
def test_checkpoint_save_hook_order(target):
    run = _fit(target, [target.callback(), target.checkpoint_callback()],
               enable_checkpointing=True, limit_val_batches=0)
    hooks = {"state_dict", "on_save_checkpoint"}

    expected = ["Callback.state_dict", "RecordingCheckpoint.state_dict",
                "Callback.on_save_checkpoint", "RecordingCheckpoint.on_save_checkpoint",
                "Module.on_save_checkpoint"]
    assert expected == run.trace.names(hooks=hooks)
    saved = run.trace.calls("on_save_checkpoint")[0].args["checkpoint"]
    assert {"epoch": 0, "global_step": 1} == {k: saved[k] for k in ("epoch", "global_step")}
