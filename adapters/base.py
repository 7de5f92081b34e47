"""What every target presents to the clauses: one small Protocol and its run record."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, runtime_checkable

from packaging.version import Version

__all__ = ["CAPABILITIES", "PL_NAMES", "Run", "Target", "kit_version"]


def kit_version() -> str:
    """The installed lightning-conformance's version (the reference target's too)."""
    try:
        return version("lightning-conformance")
    except PackageNotFoundError:  # running from a source checkout
        return "0+unknown"

# What a clause may require with @requires(...). A target lists those it implements.
CAPABILITIES = frozenset(
    {"hooks", "logging", "optimizers", "checkpoint", "manual_optimization", "ddp", "ddp_fork",
     "cuda", "devices"}
)

# The names every target's ``pl`` namespace provides (the ``xp`` of this kit).
PL_NAMES = (
    "LightningModule",
    "LightningDataModule",
    "Callback",
    "Trainer",
    "Logger",
    "Checkpoint",
    "ModelCheckpoint",
    "MisconfigurationException",
    "seed_everything",
    "rank_zero_only",
    "rank_zero_warn",
)


@runtime_checkable
class Target(Protocol):
    """An implementation of the Lightning training contract under test."""

    name: str
    version: Version  # the target's own version
    contract: Version  # the contract version it is checked against by default
    capabilities: frozenset[str]
    pl: Any  # namespace with PL_NAMES
    # Optional: ``deviations_path``, a TOML file of known deviations (default:
    # adapters/deviations/<name>.toml).

    def trainer_settings(self, root_dir: str) -> dict:
        """Neutral Trainer keyword arguments: CPU, one device, no logger, no extras."""

    def run(self, verb: str, module, *, root_dir: str, datamodule=None, callbacks=(),
            **trainer_kwargs) -> Run:
        """Run ``fit``/``validate``/``test``/``predict`` and return the recorded run."""


@dataclass
class Run:
    """The outcome of one stage on one target: the hook trace, the trainer and the result."""

    trace: Any
    trainer: Any
    module: Any
    result: Any = None
    callbacks: list = field(default_factory=list)
