"""What every target presents to the clauses: one small Protocol and its run record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from packaging.version import Version

if TYPE_CHECKING:  # the recorder imports torch: a run's record needs it, this module does not
    from lightning_conformance.adapters.trace import Trace

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
    """An implementation of the Lightning training contract under test.

    Optional attributes: ``deviations_path``, a TOML file of known deviations (default:
    adapters/deviations/<name>.toml), and ``spec``, how another process (a DDP rank) loads
    the same target (``load_target`` sets it to the spec it was given).
    """

    name: str
    version: Version  # the target's own version
    contract: Version  # the contract version it is checked against by default
    capabilities: frozenset[str]
    # The namespace with PL_NAMES. Its classes are the target's own: no static type is common
    # to the reference's and Lightning's, so clauses reach them dynamically.
    pl: Any

    def trainer_settings(self, root_dir: str) -> dict[str, Any]:
        """Neutral Trainer keyword arguments: CPU, one device, no logger, no extras."""
        ...

    def run(self, verb: str, module: Any, *, root_dir: str, datamodule: Any = None,
            callbacks: Sequence[Any] = (), ckpt_path: str | None = None,
            **trainer_kwargs: Any) -> Run:
        """Run ``fit``/``validate``/``test``/``predict`` and return the recorded run."""
        ...


@dataclass
class Run:
    """The outcome of one stage on one target: the hook trace, the trainer and the result."""

    trace: Trace
    trainer: Any  # the target's Trainer, after the stage
    module: Any  # the LightningModule the stage ran on
    result: Any = None  # what the verb returned: None (fit), metric dicts or predictions
    callbacks: list[Any] = field(default_factory=list)
