"""CKPT: what a checkpoint written during or after ``fit`` contains, and the hooks that write it."""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import (
    FIT,
    epoch_checkpoints,
    fit_and_save,
    hparams_module_class,
    read,
    stateful_datamodule_class,
)

CONNECTOR = "lightning/pytorch/trainer/connectors/checkpoint_connector.py"
DUMP = f"{CONNECTOR}::dump_checkpoint"
ALWAYS = {"epoch", "global_step", "pytorch-lightning_version", "state_dict", "loops"}
TRAINING = {"callbacks", "optimizer_states", "lr_schedulers"}


@clause(
    "CKPT-001",
    "A checkpoint saved after fit holds exactly epoch, global_step, version, weights, loops and states.",
    source=DUMP,
)
@requires("checkpoint")
def test_fit_checkpoint_keys(target):
    path = target.root / "fit.ckpt"
    fit_and_save(target, target.module(scheduler=True), path)

    assert ALWAYS | TRAINING == set(read(path))


@clause(
    "CKPT-002",
    "save_hyperparameters adds hparams_name 'kwargs' and the init arguments as hyper_parameters.",
    source=f"{DUMP}; tests/tests_pytorch/models/test_hparams.py",
)
@requires("checkpoint")
def test_hyperparameter_keys(target):
    path = target.root / "hparams.ckpt"
    fit_and_save(target, hparams_module_class(target.pl)(lr=0.2), path)
    checkpoint = read(path)

    assert ALWAYS | TRAINING | {"hparams_name", "hyper_parameters"} == set(checkpoint)
    assert "kwargs" == checkpoint["hparams_name"]
    assert {"lr": 0.2, "hidden": 4, "extra": None} == checkpoint["hyper_parameters"]


@clause(
    "CKPT-003",
    "A datamodule adds its non-empty state_dict under its class qualname, and its hyperparameters.",
    source=DUMP,
)
@requires("checkpoint")
def test_datamodule_keys(target):
    path = target.root / "dm.ckpt"
    datamodule = stateful_datamodule_class(target.pl)(batches=3)
    fit_and_save(target, target.module(dataloaders=False), path, datamodule=datamodule)
    checkpoint = read(path)

    qualname = type(datamodule).__qualname__
    extra = {qualname, "datamodule_hparams_name", "datamodule_hyper_parameters"}
    assert ALWAYS | TRAINING | extra == set(checkpoint)
    assert {"position": 7} == checkpoint[qualname]
    assert {"batches": 3} == checkpoint["datamodule_hyper_parameters"]


@clause(
    "CKPT-004",
    "The callbacks entry maps each callback with a non-empty state_dict to it, by state_key.",
    source=f"{CONNECTOR}; lightning/pytorch/trainer/call.py::_call_callbacks_state_dict",
)
@requires("checkpoint")
def test_callback_states(target):
    path = target.root / "callbacks.ckpt"
    stateless = type("Stateless", (target.pl.Callback,), {})()
    fit_and_save(target, target.module(), path, callbacks=[target.callback(), stateless])

    assert {"RecordingCallback": {"recorded": True}} == read(path)["callbacks"]


@clause(
    "CKPT-005",
    "save_checkpoint(weights_only=True) leaves out the callbacks, optimizer and scheduler states.",
    source=DUMP,
)
@requires("checkpoint")
def test_weights_only_keys(target):
    path = target.root / "weights.ckpt"
    run = target.fit(hparams_module_class(target.pl)(), callbacks=[target.callback()], **FIT)
    run.trainer.save_checkpoint(str(path), weights_only=True)

    assert ALWAYS | {"hparams_name", "hyper_parameters"} == set(read(path))


@clause(
    "CKPT-006",
    "ModelCheckpoint at the end of epoch k saves epoch k and the optimizer steps taken so far.",
    source="tests/tests_pytorch/models/test_hooks.py::test_trainer_model_hook_system_fit",
)
@requires("checkpoint")
def test_epoch_end_counters(target):
    run, names = epoch_checkpoints(target, target.module())
    directory = target.root / "checkpoints"

    assert ["epoch=0-step=2.ckpt", "epoch=1-step=4.ckpt"] == names
    counters = [(read(directory / n)["epoch"], read(directory / n)["global_step"]) for n in names]
    assert [(0, 2), (1, 4)] == counters


@clause(
    "CKPT-007",
    "trainer.save_checkpoint after fit saves epoch == max_epochs and global_step == all steps.",
    source="tests/tests_pytorch/models/test_restore.py::test_correct_step_and_epoch",
)
@requires("checkpoint")
def test_manual_save_counters(target):
    path = target.root / "after.ckpt"
    fit_and_save(target, target.module(), path)
    checkpoint = read(path)

    assert (2, 4) == (checkpoint["epoch"], checkpoint["global_step"])


@clause(
    "CKPT-008",
    "What the module's on_save_checkpoint adds is written; on resume on_load_checkpoint receives it.",
    source="lightning/pytorch/core/hooks.py::CheckpointHooks",
)
@requires("checkpoint")
def test_module_checkpoint_hooks_carry_data(target):
    path, received = target.root / "extra.ckpt", []

    def on_save(self, checkpoint):
        checkpoint["kit_extra"] = {"answer": 42}

    def on_load(self, checkpoint):
        received.append(checkpoint.get("kit_extra"))

    fit_and_save(target, target.module(overrides={"on_save_checkpoint": on_save}), path)
    module = target.module(overrides={"on_load_checkpoint": on_load})
    target.fit(module, ckpt_path=str(path), **(FIT | {"max_epochs": 3}))

    assert {"answer": 42} == read(path)["kit_extra"]
    assert [{"answer": 42}] == received


@clause(
    "CKPT-009",
    "A weights-only save calls the module's on_save_checkpoint but no callback's hooks.",
    source=DUMP,
)
@requires("checkpoint")
def test_weights_only_hooks(target):
    run = target.fit(target.module(), callbacks=[target.callback()], **FIT)
    before = len(run.trace.events)
    run.trainer.save_checkpoint(str(target.root / "w.ckpt"), weights_only=True)

    assert ["Module.on_save_checkpoint"] == [e.name for e in run.trace.events[before:]]
