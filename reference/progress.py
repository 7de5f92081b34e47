"""The ``loops`` entry of a checkpoint, in Lightning's own format, written and read back.

Lightning saves its loops' progress trackers (``loops/progress.py``): for epochs and batches,
counts of items that were ``ready``, ``started``, ``processed`` and ``completed``, once in
``total`` and once for the ``current`` epoch. The reference keeps plain counters; this module
translates them both ways, so that Lightning resumes from the reference's checkpoints and the
reference from Lightning's.
"""

from .restart import plan_restart

__all__ = ["loops_state", "restore_fit_progress"]


def _tracker(ready, completed, started=None, processed=None):
    tracker = {"ready": ready, "completed": completed}
    if started is not None:
        tracker["started"] = started
    if processed is not None:
        tracker["processed"] = processed
    return tracker


def _batch_progress(current=(0, 0, 0), total=(0, 0, 0), is_last_batch=False):
    # (ready = processed, started, completed): a batch skipped by on_train_batch_start returning
    # -1 is ready and processed, but neither started nor completed
    (ready, started, completed), (total_ready, total_started, total_completed) = current, total
    return {
        "total": _tracker(total_ready, total_completed, total_started, total_ready),
        "current": _tracker(ready, completed, started, ready),
        "is_last_batch": is_last_batch,
    }


def _steps(total, current):
    return {"total": _tracker(total, total), "current": _tracker(current, current)}


def _optimizer_progress(total, current):
    return {
        "optimizer": {
            "step": _steps(total, current),
            "zero_grad": {
                "total": _tracker(total, total, total),
                "current": _tracker(current, current, current),
            },
        }
    }


def _fit_loop_state(trainer):
    fit = trainer.fit_loop
    started = fit.epochs_started
    epochs = _tracker(started, fit.epochs_completed, started, fit.epochs_processed)
    skipped = int(fit.skipped_at == fit.total_batches_ready)  # this epoch's last batch
    # a save inside on_train_batch_end: that batch is not completed yet
    unfinished = fit.batches_ready - fit.batches_completed - skipped
    total_started = fit.total_batches_ready - fit.batches_skipped
    batches = _batch_progress(
        (fit.batches_ready, fit.batches_ready - skipped, fit.batches_completed),
        (fit.total_batches_ready, total_started, total_started - unfinished),
        fit.is_last_batch,
    )
    steps, epoch_steps = fit.optimizer_steps, fit.optimizer_steps - fit.epoch_start_steps
    automatic = trainer.lightning_module.automatic_optimization
    auto = (steps, epoch_steps) if automatic else (0, 0)
    manual = (0, 0) if automatic else (steps, epoch_steps)
    return {
        "state_dict": {},
        "epoch_loop.state_dict": {"_batches_that_stepped": fit.batches_that_stepped},
        "epoch_loop.batch_progress": batches,
        # Note: the reference does not count scheduler updates; Lightning only reports them.
        "epoch_loop.scheduler_progress": _steps(0, 0),
        "epoch_loop.automatic_optimization.state_dict": {},
        "epoch_loop.automatic_optimization.optim_progress": _optimizer_progress(*auto),
        "epoch_loop.manual_optimization.state_dict": {},
        "epoch_loop.manual_optimization.optim_step_progress": _steps(*manual),
        "epoch_loop.val_loop.state_dict": {},
        "epoch_loop.val_loop.batch_progress": _batch_progress(),
        "epoch_progress": {"total": dict(epochs), "current": dict(epochs)},
    }


def loops_state(trainer):
    """The ``loops`` entry: the fit loop's progress; the other loops' are always empty here."""
    evaluation = {"state_dict": {}, "batch_progress": _batch_progress()}
    predict = {"state_dict": {}, "batch_progress": _batch_progress()}
    predict["batch_progress"].pop("is_last_batch")
    return {
        "fit_loop": _fit_loop_state(trainer),
        "validate_loop": dict(evaluation),
        "test_loop": dict(evaluation),
        "predict_loop": predict,
    }


def _optimizer_steps(state, automatic):
    if automatic:
        progress = state["epoch_loop.automatic_optimization.optim_progress"]["optimizer"]["step"]
    else:
        progress = state["epoch_loop.manual_optimization.optim_step_progress"]
    return progress["total"]["completed"]


def restore_fit_progress(fit_loop, state, automatic):
    """Set the fit loop's counters from Lightning's ``loops["fit_loop"]`` entry.

    Where the checkpoint was written (inside an epoch, in ``on_train_epoch_end``, after fit)
    decides how fit goes on: ``restart.plan_restart`` reads it from the same counters.
    """
    epochs = state["epoch_progress"]["current"]
    batches = state["epoch_loop.batch_progress"]
    fit_loop.optimizer_steps = fit_loop.epoch_start_steps = _optimizer_steps(state, automatic)
    fit_loop.batches_that_stepped = state["epoch_loop.state_dict"].get("_batches_that_stepped", 0)
    fit_loop.total_batches_ready = batches["total"]["processed"]
    fit_loop.batches_skipped = batches["total"]["ready"] - batches["total"]["started"]
    skipped_now = batches["current"]["ready"] > batches["current"]["started"]
    fit_loop.skipped_at = fit_loop.total_batches_ready if skipped_now else None
    fit_loop.resuming = True  # the first epoch keeps the iterator made when the data was loaded
    fit_loop.epochs_started = epochs["started"]
    fit_loop.epochs_processed = epochs["processed"]
    fit_loop.epochs_completed = epochs["completed"]
    iteration_based = fit_loop.max_steps != -1
    fit_loop.restart = plan_restart(state["epoch_progress"], batches, iteration_based)
