"""Contract versions and the named behaviour changes that make clauses vary by version.

A clause whose expectation differs between Lightning versions declares the changes it
depends on (``@clause(..., changes=("run_stage_zero_grad",))``). Its test asks the
``contract`` fixture ``contract.has("run_stage_zero_grad")`` instead of comparing versions,
so every version difference lives in one table (``changes.CHANGES``), with its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from lightning_conformance.spec.changes import CHANGES, Change

__all__ = ["CHANGES", "Change", "Contract", "UndeclaredChangeError", "parse_version"]


class UndeclaredChangeError(KeyError):
    """A clause asked about a behaviour change it did not declare."""


@dataclass(frozen=True)
class Contract:
    """The contract of one Lightning version, as seen by one clause."""

    version: Version
    declared: frozenset[str] = frozenset(CHANGES)

    def has(self, change: str) -> bool:
        """Whether this contract version includes the named behaviour change."""
        if change not in CHANGES:
            raise UndeclaredChangeError(f"unknown behaviour change {change!r}")
        if change not in self.declared:
            raise UndeclaredChangeError(
                f"the clause asks about {change!r} but does not list it in changes=(...)"
            )
        return self.version >= CHANGES[change].since_version

    def restricted(self, changes: frozenset[str]) -> Contract:
        return Contract(self.version, changes)


def parse_version(text: str, *, where: str) -> Version:
    """Parse a Lightning version such as ``2.6`` or ``2.0.9.post0``; name the source on error."""
    try:
        return Version(text)
    except Exception:
        raise ValueError(f"Invalid contract version {text!r} from {where}") from None
