"""CKPT: ModelCheckpoint's files (names, directory, top-k, last, triggers) and resuming from them."""

import os

import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import FIT, read

CALLBACK_TEST = "tests/tests_pytorch/checkpointing/test_model_checkpoint.py"
CALLBACK_SOURCE = "lightning/pytorch/callbacks/model_checkpoint.py"
# The score the module logs in each epoch: the best two are epochs 1 and 3 for "min", 0 and 2
# for "max"; neither order is the order of the epochs.
SCORES = (3.0, 1.0, 2.0, 0.0)
# ModelCheckpoint needs enable_checkpointing=True (the neutral settings turn it off).
TWO_EPOCHS = FIT | {"enable_checkpointing": True}
FOUR_EPOCHS = TWO_EPOCHS | {"max_epochs": 4}


def _scoring_module(target, **features):
    """A module that logs ``score`` = ``SCORES[current_epoch]`` once per epoch."""

    def training_step(self, batch, batch_idx):
        self.log("score", SCORES[self.current_epoch], on_step=False, on_epoch=True)
        return self.layer(batch).sum()

    return target.module(overrides={"training_step": training_step}, **features)


def _files(directory) -> list:
    return sorted(path.name for path in directory.iterdir())


def _started_at(target):
    """A module that records (current_epoch, global_step) in on_train_start."""
    seen = []

    def on_train_start(self):
        seen.append((self.trainer.current_epoch, self.trainer.global_step))

    return target.module(overrides={"on_train_start": on_train_start}), seen


def _same(path, other) -> bool:
    return os.path.realpath(path) == os.path.realpath(other)


@clause(
    "CKPT-033",
    "With logger=False and no dirpath, ModelCheckpoint saves epoch={e}-step={s}.ckpt in root/checkpoints.",
    source=f"{CALLBACK_SOURCE}::__resolve_ckpt_dir; {CALLBACK_TEST}::test_model_checkpoint_no_extraneous_invocations",
)
@requires("checkpoint")
def test_default_name_and_directory(target):
    callback = target.pl.ModelCheckpoint(save_top_k=-1)
    target.fit(target.module(), callbacks=[callback], **TWO_EPOCHS)

    assert _same(target.root / "checkpoints", callback.dirpath)
    assert ["epoch=0-step=2.ckpt", "epoch=1-step=4.ckpt"] == _files(target.root / "checkpoints")


@clause(
    "CKPT-034",
    "enable_checkpointing=True with no ModelCheckpoint adds one that keeps the latest epoch's file.",
    source="lightning/pytorch/trainer/connectors/callback_connector.py::_configure_checkpoint_callbacks",
)
@requires("checkpoint")
def test_default_callback(target):
    run = target.fit(target.module(), enable_checkpointing=True, **FIT)

    assert isinstance(run.trainer.checkpoint_callback, target.pl.ModelCheckpoint)
    assert ["epoch=1-step=4.ckpt"] == _files(target.root / "checkpoints")


@clause(
    "CKPT-035",
    'save_top_k=2 with monitor and mode="min" keeps the two lowest-scoring files; best is the lowest.',
    source=f"{CALLBACK_TEST}::test_model_checkpoint_score_and_ckpt",
)
@requires("checkpoint", "logging")
def test_top_k_min(target):
    callback = target.checkpoint_callback(monitor="score", mode="min", save_top_k=2)
    target.fit(_scoring_module(target), callbacks=[callback], **FOUR_EPOCHS)

    assert ["epoch=1-step=4.ckpt", "epoch=3-step=8.ckpt"] == _files(target.root / "checkpoints")
    assert _same(target.root / "checkpoints" / "epoch=3-step=8.ckpt", callback.best_model_path)
    assert 0.0 == float(callback.best_model_score)
    assert 1.0 == float(callback.kth_value)


@clause(
    "CKPT-036",
    'save_top_k=2 with monitor and mode="max" keeps the two highest-scoring files.',
    source=f"{CALLBACK_TEST}::test_model_checkpoint_score_and_ckpt",
)
@requires("checkpoint", "logging")
def test_top_k_max(target):
    callback = target.checkpoint_callback(monitor="score", mode="max", save_top_k=2)
    target.fit(_scoring_module(target), callbacks=[callback], **FOUR_EPOCHS)

    assert ["epoch=0-step=2.ckpt", "epoch=2-step=6.ckpt"] == _files(target.root / "checkpoints")
    assert _same(target.root / "checkpoints" / "epoch=0-step=2.ckpt", callback.best_model_path)
    assert 3.0 == float(callback.best_model_score)


@clause(
    "CKPT-037",
    "save_last=True also writes last.ckpt, holding the latest epoch's state, beside the top-k file.",
    source=f"{CALLBACK_TEST}::test_model_checkpoint_save_last",
)
@requires("checkpoint")
def test_save_last(target):
    callback = target.checkpoint_callback(save_last=True)
    target.fit(target.module(), callbacks=[callback], **TWO_EPOCHS)
    last = target.root / "checkpoints" / "last.ckpt"

    assert ["epoch=1-step=4.ckpt", "last.ckpt"] == _files(target.root / "checkpoints")
    assert _same(last, callback.last_model_path)
    assert (1, 4) == (read(last)["epoch"], read(last)["global_step"])


@clause(
    "CKPT-038",
    "every_n_epochs=2 saves at the end of every second epoch only (epochs 1 and 3 of 4).",
    source=f"{CALLBACK_TEST}::test_model_checkpoint_every_n_epochs",
)
@requires("checkpoint")
def test_every_n_epochs(target):
    callback = target.checkpoint_callback(every_n_epochs=2, save_top_k=-1)
    target.fit(target.module(), callbacks=[callback], **FOUR_EPOCHS)

    assert ["epoch=1-step=4.ckpt", "epoch=3-step=8.ckpt"] == _files(target.root / "checkpoints")


@clause(
    "CKPT-039",
    "every_n_train_steps=3 saves after every third optimizer step and not at epoch ends.",
    source=f"{CALLBACK_TEST}::test_ckpt_every_n_train_steps",
)
@requires("checkpoint")
def test_every_n_train_steps(target):
    callback = target.checkpoint_callback(every_n_train_steps=3, save_top_k=-1)
    target.fit(target.module(), callbacks=[callback], **(TWO_EPOCHS | {"max_epochs": 3}))

    # steps 1..6 over 3 epochs of 2 batches: step 3 ends the first batch of epoch 1
    assert ["epoch=1-step=3.ckpt", "epoch=2-step=6.ckpt"] == _files(target.root / "checkpoints")


@clause(
    "CKPT-040",
    "save_weights_only=True files hold the weights and counters but no optimizer or callback state.",
    source=f"{CALLBACK_TEST}::test_model_checkpoint_save_weights_only",
)
@requires("checkpoint")
def test_save_weights_only(target):
    callback = target.checkpoint_callback(save_weights_only=True)
    target.fit(target.module(scheduler=True), callbacks=[callback], **TWO_EPOCHS)
    saved = read(target.root / "checkpoints" / "epoch=1-step=4.ckpt")

    assert {"state_dict", "epoch", "global_step"} <= set(saved)
    assert not {"optimizer_states", "lr_schedulers", "callbacks"} & set(saved)


@clause(
    "CKPT-041",
    'fit(ckpt_path="last") resumes from the last.ckpt that save_last=True wrote.',
    source="lightning/pytorch/trainer/connectors/checkpoint_connector.py::_parse_ckpt_path",
)
@requires("checkpoint")
def test_resume_last(target):
    target.fit(target.module(), callbacks=[target.checkpoint_callback(save_last=True)],
               **TWO_EPOCHS)
    module, started = _started_at(target)
    run = target.fit(module, callbacks=[target.checkpoint_callback(save_last=True)],
                     ckpt_path="last", **(TWO_EPOCHS | {"max_epochs": 3}))

    assert _same(target.root / "checkpoints" / "last.ckpt", run.trainer.ckpt_path)
    assert [(2, 4)] == started
    assert (3, 6) == (run.trainer.current_epoch, run.trainer.global_step)


@clause(
    "CKPT-042",
    'validate and test with ckpt_path="best" load the weights of the best_model_path file.',
    source="lightning/pytorch/trainer/connectors/checkpoint_connector.py::_parse_ckpt_path",
)
@requires("checkpoint", "logging")
def test_validate_and_test_best(target):
    callback = target.checkpoint_callback(monitor="score", mode="max")
    module = _scoring_module(target)
    run = target.fit(module, callbacks=[callback], **FOUR_EPOCHS)
    best = read(callback.best_model_path)["state_dict"]  # epoch 0's weights, not the final ones
    assert not torch.equal(best["layer.weight"], module.layer.weight.detach())

    for verb in (run.trainer.validate, run.trainer.test):
        module.layer.weight.data.zero_()
        verb(module, ckpt_path="best")
        assert _same(callback.best_model_path, run.trainer.ckpt_path)
        assert torch.equal(best["layer.weight"], module.layer.weight.detach())


@clause(
    "CKPT-051",
    "With save_last=True, fit ends with a last.ckpt even when no top-k checkpoint was due.",
    source=f"{CALLBACK_SOURCE}::ModelCheckpoint.on_train_end",
)
@requires("checkpoint")
def test_save_last_without_due_checkpoint(target):
    # Note: found by tests/test_differential.py. Lightning 2.6 writes it in on_train_end when
    # the callback saved nothing during training; before 2.5.3 every epoch end wrote it.
    callback = target.checkpoint_callback(every_n_epochs=3, save_last=True)
    target.fit(target.module(), callbacks=[callback], **TWO_EPOCHS)

    assert ["last.ckpt"] == _files(target.root / "checkpoints")
    assert "last.ckpt" == os.path.basename(callback.last_model_path)


@clause(
    "CKPT-052",
    "ModelCheckpoint replacing a top-k file that no longer exists carries on without an error.",
    source="lightning/fabric/plugins/io/torch_io.py::TorchCheckpointIO.remove_checkpoint",
)
@requires("checkpoint")
def test_replacing_a_missing_file(target):
    # Note: found by tests/test_differential.py. A resume restores the callback's record of the
    # newest file, which may have been deleted since (here: by hand); Lightning removes a file
    # only if it exists.
    directory = target.root / "checkpoints"
    target.fit(target.module(), callbacks=[target.checkpoint_callback()], **TWO_EPOCHS)
    resume = target.root / "resume.ckpt"
    os.replace(directory / "epoch=1-step=4.ckpt", resume)

    callback = target.checkpoint_callback()
    target.fit(target.module(), callbacks=[callback], ckpt_path=str(resume),
               **(TWO_EPOCHS | {"max_epochs": 3}))

    assert ["epoch=2-step=6.ckpt"] == _files(directory)
    assert "epoch=2-step=6.ckpt" == os.path.basename(callback.best_model_path)
