"""A small, strict, readable re-implementation of the Lightning 2.6 training contract.

It exists so that the conformance suite has an implementation it can read and mutate, and so that
anyone
writing a Lightning-compatible trainer has a reference to compare with. It is not meant for end
users.
It imports nothing from Lightning: only torch. Features it lacks raise
``errors.UnsupportedByReference``
and are listed in ``KNOWN_GAPS.txt``.
"""

from . import callbacks
from .callback import Callback
from .callbacks import Checkpoint, ModelCheckpoint
from .datamodule import LightningDataModule
from .errors import MisconfigurationException
from .loggers import Logger
from .module import LightningModule
from .rank_zero import rank_zero_only, rank_zero_warn
from .seed import seed_everything
from .trainer import Trainer

__all__ = [
    "Callback",
    "Checkpoint",
    "LightningDataModule",
    "LightningModule",
    "Logger",
    "MisconfigurationException",
    "ModelCheckpoint",
    "Trainer",
    "callbacks",
    "rank_zero_only",
    "rank_zero_warn",
    "seed_everything",
]
