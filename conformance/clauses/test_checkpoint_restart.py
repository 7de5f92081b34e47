"""CKPT: where a checkpoint was written decides how a resumed fit goes on (restart stages).

Found by differential testing (tests/test_differential.py) against Lightning 2.6.6; each clause
is the smallest run that shows one rule of Lightning's ``update_restart_stage``.
"""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import saving_callback

FIT_LOOP = "lightning/pytorch/loops/fit_loop.py"
HOOKS_TEST = "tests/tests_pytorch/models/test_hooks.py"
# 2 epochs of 2 batches, with a 2-batch sanity check and validation at each epoch's end
WITH_SANITY = {"max_epochs": 2, "limit_train_batches": 2, "limit_val_batches": 2,
               "num_sanity_val_steps": 2}


def _epoch_end_saver(pl, path):
    """A callback that writes ``path`` in on_train_epoch_end of epoch 0 (before the module's)."""

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == 0:
            trainer.save_checkpoint(path)

    return type("SaveAtEpochEnd", (pl.Callback,), {"on_train_epoch_end": on_train_epoch_end})()


def _epoch_observer(target, seen):
    """A recording callback that notes current_epoch in on_sanity_check_start/on_train_start."""

    def observer(hook):
        def observe(self, trainer, pl_module):
            seen[hook] = trainer.current_epoch

        return observe

    hooks = ("on_sanity_check_start", "on_train_start")
    return target.callback(overrides={hook: observer(hook) for hook in hooks})


@clause(
    "CKPT-047",
    "Resuming a checkpoint written inside an epoch skips the sanity check.",
    source="lightning/pytorch/trainer/trainer.py::_run_sanity_check",
)
@requires("checkpoint")
def test_mid_epoch_resume_skips_sanity_check(target):
    path = str(target.root / "mid.ckpt")
    target.fit(target.module(), callbacks=[saving_callback(target.pl, path, 0)], **WITH_SANITY)
    run = target.fit(target.module(), ckpt_path=path, callbacks=[target.callback()],
                     **WITH_SANITY)

    assert [] == run.trace.calls("on_sanity_check_start", owner="Callback")


@clause(
    "CKPT-048",
    "A checkpoint from an epoch's last batch resumes in the next epoch, without on_train_epoch_start.",
    source=f"{FIT_LOOP}::_FitLoop.reset",
    changes=("mid_epoch_restart_consistency",),
)
@requires("checkpoint")
def test_last_batch_checkpoint_resumes_next_epoch(target, contract):
    path = str(target.root / "last-batch.ckpt")
    settings = {"max_epochs": 2, "limit_train_batches": 2, "limit_val_batches": 0}
    target.fit(target.module(), callbacks=[saving_callback(target.pl, path, 1)], **settings)
    run = target.fit(target.module(), ckpt_path=path, callbacks=[target.callback()], **settings)

    hooks = run.trace.names("Callback", hooks={"on_train_epoch_start", "on_train_epoch_end"})
    steps = [(e.args["epoch"], e.args["batch_idx"]) for e in run.trace.calls("optimizer_step")]
    if contract.has("mid_epoch_restart_consistency"):
        assert (["Callback.on_train_epoch_end"], [(1, 0), (1, 1)]) == (hooks, steps)
    else:  # the saved batch runs again, then the next epoch with both epoch hooks
        epoch = ["Callback.on_train_epoch_start", "Callback.on_train_epoch_end"]
        assert (epoch * 2, [(0, 1), (1, 0), (1, 1)]) == (hooks, steps)


@clause(
    "CKPT-049",
    "With max_steps set, resuming an epoch-end checkpoint goes on in that epoch, batch_idx counting on.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_fit_no_val_and_resume_max_steps",
    changes=("mid_epoch_restart_consistency",),
)
@requires("checkpoint")
def test_iteration_based_resume_continues_epoch(target, contract):
    checkpoint = target.checkpoint_callback()
    target.fit(target.module(), callbacks=[checkpoint], max_steps=1, limit_val_batches=0,
               enable_checkpointing=True)
    run = target.fit(target.module(), ckpt_path=checkpoint.best_model_path,
                     callbacks=[target.callback()], max_steps=3, limit_val_batches=0)

    starts = len(run.trace.calls("on_train_epoch_start", owner="Callback"))
    steps = [(e.args["epoch"], e.args["batch_idx"]) for e in run.trace.calls("optimizer_step")]
    # before 2.5 the epoch's on_train_epoch_start runs again; the batch indices go on all the same
    assert (0 if contract.has("mid_epoch_restart_consistency") else 1, [(0, 1), (0, 2)]) == (
        starts, steps)


@clause(
    "CKPT-050",
    "After resuming an on_train_epoch_end checkpoint, current_epoch moves on only at on_train_start.",
    source=f"{FIT_LOOP}::_FitLoop.on_run_start",
)
@requires("checkpoint")
def test_epoch_end_resume_moves_epoch_after_sanity_check(target):
    path = str(target.root / "epoch-end.ckpt")
    target.fit(target.module(), callbacks=[_epoch_end_saver(target.pl, path)], **WITH_SANITY)
    seen = {}
    target.fit(target.module(), ckpt_path=path, callbacks=[_epoch_observer(target, seen)],
               **WITH_SANITY)

    assert {"on_sanity_check_start": 0, "on_train_start": 1} == seen
