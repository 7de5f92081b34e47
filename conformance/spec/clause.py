"""The clause registry: ``@clause`` gives a conformance test its permanent ID and sentence.

A MOD clause is declared by its check instead (``checks._base.check``), which calls ``register``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from lightning_conformance.spec.contract import CHANGES

__all__ = ["AREAS", "REGISTRY", "Clause", "ClauseError", "clause", "register", "requires"]

AREAS = ("HOOK", "LOG", "OPT", "CKPT", "MAN", "DDP", "DEV", "MOD")
_ID = re.compile(r"^(?P<area>[A-Z]+)-(?P<number>\d{3})$")
MAX_SENTENCE = 100


class ClauseError(ValueError):
    """A clause declaration breaks the registry's rules."""


@dataclass(frozen=True)
class Clause:
    """One testable sentence of the Lightning contract."""

    id: str
    sentence: str
    source: str
    versions: str = ""
    changes: tuple[str, ...] = ()
    test: str = field(default="", compare=False)

    def __post_init__(self):
        _validate(self.id, self.sentence, self.source, self.versions, self.changes)

    @property
    def area(self) -> str:
        return self.id.split("-", 1)[0]

    def applies_to(self, contract: Version) -> bool:
        """Whether the clause holds for this contract version at all."""
        return contract in SpecifierSet(self.versions, prereleases=True)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "area": self.area,
            "sentence": self.sentence,
            "source": self.source,
            "versions": self.versions or "any",
            "changes": list(self.changes),
            "test": self.test,
        }


REGISTRY: dict[str, Clause] = {}
# clause ID -> where it is declared ("module::function"): a second place is an error
_DECLARED: dict[str, str] = {}


def _validate(id: str, sentence: str, source: str, versions: str, changes: tuple) -> None:
    match = _ID.match(id)
    if not match or match["area"] not in AREAS:
        raise ClauseError(f"clause ID {id!r} must look like AREA-NNN with AREA in {AREAS}")
    if not sentence or len(sentence) > MAX_SENTENCE:
        raise ClauseError(f"{id}: the sentence must have 1 to {MAX_SENTENCE} characters")
    if not source:
        raise ClauseError(f"{id}: a clause needs a source (Lightning doc, test or source file)")
    SpecifierSet(versions)  # raises InvalidSpecifier for a malformed range
    unknown = set(changes) - set(CHANGES)
    if unknown:
        raise ClauseError(f"{id}: unknown behaviour changes {sorted(unknown)}")


def register(entry: Clause, where: str) -> Clause:
    """Add ``entry`` to the registry, declared at ``where`` (``module::function``).

    Declaring it again at the same place is allowed (a module imported again); at another
    place it is an error naming both.
    """
    known = _DECLARED.get(entry.id)
    if known is not None and known != where:
        raise ClauseError(f"clause ID {entry.id} is used by {known} and {where}")
    _DECLARED[entry.id] = where
    REGISTRY[entry.id] = entry
    return entry


def clause(id: str, sentence: str, *, source: str, versions: str = "", changes=()):
    """Register a conformance test as the clause ``id``.

    Args:
        id: permanent ``AREA-NNN`` identifier, never renumbered or reused.
        sentence: the contract in one sentence of at most 100 characters.
        source: the Lightning test, source file or doc page that shows the behaviour.
        versions: PEP 440 range of contract versions the clause holds for ("" = all).
        changes: names from ``spec.contract.CHANGES`` the expectation depends on.
    """
    declared = Clause(id, sentence, source, versions, tuple(changes))  # validates now

    def decorate(test):
        qualname = f"{test.__module__}::{test.__name__}"
        register(replace(declared, test=qualname), qualname)
        test.__doc__ = sentence
        return pytest.mark.clause(id)(test)

    return decorate


def requires(*capabilities: str):
    """Skip the clause on targets that lack one of these capabilities (with the reason)."""
    return pytest.mark.requires(*capabilities)
