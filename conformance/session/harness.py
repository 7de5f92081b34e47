"""What a clause holds as its ``target`` fixture: one adapter, one temp dir, one contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning_conformance.clauses import _models
from lightning_conformance.clauses._memory_logger import build_logger
from lightning_conformance.spec.contract import Contract

__all__ = ["Harness"]


@dataclass
class Harness:
    """A target bound to one clause's temporary directory and contract."""

    adapter: Any
    root: Path
    contract: Contract

    @property
    def pl(self):
        return self.adapter.pl

    @property
    def name(self) -> str:
        return self.adapter.name

    def module(self, **features):
        return _models.build_module(self.pl, **features)

    def callback(self, **features):
        return _models.build_callback(self.pl, **features)

    def checkpoint_callback(self, **kwargs):
        return _models.build_checkpoint_callback(self.pl, self.root / "checkpoints", **kwargs)

    def datamodule(self, **features):
        return _models.build_datamodule(self.pl, **features)

    def logger(self):
        """The kit's in-memory logger for this target (pass it as ``logger=``)."""
        return build_logger(self.pl)

    def distributed(self, scenario: str):
        """Records of every rank of a multi-process scenario (see ``ddp.phases``)."""
        from lightning_conformance.ddp.phases import run_scenario

        return run_scenario(self.adapter, scenario)

    def fit(self, module, **kwargs):
        return self.adapter.run("fit", module, root_dir=str(self.root), **kwargs)

    def validate(self, module, **kwargs):
        return self.adapter.run("validate", module, root_dir=str(self.root), **kwargs)

    def test(self, module, **kwargs):
        return self.adapter.run("test", module, root_dir=str(self.root), **kwargs)

    def predict(self, module, **kwargs):
        return self.adapter.run("predict", module, root_dir=str(self.root), **kwargs)
