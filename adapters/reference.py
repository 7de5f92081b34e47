"""The kit's own reference trainer as a target."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

from packaging.version import Version

from lightning_conformance.adapters.base import PL_NAMES, Run, kit_version
from lightning_conformance.adapters.stage import cuda_capability, neutral_settings, run_stage

__all__ = ["REFERENCE_CONTRACT", "ReferenceTarget"]

# The Lightning release whose contract the reference implements.
REFERENCE_CONTRACT = Version("2.6.6")


class ReferenceTarget:
    """The reference trainer (``reference/``), or a mutated copy of it loaded as a package."""

    capabilities = frozenset(
        {"hooks", "logging", "manual_optimization", "optimizers", "checkpoint", "devices",
         "ddp", "ddp_fork"}
    )
    contract = REFERENCE_CONTRACT

    def __init__(self, package: str = "lightning_conformance.reference", name: str = "reference"):
        module = importlib.import_module(package)
        self.name = name
        # the reference places runs on cuda:0 (accelerator="cuda"), where torch sees a device
        self.capabilities = type(self).capabilities | cuda_capability()
        # The reference ships inside the kit, so its version is the kit's.
        self.version = Version(getattr(module, "__version__", None) or kit_version())
        self.pl = SimpleNamespace(**{attr: getattr(module, attr) for attr in PL_NAMES})

    def trainer_settings(self, root_dir: str) -> dict[str, Any]:
        return neutral_settings(root_dir)

    def run(self, verb: str, module: Any, **kwargs: Any) -> Run:
        return run_stage(self, verb, module, **kwargs)
