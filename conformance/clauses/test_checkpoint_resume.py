"""CKPT: ``fit(ckpt_path=...)`` restores progress, optimizer, scheduler, callback and data state."""

import copy
import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import (
    FIT,
    epoch_checkpoints,
    fit_and_save,
    hparams_module_class,
    read,
    saving_callback,
    stateful_datamodule_class,
)

RESTORE_TEST = "tests/tests_pytorch/models/test_restore.py"
CONNECTOR = "lightning/pytorch/trainer/connectors/checkpoint_connector.py"


def _first_epoch_checkpoint(target, module=None, **kwargs):
    """The checkpoint ModelCheckpoint writes at the end of epoch 0 (2 optimizer steps)."""
    epoch_checkpoints(target, module or target.module(scheduler=True), **kwargs)
    return str(target.root / "checkpoints" / "epoch=0-step=2.ckpt")


def _observing(target, cls=None, hook="on_train_start"):
    """A module that records trainer counters and optimizer/scheduler state in ``hook``."""
    seen = {}

    def observe(self):
        optimizer = self.trainer.optimizers[0]
        seen[hook] = copy.deepcopy({  # training changes the tensors in place afterwards
            "epoch": self.trainer.current_epoch,
            "step": self.trainer.global_step,
            "optimizer": optimizer.state_dict(),
            "scheduler": self.trainer.lr_scheduler_configs[0].scheduler.state_dict(),
        })

    if cls is None:
        module = target.module(scheduler=True, overrides={hook: observe})
    else:
        module = type("Observing", (cls,), {hook: observe})()
    return module, seen


@clause(
    "CKPT-017",
    "Resuming an end-of-epoch checkpoint starts at the next epoch with the saved global_step.",
    source=f"{RESTORE_TEST}::test_trainer_properties_restore_ckpt_path",
)
@requires("checkpoint")
def test_resume_counters(target):
    path = _first_epoch_checkpoint(target)
    module, seen = _observing(target)
    run = target.fit(module, ckpt_path=path, **FIT)

    assert (1, 2) == (seen["on_train_start"]["epoch"], seen["on_train_start"]["step"])
    assert (2, 4) == (run.trainer.current_epoch, run.trainer.global_step)


@clause(
    "CKPT-018",
    "Optimizer and scheduler states are restored after on_fit_start, before on_train_start.",
    source=f"{RESTORE_TEST}::test_trainer_properties_restore_ckpt_path; {CONNECTOR}",
)
@requires("checkpoint")
def test_resume_optimizer_and_scheduler(target):
    cls = hparams_module_class(target.pl)  # SGD with momentum: the optimizer has state
    path = _first_epoch_checkpoint(target, cls())
    module, seen = _observing(target, cls, hook="on_fit_start")
    late, late_seen = _observing(target, cls)
    target.fit(module, ckpt_path=path, **FIT)
    target.fit(late, ckpt_path=path, **FIT)
    saved = read(path)

    restored = late_seen["on_train_start"]
    assert {} == seen["on_fit_start"]["optimizer"]["state"]
    assert saved["optimizer_states"][0]["state"].keys() == restored["optimizer"]["state"].keys()
    momentum = restored["optimizer"]["state"][0]["momentum_buffer"]
    assert torch.equal(saved["optimizer_states"][0]["state"][0]["momentum_buffer"], momentum)
    assert saved["lr_schedulers"][0] == restored["scheduler"]


@clause(
    "CKPT-019",
    "On resume: Module.on_load_checkpoint, then Callback.on_load_checkpoint, then load_state_dict.",
    source="tests/tests_pytorch/models/test_hooks.py::"
    "test_trainer_model_hook_system_fit_no_val_and_resume_max_epochs",
)
@requires("checkpoint")
def test_resume_hook_order(target):
    path = target.root / "hooks.ckpt"
    fit_and_save(target, target.module(), path, callbacks=[target.callback()])
    run = target.fit(target.module(), ckpt_path=str(path), callbacks=[target.callback()],
                     **(FIT | {"max_epochs": 3}))
    hooks = {"setup", "configure_optimizers", "on_load_checkpoint", "load_state_dict"}

    expected = ["Callback.setup", "Module.setup", "Module.on_load_checkpoint",
                "Callback.on_load_checkpoint", "Callback.load_state_dict",
                "Module.configure_optimizers"]
    assert expected == run.trace.names(hooks=hooks)
    assert {"recorded": True} == run.trace.calls("load_state_dict", "Callback")[0].args["state_dict"]


@clause(
    "CKPT-020",
    "On resume the datamodule's load_state_dict receives the state its state_dict saved.",
    source=f"{CONNECTOR}::restore_datamodule",
)
@requires("checkpoint")
def test_resume_datamodule_state(target):
    path = target.root / "dm.ckpt"
    cls = stateful_datamodule_class(target.pl)
    fit_and_save(target, target.module(dataloaders=False), path, datamodule=cls())
    datamodule = cls()
    target.fit(target.module(dataloaders=False), ckpt_path=str(path), datamodule=datamodule,
               **(FIT | {"max_epochs": 3}))

    assert {"position": 7} == datamodule.restored


@clause(
    "CKPT-021",
    "Resuming an end-of-epoch checkpoint ends with the weights and lr of an uninterrupted fit.",
    source=f"{RESTORE_TEST}::test_correct_step_and_epoch",
)
@requires("checkpoint")
def test_resume_equals_uninterrupted(target):
    cls = hparams_module_class(target.pl)
    target.pl.seed_everything(7)
    whole = target.fit(cls(), **(FIT | {"max_epochs": 3}))
    target.pl.seed_everything(7)
    path = target.root / "first.ckpt"
    fit_and_save(target, cls(), path, max_epochs=1)
    target.pl.seed_everything(99)  # the resumed run must not depend on its own initial weights
    resumed = target.fit(cls(), ckpt_path=str(path), **(FIT | {"max_epochs": 3}))

    assert torch.equal(whole.module.layer.weight, resumed.module.layer.weight)
    lrs = [run.trainer.optimizers[0].param_groups[0]["lr"] for run in (whole, resumed)]
    assert lrs[0] == lrs[1]
    assert (3, 6) == (resumed.trainer.current_epoch, resumed.trainer.global_step)


@clause(
    "CKPT-022",
    "A mid-epoch resume warns and trains the epoch's remaining batches, with their batch_idx.",
    source=f"{RESTORE_TEST}::test_restarting_mid_epoch_raises_warning",
    changes=("mid_epoch_restart_consistency",),
)
@requires("checkpoint")
def test_mid_epoch_resume(target, contract):
    path = target.root / "mid.ckpt"
    target.fit(target.module(), callbacks=[saving_callback(target.pl, str(path), 1)],
               **(FIT | {"max_epochs": 1, "limit_train_batches": 4}))
    with pytest.warns(UserWarning, match="resuming from a checkpoint that ended before the epoch"):
        run = target.fit(target.module(), ckpt_path=str(path),
                         **(FIT | {"max_epochs": 1, "limit_train_batches": 4}))

    indices = [event.args["batch_idx"] for event in run.trace.calls("training_step")]
    if contract.has("mid_epoch_restart_consistency"):
        assert ([2, 3], 4, 0) == (indices, run.trainer.global_step,
                                  len(run.trace.calls("on_train_epoch_start")))
    else:  # the batch the checkpoint was written in runs again
        assert ([1, 2, 3], 5, 1) == (indices, run.trainer.global_step,
                                     len(run.trace.calls("on_train_epoch_start")))


@clause(
    "CKPT-023",
    "fit from a weights-only checkpoint raises KeyError: it holds no optimizer state.",
    source=f"{CONNECTOR}::restore_optimizers_and_schedulers",
)
@requires("checkpoint")
def test_weights_only_cannot_resume(target):
    path = target.root / "weights.ckpt"
    run = target.fit(target.module(), **FIT)
    run.trainer.save_checkpoint(str(path), weights_only=True)

    message = "Trying to restore optimizer state but checkpoint contains only the model."
    with pytest.raises(KeyError, match=re.escape(message)):
        target.fit(target.module(), ckpt_path=str(path), **(FIT | {"max_epochs": 3}))


@clause(
    "CKPT-024",
    "fit with a ckpt_path that does not exist raises FileNotFoundError naming the path.",
    source=f"{RESTORE_TEST}::test_try_resume_from_non_existing_checkpoint",
    changes=("checkpoint_not_found_message",),
)
@requires("checkpoint")
def test_missing_checkpoint(target, contract):
    path = str(target.root / "missing.ckpt")

    if contract.has("checkpoint_not_found_message"):
        message = f"Checkpoint file not found: {path}"
    else:
        message = f"Checkpoint at {path} not found. Aborting training."
    with pytest.raises(FileNotFoundError, match=re.escape(message)):
        target.fit(target.module(), ckpt_path=path, **FIT)


@clause(
    "CKPT-025",
    'fit(ckpt_path="last") with no last checkpoint warns and trains from the start.',
    source=f"{CONNECTOR}::_parse_ckpt_path",
    changes=("fault_tolerant_training_removed",),
)
@requires("checkpoint")
def test_last_without_checkpoint(target, contract):
    kinds = "" if contract.has("fault_tolerant_training_removed") else "fault tolerant or "
    message = (f'.fit(ckpt_path="last") is set, but there is no {kinds}last checkpoint available.'
               " No checkpoint will be loaded.")
    with pytest.warns(UserWarning, match=re.escape(message)):
        run = target.fit(target.module(), ckpt_path="last", **FIT)

    assert (2, 4) == (run.trainer.current_epoch, run.trainer.global_step)


@clause(
    "CKPT-026",
    'fit(ckpt_path="best") without a ModelCheckpoint raises ValueError.',
    source=f"{CONNECTOR}::_parse_ckpt_path",
)
@requires("checkpoint")
def test_best_without_checkpoint_callback(target):
    message = '`.fit(ckpt_path="best")` is set but `ModelCheckpoint` is not configured.'
    with pytest.raises(ValueError, match=re.escape(message)):
        target.fit(target.module(), ckpt_path="best", **FIT)


@clause(
    "CKPT-027",
    "validate(ckpt_path=...) loads the weights but no fit progress: current_epoch and step stay 0.",
    source=f"{RESTORE_TEST}::test_trainer_properties_restore_ckpt_path",
)
@requires("checkpoint")
def test_validate_does_not_restore_progress(target):
    path = target.root / "fit.ckpt"
    fit_and_save(target, target.module(), path)
    run = target.validate(target.module(), ckpt_path=str(path), limit_val_batches=1)

    assert (0, 0) == (run.trainer.current_epoch, run.trainer.global_step)
    assert torch.equal(read(path)["state_dict"]["layer.weight"], run.module.layer.weight)


@clause(
    "CKPT-028",
    "Resuming a checkpoint whose epoch is beyond max_epochs raises MisconfigurationException.",
    source=f"{CONNECTOR}::restore_loops",
)
@requires("checkpoint")
def test_epoch_beyond_max_epochs(target):
    path = target.root / "two.ckpt"
    fit_and_save(target, target.module(), path)

    message = "You restored a checkpoint with current_epoch=2, but you have set Trainer(max_epochs=1)."
    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        target.fit(target.module(), ckpt_path=str(path), **(FIT | {"max_epochs": 1}))
