"""Which Lightning a user's module is checked on: a target, named or loaded.

A check runs on ``"lightning"`` or ``"pytorch_lightning"`` (loaded by name), or, inside the
kit's own clauses, on a loaded ``Target``. With no target given, it runs on the target whose
LightningModule the module's class derives from (``derived_target``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from packaging.version import Version

from lightning_conformance.adapters import Target, TargetError, load_target
from lightning_conformance.checks._base import CheckInputError

__all__ = ["NAMES", "Namespace", "derived_target", "resolve"]

# The module a LightningModule's base class lives in -> the kit's target name.
_ROOTS = {"lightning.pytorch": "lightning", "pytorch_lightning": "pytorch_lightning",
          "lightning_conformance.reference": "reference"}
NAMES = ("lightning", "pytorch_lightning")  # the targets a user's module is checked on by name


@dataclass(frozen=True)
class Namespace:
    """The Lightning a check runs on: its ``pl`` names, version and import root."""

    name: str
    pl: Any  # the target's namespace (see Target.pl)
    contract: Version
    root: str  # what a reproduction script imports Trainer from
    adapter: Target  # the DDP ranks load it by its spec

    @property
    def label(self) -> str:
        return f"{self.name} {self.contract}"


@functools.cache
def _load(name: str) -> Target:
    try:
        return load_target(name)
    except TargetError as error:
        raise CheckInputError(str(error)) from None


def _root_of(pl: Any) -> str:
    module = pl.Trainer.__module__
    for root in _ROOTS:
        if module == root or module.startswith(root + "."):
            return root
    return module.split(".")[0]


def _from_target(target: Target) -> Namespace:
    return Namespace(target.name, target.pl, Version(str(target.contract)), _root_of(target.pl),
                     target)


def _derived_root(cls: type) -> str | None:
    for klass in cls.__mro__:
        if klass.__name__ != "LightningModule":
            continue
        for root in _ROOTS:
            if klass.__module__ == root or klass.__module__.startswith(root + "."):
                return root
    return None


def derived_target(module_class: type) -> Target:
    """The target whose LightningModule ``module_class`` derives from."""
    root = _derived_root(module_class)
    if root is None:
        raise CheckInputError(
            f"{module_class.__qualname__} is not a LightningModule: derive it from "
            "lightning.pytorch.LightningModule or pytorch_lightning.LightningModule")
    return _load(_ROOTS[root])


def resolve(module_class: type, target: str | Target) -> Namespace:
    """The namespace to check ``module_class`` on: a target name of ``NAMES`` or a loaded
    ``Target``; CheckInputError when it cannot be."""
    if isinstance(target, str):
        if target not in NAMES:
            raise CheckInputError(f"unknown target {target!r}: use one of {', '.join(NAMES)}")
        target = _load(target)
    namespace = _from_target(target)
    if not issubclass(module_class, namespace.pl.LightningModule):
        raise CheckInputError(
            f"{module_class.__qualname__} does not derive from {namespace.root}.LightningModule "
            f"(target {namespace.name}): import LightningModule from {namespace.root} or "
            "choose the matching --target")
    return namespace
