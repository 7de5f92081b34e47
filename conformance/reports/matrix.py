"""Gather JSON reports into one matrix: clause rows × subject columns.

A column is a target at one version, or a user's module (``check --json``) on a target: its
checks line up with the MOD rows of the targets. The renderings (``markdown``, ``html``,
``junit``) all read this model, so every one of them agrees on what a cell means. A cell is
one of ``KINDS``: ``variant`` is a pass under a declared behaviour change whose expectation
differs from the newest contract in the matrix (decided by ``spec.diff.differences``, like
``lightning-conformance diff``), so a reader sees at a glance which passes are passes of an
older contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from packaging.version import InvalidVersion, Version

from lightning_conformance.reports.model import SUBJECT_KINDS, Result, Subject
from lightning_conformance.reports.schema import Report, ReportError, may_be_report, read
from lightning_conformance.spec.clause import AREAS
from lightning_conformance.spec.contract import CHANGES
from lightning_conformance.spec.diff import Difference, differences

__all__ = [
    "KINDS",
    "Cell",
    "Column",
    "Matrix",
    "ReportError",
    "Row",
    "build_matrix",
    "column_of",
    "find_reports",
    "grouped",
    "load_matrix",
    "load_reports",
]

# Cell kinds, in the order legends and counts list them.
KINDS = ("passed", "variant", "warned", "failed", "skipped", "deviation", "stale", "missing")
# The status a report records -> the kind of its cell ("variant" is decided separately).
_KIND_OF_STATUS = {"passed": "passed", "failed": "failed", "error": "failed",
                   "skipped": "skipped", "xfailed": "deviation", "xpassed": "stale",
                   "warned": "warned"}


@dataclass(frozen=True)
class Column:
    """One report: a subject, checked against one contract version."""

    subject: Subject
    contract: str
    paths: tuple[Path, ...]
    created: str
    results: dict[str, Result] = field(repr=False)  # clause id -> its result
    interrupted: bool = False  # a report of it comes from a run a signal stopped

    @property
    def label(self) -> str:
        return self.subject.label

    @property
    def heading(self) -> tuple[str, str]:
        """The two lines of a column header: ``lightning``, ``2.6.6`` or ``LeNet``, ``module
        on lightning 2.6.6``."""
        if self.subject.kind == "module":
            runs_on = self.subject.runs_on
            return self.subject.name, f"module on {runs_on.label}" if runs_on else "module"
        return self.subject.name, str(self.subject.version)

    @property
    def names_contract(self) -> bool:
        """Whether the header must name the contract (it is not the version that ran)."""
        ran = self.subject.runs_on or self.subject
        return self.contract != ran.version

    @property
    def contract_version(self) -> Version:
        return _version(self.contract)

    @property
    def incomplete(self) -> str:
        """What every rendering says of an interrupted column ("" for a complete one)."""
        if not self.interrupted:
            return ""
        where = f" ({' '.join(map(str, self.paths))})" if self.paths else ""
        return (f"INCOMPLETE: {self.label} comes (in part) from a run that was interrupted "
                f"before all its clauses had run{where}")


@dataclass(frozen=True)
class Cell:
    """The outcome of one clause on one column, with the text that explains it."""

    kind: str
    status: str = ""  # the report's own status ("error" and "failed" are both kind failed)
    message: str = ""  # failure text, skip or deviation reason, or the variant's changes
    changes: tuple[str, ...] = ()  # for a variant: the changes whose older side it passed


@dataclass(frozen=True)
class Row:
    id: str
    area: str
    sentence: str
    cells: tuple[Cell, ...]


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[Row]
    # (older contract, newer contract, differences) for consecutive contracts of the matrix
    changes: list[tuple[Version, Version, list[Difference]]]

    @property
    def areas(self) -> list[str]:
        return list(dict.fromkeys(row.area for row in self.rows))

    @property
    def subjects(self) -> str:
        """What the columns are, in words: ``2 targets``, ``1 target and 1 module``."""
        kinds = [column.subject.kind for column in self.columns]
        return " and ".join(f"{kinds.count(kind)} {kind}{'s' if kinds.count(kind) > 1 else ''}"
                            for kind in SUBJECT_KINDS if kind in kinds)

    def counts(self, index: int) -> dict[str, int]:
        """How many cells of each kind column ``index`` has."""
        counts = dict.fromkeys(KINDS, 0)
        for row in self.rows:
            counts[row.cells[index].kind] += 1
        return counts

    @property
    def incomplete(self) -> list[str]:
        """The mark of every interrupted column, in column order."""
        return [column.incomplete for column in self.columns if column.interrupted]

    def cells_of(self, *kinds: str):
        """Every (row, column, cell) whose cell is one of ``kinds``, row by row."""
        for row in self.rows:
            for column, cell in zip(self.columns, row.cells, strict=True):
                if cell.kind in kinds:
                    yield row, column, cell


def find_reports(paths) -> list[Path]:
    """The report files among ``paths``: files as given, directories searched recursively."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*.json")) if may_be_report(p)]
        elif path.is_file():
            found.append(path)
        else:
            raise ReportError(f"{path}: no such file or directory")
    return found


def column_of(report: Report, paths: tuple[Path, ...] = ()) -> Column:
    """The column of one report."""
    return Column(report.subject, report.contract, paths, report.created,
                  {result.clause: result for result in report.results}, report.interrupted)


def load_reports(paths, unreadable: list[ReportError] | None = None) -> list[Column]:
    """One Column per report: targets by contract version, then name and version; modules last.

    Reports of the same subject and contract (one run per area, or a re-run) merge into one
    column; where they share a clause, the newer report's result counts. A file that is no
    readable report raises its ReportError, or, given ``unreadable``, goes there instead.
    """
    columns: dict[tuple, Column] = {}
    found = []
    for path in find_reports(paths):
        try:
            found.append(column_of(read(path), (path,)))
        except ReportError as error:
            if unreadable is None:
                raise
            unreadable.append(error)
    for column in sorted(found, key=lambda c: c.created):
        key = (column.subject, column.contract)
        if key in columns:
            older = columns[key]
            column = Column(*key, older.paths + column.paths, column.created,
                            {**older.results, **column.results},
                            older.interrupted or column.interrupted)
        columns[key] = column
    return sorted(columns.values(), key=_column_order)


def _column_order(column: Column) -> tuple:
    subject = column.subject
    return (subject.kind == "module", column.contract_version, subject.name,
            _version(subject.version or ""), subject.label)


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:  # a third-party target may use any version string
        return Version("0")


def build_matrix(columns: list[Column], registry: dict | None = None) -> Matrix:
    """The matrix of ``columns``; ``registry`` (default: the kit's) decides the variants."""
    if registry is None:
        from lightning_conformance import load_registry

        registry = load_registry()
    ids = sorted({i for column in columns for i in column.results}, key=_row_order)
    registry = {i: registry[i] for i in ids if i in registry}  # changes of these rows only
    contracts = sorted({column.contract_version for column in columns})
    variants = [_variants(registry, column.contract_version, contracts[-1]) for column in columns]
    rows = [_row(i, columns, variants, registry) for i in ids]
    changes = [(old, new, differences(registry, old, new))
               for old, new in pairwise(contracts)]
    return Matrix(columns, rows, changes)


def _row_order(clause_id: str) -> tuple:
    area = clause_id.split("-", 1)[0]
    return (AREAS.index(area) if area in AREAS else len(AREAS), clause_id)


def _variants(registry, contract: Version, newest: Version) -> dict[str, tuple[str, ...]]:
    """Clause id -> the changes whose expectation under ``contract`` is not the newest's."""
    found: dict[str, tuple[str, ...]] = {}
    if contract == newest:
        return found
    for difference in differences(registry, contract, newest):
        if difference.kind == "changed":
            found[difference.clause.id] = found.get(difference.clause.id, ()) + (
                difference.change,)
    return found


def _row(clause_id: str, columns, variants, registry) -> Row:
    known = [column.results[clause_id] for column in columns if clause_id in column.results]
    sentence = known[-1].sentence or getattr(registry.get(clause_id), "sentence", "")
    cells = tuple(_cell(column.results.get(clause_id), variant.get(clause_id, ()))
                  for column, variant in zip(columns, variants, strict=True))
    return Row(clause_id, clause_id.split("-", 1)[0], sentence, cells)


def _cell(result: Result | None, changes: tuple[str, ...]) -> Cell:
    if result is None:
        return Cell("missing", message="not run here (not in this report)")
    kind = _KIND_OF_STATUS[result.status]
    if kind == "passed" and changes:
        return Cell("variant", result.status, "passes the older expectation of "
                    + ", ".join(changes), changes)
    return Cell(kind, result.status, result.message)


def grouped(found: list[Difference]) -> list[list[Difference]]:
    """Differences by behaviour change (oldest change first), then added or removed clauses."""
    groups: dict = {}
    for difference in found:
        key = difference.change or (difference.clause.id, difference.kind)
        groups.setdefault(key, []).append(difference)
    return sorted(groups.values(), key=_group_order)


def _group_order(group: list[Difference]) -> tuple:
    change = CHANGES.get(group[0].change)
    if change is None:
        return (1, Version("0"), group[0].clause.id)
    return (0, change.since_version, change.name)


def load_matrix(paths, registry: dict | None = None,
                unreadable: list[ReportError] | None = None) -> Matrix:
    """Load every report under ``paths`` into a Matrix; raise ReportError if there is none
    (``unreadable``: as in ``load_reports``)."""
    columns = load_reports(paths, unreadable)
    if not columns and unreadable:
        raise ReportError(f"none of the {len(unreadable)} report file(s) could be read")
    if not columns:
        raise ReportError("no lightning-conformance report (*.json) found under "
                          + ", ".join(map(str, paths)))
    return build_matrix(columns, registry)
