"""Upgrade a checkpoint written by Lightning 1.9 to the 2.x layout before it is restored.

Lightning 2.0 removed the batch loop (truncated backprop) and the optimizer loop (several
optimizers in automatic optimization), so the fit loop's progress moved to new keys:

    epoch_loop.batch_loop.optimizer_loop.*  ->  epoch_loop.automatic_optimization.*
    epoch_loop.batch_loop.manual_loop.*     ->  epoch_loop.manual_optimization.*

Everything else the reference reads (weights, hparams, counters, optimizer and scheduler states)
kept its place. Files from releases before 1.9 need Lightning's older migrations too: the
reference refuses to resume them (KNOWN_GAPS.txt).
"""

from .errors import unsupported

__all__ = ["migrate_checkpoint"]

VERSION_KEY = "pytorch-lightning_version"
# old fit-loop key prefix -> its 2.x name
_RENAMED = {
    "epoch_loop.batch_loop.optimizer_loop.": "epoch_loop.automatic_optimization.",
    "epoch_loop.batch_loop.manual_loop.": "epoch_loop.manual_optimization.",
}


def migrate_checkpoint(checkpoint):
    """The checkpoint with a 1.9 fit-loop layout renamed in place; 2.x files pass unchanged."""
    release = _release(checkpoint.get(VERSION_KEY, "2.0.0"))
    if release >= (2, 0):
        return checkpoint
    if release < (1, 9):
        why = "only checkpoints of Lightning 1.9 and 2.x are migrated"
        raise unsupported(f"Resuming a checkpoint of Lightning {checkpoint[VERSION_KEY]}", why)
    fit_loop = checkpoint.get("loops", {}).get("fit_loop")
    if fit_loop is not None:
        checkpoint["loops"]["fit_loop"] = {_renamed(key): value for key, value in fit_loop.items()}
        progress = fit_loop.get("epoch_loop.batch_loop.optimizer_loop.optim_progress", {})
        progress.pop("optimizer_position", None)  # one optimizer: no position to resume at
    return checkpoint


def _renamed(key):
    for old, new in _RENAMED.items():
        if key.startswith(old):
            return new + key[len(old):]
    return key


def _release(version):
    """``"1.9.5"`` -> ``(1, 9)``: the major and minor release numbers."""
    major, minor = version.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)
