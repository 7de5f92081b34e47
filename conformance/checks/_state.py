"""Snapshots of a module's tensors and bit-for-bit comparison of two snapshots (NaN equals NaN)."""

from __future__ import annotations

import contextlib
import logging
import random
import warnings

import torch

__all__ = ["differing", "modes", "quiet", "reseed", "same_numbers", "shorten", "snapshot",
           "trainable"]

# Lightning's loggers: their INFO lines ("GPU available: ...") would drown the check's report.
_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric",
            "pytorch_lightning")


def snapshot(module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the module's state_dict (parameters and persistent buffers)."""
    return {name: value.detach().to("cpu", copy=True)
            for name, value in module.state_dict().items() if isinstance(value, torch.Tensor)}


def trainable(module) -> dict[str, torch.nn.Parameter]:
    return {name: p for name, p in module.named_parameters() if p.requires_grad}


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def differing(before: dict, after: dict) -> list[str]:
    """Names whose tensors differ, or that only one snapshot has."""
    names = sorted(set(before) | set(after))
    return [name for name in names
            if name not in before or name not in after or not _same(before[name], after[name])]


def same_numbers(a: list, b: list) -> bool:
    """Two lists of floats are equal, NaN equal to NaN."""
    if len(a) != len(b):
        return False
    return all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))


def shorten(names: list[str], limit: int = 8) -> str:
    """``a, b, c and 5 more``: a list of names for a one-line message."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def modes(module) -> dict[str, bool]:
    """The training flag of every submodule, by name ("" is the module itself)."""
    return {name: sub.training for name, sub in module.named_modules()}


def reseed(seed: int) -> None:
    """Seed every global random generator a module commonly draws from."""
    random.seed(seed)
    torch.manual_seed(seed)
    with contextlib.suppress(ImportError):
        import numpy

        numpy.random.seed(seed % 2**32)


@contextlib.contextmanager
def quiet():
    """Silence Lightning's info logs and warnings while the checks run the module."""
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
