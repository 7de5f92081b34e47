"""``lightning-conformance diff V W``: what changes in the contract between two versions.

Computed from the clause registry alone (nothing is run): a clause differs between V and W
when its ``versions`` range holds for one and not the other, or when a behaviour change it
declares (``changes=``) arrived between them. Each difference states both expectations in
words, from the clause sentence and the change's ``before``/``after`` texts.

A version outside the kit's version matrix (``spec/versions.py``) still gets an answer, the one
its clauses give (a range such as ``>=2.1`` holds for 3.0 too), but nothing has checked that
Lightning against them: ``matrix_warning`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from lightning_conformance.spec.clause import Clause
from lightning_conformance.spec.contract import CHANGES
from lightning_conformance.spec.versions import MATRIX

__all__ = ["Difference", "differences", "matrix_warning", "render"]


@dataclass(frozen=True)
class Difference:
    """One clause whose expectation under ``old`` is not its expectation under ``new``."""

    clause: Clause
    kind: str  # "added", "removed" or "changed"
    old: str  # the expectation under the old version, in words
    new: str  # the expectation under the new version, in words
    change: str = ""  # the name of the behaviour change, for kind "changed"

    def as_dict(self) -> dict:
        return {"id": self.clause.id, "sentence": self.clause.sentence, "kind": self.kind,
                "old": self.old, "new": self.new, "change": self.change,
                "evidence": CHANGES[self.change].evidence if self.change else self.clause.source}


def differences(registry: dict[str, Clause], old: Version, new: Version) -> list[Difference]:
    """Every clause whose expectation differs between contract ``old`` and ``new``, by ID."""
    found: list[Difference] = []
    for clause in sorted(registry.values(), key=lambda c: c.id):
        in_old, in_new = clause.applies_to(old), clause.applies_to(new)
        if in_old != in_new:
            found.append(_range_difference(clause, in_old, old, new))
        elif in_old:
            found += [_change_difference(clause, name, old, new) for name in clause.changes
                      if _has(name, old) != _has(name, new)]
    return found


def _has(change: str, version: Version) -> bool:
    return version >= CHANGES[change].since_version


def _range_difference(clause, in_old, old, new) -> Difference:
    absent = "not part of the {version} contract (the clause holds for Lightning {range})"
    if in_old:
        return Difference(clause, "removed", clause.sentence,
                          absent.format(version=new, range=clause.versions))
    return Difference(clause, "added", absent.format(version=old, range=clause.versions),
                      clause.sentence)


def _change_difference(clause, name, old, new) -> Difference:
    change = CHANGES[name]
    before, after = change.before, change.after
    if _has(name, old):  # a downgrade: the old version already has the change
        before, after = after, before
    return Difference(clause, "changed", before, after, name)


def render(found: list[Difference], old: Version, new: Version) -> list[str]:
    """The terminal form: one block per difference, then a count."""
    lines = []
    for difference in found:
        clause = difference.clause
        lines.append(f"{clause.id:<9} {difference.kind:<8} {clause.sentence}")
        if difference.change:
            lines += _change_lines(CHANGES[difference.change], downgrade=old > new)
        else:
            lines.append(f"  {old}: {difference.old}")
            lines.append(f"  {new}: {difference.new}")
    clauses = len({d.clause.id for d in found})
    lines.append(f"{clauses} clause(s) differ between the {old} and {new} contracts")
    return lines


def _change_lines(change, downgrade: bool) -> list[str]:
    """Both sides of one change, labelled by its release: a clause with several changes in
    the interval then reads as a sequence, not as two contradictory "V:" lines."""
    sides = [f"  before {change.since}: {change.before}", f"  from {change.since}: {change.after}"]
    if downgrade:
        sides.reverse()
    return [*sides, f"  change {change.name}: {change.evidence}"]


def matrix_warning(*versions: Version) -> str:
    """Why the diff of ``versions`` is unchecked, when one of their release series (major.minor)
    is not in the kit's version matrix; "" when all are."""
    known = sorted({Version(release.version).release[:2] for release in MATRIX})
    outside = [str(v) for v in versions if v.release[:2] not in known]
    if not outside:
        return ""
    return (f"{' and '.join(outside)} {'is' if len(outside) == 1 else 'are'} outside the "
            f"Lightning versions the kit knows ({_series(known)}): the clauses answer for "
            f"{'it' if len(outside) == 1 else 'them'}, unchecked")


def _series(known: list[tuple[int, ...]]) -> str:
    """``1.9, 2.0-2.6``: release series, consecutive minors of a major as a range."""
    runs: list[list[tuple[int, ...]]] = []  # [first, last] of each run of consecutive minors
    for series in known:
        if runs and runs[-1][1] == (series[0], series[1] - 1):
            runs[-1][1] = series
        else:
            runs.append([series, series])
    dotted = [".".join(map(str, first)) + ("" if first == last else
                                           "-" + ".".join(map(str, last))) for first, last in runs]
    return ", ".join(dotted)
