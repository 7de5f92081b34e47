"""Resuming fit from a restored checkpoint: Lightning 2.5+'s restart stages (one process).

Where the checkpoint was written decides how fit goes on (Lightning's ``update_restart_stage`` in
``loops/fit_loop.py`` and ``loops/training_epoch_loop.py``). The saved epoch is *restarted* when
the checkpoint was written inside it, or whenever training is iteration-based (``max_steps`` set):

* there is no sanity check;
* the epoch goes on without ``on_train_epoch_start``; its batch indices continue after the
  batches the checkpoint counted, taken from a fresh iterator (Lightning does not fast-forward a
  dataloader that has no ``state_dict``; it warns instead);
* the first iteration runs even when the epoch's batches are all done; validation that was due
  at the saved batch is not run again (from an ``on_train_epoch_end`` checkpoint, that iteration
  trains nothing when validation was due, else one more batch);
* plateau "epoch" schedulers are not stepped at the end of that epoch.

A checkpoint written at the epoch's last ``on_train_batch_end`` restarts into the next epoch
(still without its ``on_train_epoch_start``). One written in ``on_train_epoch_end`` of
epoch-based training is *resumed*: the next epoch starts afresh, after the sanity check.
"""

import math
import warnings
from dataclasses import dataclass

__all__ = ["MID_EPOCH_WARNING", "Restart", "begin_epoch", "continue_epoch", "first_iteration",
           "plan_restart", "start_fit"]

MID_EPOCH_WARNING = (
    "You're resuming from a checkpoint that ended before the epoch ended and your dataloader is"
    " not resumable. This can cause unreliable results if further training is done. Consider"
    " using an end-of-epoch checkpoint or make your dataloader resumable by implementing the"
    " `state_dict` / `load_state_dict` interface."
)


@dataclass
class Restart:
    """Where a restored checkpoint was written, in Lightning's terms, and its batch counters."""

    restarting: bool
    stage: str | None  # "mid_epoch", "on_epoch_end", "resumed_on_epoch_end" or None
    batch_stage: str | None  # "on_train_batch_end", "on_last" or None
    batches_ready: int  # the saved epoch's batch counters (``batch_progress.current``)
    batches_completed: int
    is_last_batch: bool

    @property
    def continues_epoch(self):
        return self.stage in ("mid_epoch", "on_epoch_end")


def _stage(epochs, restarting):
    """The epoch stage from ``epoch_progress.total``: which hook the checkpoint was written in."""
    ready, started, processed, completed = (epochs[key] for key in
                                            ("ready", "started", "processed", "completed"))
    if started != ready:
        # Note: saved inside on_train_epoch_start; the reference counts an epoch as started
        # before that hook, so it never writes this, and restarts such a file like any other.
        return None
    if processed == started - 1 and completed == processed and restarting:
        return "mid_epoch"
    if processed == started and completed == processed - 1:
        return "on_epoch_end" if restarting else "resumed_on_epoch_end"
    return None


def _batch_stage(batches, restarting):
    total = batches["total"]
    if not restarting or total["started"] != total["ready"] or total["processed"] != total["ready"]:
        return None
    if total["completed"] == total["processed"] - 1:
        return "on_train_batch_end"
    return "on_last" if total["completed"] == total["processed"] else None


def plan_restart(epoch_progress, batch_progress, iteration_based):
    """The ``Restart`` a checkpoint's fit-loop progress asks for."""
    current = epoch_progress["current"]
    unfinished = any(current[key] != current["processed"] for key in ("ready", "started"))
    restarting = unfinished or iteration_based
    batches = batch_progress["current"]
    return Restart(restarting, _stage(epoch_progress["total"], restarting),
                   _batch_stage(batch_progress, restarting), batches["ready"],
                   batches["completed"], batch_progress["is_last_batch"])


def start_fit(fit_loop):
    """Settle the epoch counter before on_train_start (Lightning's ``FitLoop.reset``)."""
    restart = fit_loop.restart
    if restart is None:
        return
    if restart.stage == "resumed_on_epoch_end":
        fit_loop.epochs_completed += 1
    if restart.batch_stage == "on_train_batch_end" and restart.stage == "mid_epoch" and (
        restart.is_last_batch
    ):  # saved at the epoch's last batch: that epoch counts as done
        fit_loop.epochs_processed += 1
        fit_loop.epochs_completed += 1
    if fit_loop.max_steps == -1:  # epoch-based training resumes at the processed epoch
        fit_loop.epochs_completed = fit_loop.epochs_processed


def begin_epoch(fit_loop):
    """Count a new epoch as started; False when the epoch is one a checkpoint restarts inside."""
    if fit_loop.restart is not None and fit_loop.restart.continues_epoch:
        return False
    fit_loop.epochs_started += 1
    fit_loop.epoch_start_steps = fit_loop.optimizer_steps
    return True


def continue_epoch(fit_loop):
    """Set the epoch's batch counters: zero, or where a restored checkpoint left them."""
    restart = fit_loop.restart
    fit_loop.batches_ready, fit_loop.is_last_batch = 0, False
    if restart is None or not restart.restarting:
        fit_loop.batches_completed = 0
        return
    fit_loop.batches_ready, fit_loop.is_last_batch = restart.batches_ready, restart.is_last_batch
    completed = restart.batches_completed
    if not fit_loop.should_accumulate() and restart.batch_stage != "on_last":
        fit_loop.batches_that_stepped += 1  # the saved batch stepped after the checkpoint
    if restart.batch_stage == "on_train_batch_end":
        completed += 1
        if completed >= fit_loop.trainer.num_training_batches:  # it was the epoch's last one
            completed, fit_loop.is_last_batch = 0, False
    fit_loop.batches_ready = fit_loop.batches_completed = completed
    _warn_if_not_resumable(fit_loop)
    if fit_loop.fetcher.length is not None:  # the fresh iterator counts on from there
        fit_loop.fetcher.fetched = completed


def first_iteration(fit_loop):
    """How a restarted epoch's first iteration goes: "batch" (it trains one even when the epoch's
    batches are done), "no batch" (validation was due at the saved batch: it ran before the
    checkpoint, and the iteration only closes the batch), or None (not restarting)."""
    if not fit_loop.restarting:
        return None
    if fit_loop.restart.batch_stage == "on_last" and fit_loop._should_check_val():
        return "no batch"
    return "batch"


def _warn_if_not_resumable(fit_loop):
    if fit_loop.max_batches == math.inf or _resumable(fit_loop.loader):
        return
    accumulate = fit_loop.trainer.accumulate_grad_batches
    steps_per_epoch = math.ceil(fit_loop.max_batches / accumulate)
    if fit_loop.optimizer_steps % steps_per_epoch != 0:
        warnings.warn(MID_EPOCH_WARNING, stacklevel=4)


def _resumable(loader):
    return hasattr(loader, "state_dict") and hasattr(loader, "load_state_dict")
