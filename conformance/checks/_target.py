"""Which Lightning a user's module is checked on: the namespace its class derives from.

``target`` is ``"lightning"``, ``"pytorch_lightning"``, ``None`` (read the namespace from the
module's class) or, inside the kit's own clauses, a target adapter or harness with ``pl``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from packaging.version import Version

from lightning_conformance.checks._base import CheckInputError

__all__ = ["Namespace", "resolve"]

# The module a LightningModule's base class lives in -> the kit's target name.
_ROOTS = {"lightning.pytorch": "lightning", "pytorch_lightning": "pytorch_lightning",
          "reference": "reference"}
NAMES = ("lightning", "pytorch_lightning")


@dataclass(frozen=True)
class Namespace:
    """The Lightning a check runs on: its ``pl`` names, version and import root."""

    name: str
    pl: Any
    contract: Version
    root: str  # what a reproduction script imports Trainer from
    adapter: Any = None  # the kit's target adapter (the DDP ranks load it by its spec)

    @property
    def label(self) -> str:
        return f"{self.name} {self.contract}"


@functools.cache
def _adapter(name: str):
    from lightning_conformance.adapters import TargetError, load_target

    try:
        return load_target(name)
    except TargetError as error:
        raise CheckInputError(str(error)) from None


def _root_of(pl) -> str:
    module = pl.Trainer.__module__
    for root in _ROOTS:
        if module == root or module.startswith(root + "."):
            return root
    return module.split(".")[0]


def _from_adapter(adapter) -> Namespace:
    contract = adapter.contract
    return Namespace(adapter.name, adapter.pl, Version(str(contract)), _root_of(adapter.pl),
                     adapter)


def _derived_root(cls) -> str | None:
    for klass in cls.__mro__:
        if klass.__name__ != "LightningModule":
            continue
        for root in _ROOTS:
            if klass.__module__ == root or klass.__module__.startswith(root + "."):
                return root
    return None


def resolve(module_class: type, target) -> Namespace:
    """The namespace to check ``module_class`` on; CheckInputError when it cannot be."""
    if target is not None and not isinstance(target, str):
        adapter = getattr(target, "adapter", target)  # a Harness holds its adapter
        namespace = _from_adapter(adapter)
    else:
        root = _derived_root(module_class)
        if target is None and root is None:
            raise CheckInputError(
                f"{module_class.__qualname__} is not a LightningModule: derive it from "
                "lightning.pytorch.LightningModule or pytorch_lightning.LightningModule")
        if target is not None and target not in NAMES:
            raise CheckInputError(f"unknown target {target!r}: use one of {', '.join(NAMES)}")
        namespace = _from_adapter(_adapter(target or _ROOTS[root]))
    if not issubclass(module_class, namespace.pl.LightningModule):
        raise CheckInputError(
            f"{module_class.__qualname__} does not derive from {namespace.root}.LightningModule "
            f"(target {namespace.name}): import LightningModule from {namespace.root} or "
            "choose the matching --target")
    return namespace
