"""Rank-zero utilities: run a function, or emit a warning, on global rank 0 only.

The rank is known before any process group exists: it is read from the launcher's
environment (``RANK``, then ``LOCAL_RANK``, as torchrun sets them) and updated by the
distributed strategy once it has set up.
"""

import os
import warnings
from functools import wraps

__all__ = ["PossibleUserWarning", "rank_zero_only", "rank_zero_warn", "rank_zero_warn_once"]


def _rank_from_environment() -> int:
    for name in ("RANK", "LOCAL_RANK"):
        if name in os.environ:
            return int(os.environ[name])
    return 0


def rank_zero_only(fn, default=None):
    """``fn`` runs on global rank 0 only; every other rank gets ``default``."""

    @wraps(fn)
    def wrapped(*args, **kwargs):
        if rank_zero_only.rank == 0:
            return fn(*args, **kwargs)
        return default

    return wrapped


rank_zero_only.rank = _rank_from_environment()


def rank_zero_warn(message, stacklevel=4, category=UserWarning, **kwargs):
    """``warnings.warn`` on global rank 0 only."""
    if rank_zero_only.rank == 0:
        warnings.warn(message, category, stacklevel=stacklevel, **kwargs)


class PossibleUserWarning(UserWarning):
    """A warning about code that is probably, not certainly, a mistake (Lightning's class)."""


_WARNED = set()  # messages already warned in this process (Lightning's WarningCache)


def rank_zero_warn_once(message, category=UserWarning, stacklevel=5):
    """``rank_zero_warn``, once per message in this process."""
    if message not in _WARNED:
        _WARNED.add(message)
        rank_zero_warn(message, stacklevel=stacklevel, category=category)
