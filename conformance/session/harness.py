"""What a clause holds as its ``target`` fixture: one Target, one temp dir, one contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightning_conformance.adapters import Run, Target
from lightning_conformance.clauses import _models
from lightning_conformance.clauses._memory_logger import build_logger
from lightning_conformance.spec.contract import Contract

if TYPE_CHECKING:
    from lightning_conformance.ddp.launch import DistributedRun

__all__ = ["Harness"]


@dataclass
class Harness:
    """A target bound to one clause's temporary directory and contract."""

    adapter: Target
    root: Path
    contract: Contract

    @property
    def pl(self) -> Any:
        return self.adapter.pl

    @property
    def name(self) -> str:
        return self.adapter.name

    def module(self, **features: Any) -> Any:
        return _models.build_module(self.pl, **features)

    def callback(self, **features: Any) -> Any:
        return _models.build_callback(self.pl, **features)

    def checkpoint_callback(self, **kwargs: Any) -> Any:
        return _models.build_checkpoint_callback(self.pl, self.root / "checkpoints", **kwargs)

    def datamodule(self, **features: Any) -> Any:
        return _models.build_datamodule(self.pl, **features)

    def logger(self) -> Any:
        """The kit's in-memory logger for this target (pass it as ``logger=``)."""
        return build_logger(self.pl)

    def distributed(self, scenario: str) -> DistributedRun:
        """Records of every rank of a multi-process scenario (see ``ddp.phases``)."""
        from lightning_conformance.ddp.phases import run_scenario

        return run_scenario(self.adapter, scenario)

    def fit(self, module: Any, **kwargs: Any) -> Run:
        return self.adapter.run("fit", module, root_dir=str(self.root), **kwargs)

    def validate(self, module: Any, **kwargs: Any) -> Run:
        return self.adapter.run("validate", module, root_dir=str(self.root), **kwargs)

    def test(self, module: Any, **kwargs: Any) -> Run:
        return self.adapter.run("test", module, root_dir=str(self.root), **kwargs)

    def predict(self, module: Any, **kwargs: Any) -> Run:
        return self.adapter.run("predict", module, root_dir=str(self.root), **kwargs)
