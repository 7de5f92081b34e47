"""Finishing an epoch that a restored checkpoint interrupted (Lightning 2.5+ restart rules).

A checkpoint written inside an epoch (``every_n_train_steps``, or at validation end) is resumed
in that epoch: ``on_train_epoch_start`` is not called again, batch indices continue after the
batches the checkpoint counted, and a fresh iterator supplies the remaining batches (Lightning
does not fast-forward a dataloader that has no ``state_dict``; it warns instead).
"""

import math
import warnings

__all__ = ["MID_EPOCH_WARNING", "begin_epoch", "continue_epoch"]

MID_EPOCH_WARNING = (
    "You're resuming from a checkpoint that ended before the epoch ended and your dataloader is"
    " not resumable. This can cause unreliable results if further training is done. Consider"
    " using an end-of-epoch checkpoint or make your dataloader resumable by implementing the"
    " `state_dict` / `load_state_dict` interface."
)


def begin_epoch(fit_loop):
    """Count a new epoch as started; False when the epoch is one a checkpoint resumes inside."""
    if fit_loop.restart_batches is not None:
        return False
    fit_loop.epochs_started += 1
    fit_loop.epoch_start_steps = fit_loop.optimizer_steps
    return True


def continue_epoch(fit_loop):
    """The number of batches this epoch starts after (0 unless resuming inside it)."""
    done, fit_loop.restart_batches = fit_loop.restart_batches, None
    if done is None:
        return 0
    if fit_loop.max_batches != math.inf and not _resumable(fit_loop.loader):
        accumulate = fit_loop.trainer.accumulate_grad_batches
        steps_per_epoch = math.ceil(fit_loop.max_batches / accumulate)
        if fit_loop.optimizer_steps % steps_per_epoch != 0:
            warnings.warn(MID_EPOCH_WARNING, stacklevel=3)
    fetcher = fit_loop.fetcher
    if fetcher.length is not None:  # the fresh iterator ends after the remaining batches
        fetcher.fetched = done
        fetcher.done = done >= fetcher.length
    return done


def _resumable(loader):
    return hasattr(loader, "state_dict") and hasattr(loader, "load_state_dict")
