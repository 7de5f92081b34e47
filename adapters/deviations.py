"""Known deviations: clauses a target does not meet on its own contract, kept as data.

Each target may have ``deviations/<name>.toml`` beside this file:

    [[deviation]]
    clause = "HOOK-012"
    versions = ">=2.0,<2.2"        # target versions the deviation is known for
    reason = "what the target does instead, in one sentence"
    evidence = "upstream issue, changelog entry or source line"

A matching clause is reported as ``xfailed``; an entry that names no registered clause,
or whose clause passes anyway, is reported as stale.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["DEVIATIONS_DIR", "Deviation", "load_deviations"]

DEVIATIONS_DIR = Path(__file__).parent / "deviations"


@dataclass(frozen=True)
class Deviation:
    clause: str
    versions: str
    reason: str
    evidence: str

    def matches(self, version: Version) -> bool:
        return version in SpecifierSet(self.versions, prereleases=True)


def load_deviations(target_name: str, path: Path | None = None) -> list[Deviation]:
    """The deviations listed for a target; an absent file means none."""
    path = path or DEVIATIONS_DIR / f"{target_name}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text())
    entries = []
    for number, entry in enumerate(data.get("deviation", []), start=1):
        missing = {"clause", "reason", "evidence"} - set(entry)
        if missing:
            raise ValueError(f"{path}: deviation #{number} lacks {sorted(missing)}")
        entries.append(Deviation(entry["clause"], entry.get("versions", ""),
                                 entry["reason"], entry["evidence"]))
    return entries
