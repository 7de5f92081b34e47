"""The Lightning releases the kit is checked against: the one list, kept here.

noxfile.py loads this file by its path (it imports nothing beyond the standard library, so
nox lists its sessions without torch or Lightning); the kit imports it as
``conformance.versions``. To check another release, add one line to MATRIX.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["LATEST", "MATRIX", "Release"]

# Lightning 1.9.5 and 2.0-2.3 import pkg_resources, which setuptools 81 removed (and the
# torch 2.13 wheel brings setuptools 84).
_PKG_RESOURCES = ("setuptools<81",)


class Release(NamedTuple):
    """One Lightning release: the target that checks it and its exact version."""

    # The target name is also the distribution on PyPI that pip installs (`lightning`,
    # `pytorch_lightning`); its namespace is the one the target of that name imports.
    target: str
    version: str
    # what this release needs beside its own requirements to import over a recent torch
    extra_requirements: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """``lightning-2.4.0``: the nox session's id and the report folder's name."""
        return f"{self.target}-{self.version}"

    @property
    def requirements(self) -> list[str]:
        """The pip requirements that install exactly this release."""
        return [f"{self.target}=={self.version}", *self.extra_requirements]


MATRIX = (
    Release("pytorch_lightning", "1.9.5", _PKG_RESOURCES),
    Release("lightning", "2.0.9.post0", _PKG_RESOURCES),
    Release("lightning", "2.1.4", _PKG_RESOURCES),
    Release("lightning", "2.2.5", _PKG_RESOURCES),
    Release("lightning", "2.3.3", _PKG_RESOURCES),
    Release("lightning", "2.4.0"),
    Release("lightning", "2.5.6"),
    Release("lightning", "2.6.6"),
    Release("pytorch_lightning", "2.6.6"),
)

# the release the kit is developed on: the `tests`, `check`, `examples` and `gpu` sessions
LATEST = Release("lightning", "2.6.6")
