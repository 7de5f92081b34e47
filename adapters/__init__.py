"""Targets: how the kit finds, imports and describes each implementation under test.

A target is chosen by name (``reference``, ``lightning``, ``pytorch_lightning``, or any
name registered in the ``lightning_conformance.targets`` entry-point group) or by a
``module:factory`` spec whose factory takes no arguments and returns a ``Target``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from lightning_conformance.adapters.base import CAPABILITIES, PL_NAMES, Run, Target
from lightning_conformance.adapters.deviations import Deviation, load_deviations

__all__ = [
    "BUILTIN_TARGETS",
    "CAPABILITIES",
    "Deviation",
    "ENTRY_POINT_GROUP",
    "LOADED",
    "PL_NAMES",
    "Run",
    "Target",
    "TargetError",
    "installed_targets",
    "load_deviations",
    "load_target",
]

ENTRY_POINT_GROUP = "lightning_conformance.targets"

# spec -> every target this process has loaded (a DDP rank looks classes up among them)
LOADED: dict[str, Target] = {}

# name -> (factory spec, module whose presence means the target is installed)
BUILTIN_TARGETS = {
    "reference": ("lightning_conformance.adapters.reference:ReferenceTarget",
                  "lightning_conformance.reference"),
    "lightning": ("lightning_conformance.adapters.lightning:lightning_target", "lightning"),
    "pytorch_lightning": ("lightning_conformance.adapters.lightning:pytorch_lightning_target",
                          "pytorch_lightning"),
}


class TargetError(Exception):
    """A target could not be found, imported or used; the message says how to fix it."""


def installed_targets() -> list[str]:
    """Built-in targets whose package is installed, plus registered entry points."""
    names = [
        name
        for name, (_, module) in BUILTIN_TARGETS.items()
        if importlib.util.find_spec(module) is not None
    ]
    names += [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in names]
    return names


def load_target(spec: str) -> Target:
    """Import and build the target named by ``spec``; raise TargetError with a fix hint."""
    factory = _resolve_factory(spec)
    try:
        target = factory()
    except ImportError as error:
        raise TargetError(
            f"target {spec!r} could not be imported: {error}. Install it in this environment "
            f"(for example `pip install {spec}`) or choose another --target."
        ) from None
    except Exception as error:  # a user's factory may fail in any way: report it in one line
        raise TargetError(
            f"target {spec!r} failed to build: {type(error).__name__}: {error}"
        ) from None
    missing = [attr for attr in ("name", "version", "contract", "capabilities", "pl", "run")
               if not hasattr(target, attr)]
    if missing:
        raise TargetError(f"target {spec!r} does not satisfy the Target protocol: "
                          f"missing {', '.join(missing)} (see adapters/base.py)")
    if not hasattr(target, "spec"):  # how other processes (DDP ranks) load the same target
        target.spec = spec
    LOADED[spec] = target
    absent = [name for name in PL_NAMES if not hasattr(target.pl, name)]
    if absent:
        raise TargetError(f"target {spec!r}: its pl namespace lacks {', '.join(absent)}")
    return target


def _resolve_factory(spec: str) -> Callable[[], Any]:
    if spec in BUILTIN_TARGETS:
        return _import_factory(BUILTIN_TARGETS[spec][0], spec)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == spec:
            return _import_factory(entry.value, spec)
    if ":" in spec:
        return _import_factory(spec, spec)
    known = ", ".join(sorted(set(BUILTIN_TARGETS) | set(installed_targets())))
    raise TargetError(
        f"unknown target {spec!r}: use one of {known}, a name registered in the "
        f"{ENTRY_POINT_GROUP!r} entry-point group, or 'package.module:factory'."
    )


def _import_factory(path: str, spec: str) -> Callable[[], Any]:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TargetError(
            f"target {spec!r} could not be imported: {error}. Check that {module_name!r} "
            f"is installed and importable."
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise TargetError(f"target {spec!r}: module {module_name!r} has no {attr!r}") from None
