"""The kit's one result model: what ``run``, ``check`` and ``ConformanceCallback`` report.

A ``Result`` is the verdict of one clause on one ``Subject``: a target (a trainer, run by
``lightning-conformance run``) or a user's module (checked by ``check`` and ``check_module``,
or watched by ``ConformanceCallback``). The JSON report (``reports/schema.py``) and every
rendering (terminal, Markdown, HTML, JUnit) read this model and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "RUN_STATUSES",
    "STATUSES",
    "SUBJECT_KINDS",
    "WORST_FIRST",
    "Case",
    "Result",
    "Subject",
    "worst",
]

# What a pytest run of the clauses gives a clause.
RUN_STATUSES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
# A check of a module may also warn: it passes, with a risk or a known deviation of the
# Lightning it ran on.
STATUSES = (*RUN_STATUSES, "warned")
# A clause with several cases takes the worst status among them.
WORST_FIRST = ("failed", "error", "xpassed", "warned", "xfailed", "passed", "skipped")
SUBJECT_KINDS = ("target", "module")


@dataclass(frozen=True)
class Subject:
    """What the clauses ran on: a target at a version, or a user's module on a target.

    Attributes:
        kind: "target" or "module".
        name: the target's name (``lightning``) or the module's (``LeNet``).
        version: the target's version; None for a module.
        runs_on: for a module, the target (a Subject of kind "target") it ran on.
    """

    kind: str
    name: str
    version: str | None = None
    runs_on: Subject | None = None

    def __post_init__(self):
        if self.kind not in SUBJECT_KINDS:
            raise ValueError(f"subject kind must be one of {SUBJECT_KINDS}, not {self.kind!r}")

    @property
    def label(self) -> str:
        """``lightning 2.6.6``, or ``LeNet on lightning 2.6.6`` for a module."""
        if self.kind == "target":
            return f"{self.name} {self.version}"
        return f"{self.name} on {self.runs_on.label}" if self.runs_on else self.name

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"kind": self.kind, "name": self.name, "version": self.version}
        if self.kind == "module":
            data["runs_on"] = self.runs_on.as_dict() if self.runs_on else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Subject:
        runs_on = data.get("runs_on")
        return cls(data["kind"], data["name"], data.get("version"),
                   cls.from_dict(runs_on) if runs_on else None)


@dataclass(frozen=True)
class Case:
    """One pytest item of a clause (a clause parametrized over inputs has several)."""

    nodeid: str
    status: str
    message: str = ""
    duration: float = 0.0

    def as_dict(self) -> dict:
        return {"nodeid": self.nodeid, "status": self.status, "message": self.message,
                "duration": round(self.duration, 6)}


@dataclass(frozen=True)
class Result:
    """The verdict of one clause on one subject.

    The first five fields keep the order of the former ``CheckResult``, so that positional
    construction and the documented names (``clause``, ``status``, ``message``,
    ``reproduction``) stay as they were.
    """

    clause: str
    status: str
    message: str = ""  # failure text, skip or deviation reason, warning; empty when passed
    reproduction: str = ""  # a script that reproduces a failed check ("" for clause runs)
    sentence: str = ""
    source: str = ""
    subject: Subject | None = None
    contract: str = ""  # the Lightning version whose contract was checked
    duration: float = 0.0  # seconds, all cases together
    cases: tuple[Case, ...] = ()

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"{self.clause}: status must be one of {STATUSES}, "
                             f"not {self.status!r}")

    @property
    def area(self) -> str:
        return self.clause.split("-", 1)[0]

    def first(self, status: str) -> Case | None:
        """The first case with ``status`` (None when there is none)."""
        return next((case for case in self.cases if case.status == status), None)

    def as_dict(self) -> dict:
        """The entry of this result in a JSON report (``report.schema.json``, ``$defs.result``)."""
        return {"id": self.clause, "area": self.area, "sentence": self.sentence,
                "source": self.source, "status": self.status, "message": self.message,
                "reproduction": self.reproduction, "duration": round(self.duration, 6),
                "cases": [case.as_dict() for case in self.cases]}

    @classmethod
    def from_dict(cls, data: dict, subject: Subject | None = None,
                  contract: str = "") -> Result:
        """A result from its JSON entry; a schema 1 entry reads the same (no reproduction)."""
        cases = tuple(Case(c["nodeid"], c["status"], c.get("message", ""),
                           c.get("duration", 0.0)) for c in data.get("cases", ()))
        return cls(data["id"], data["status"], data.get("message") or "",
                   data.get("reproduction", ""), data.get("sentence", ""),
                   data.get("source", ""), subject, contract, data.get("duration", 0.0), cases)


def worst(cases) -> Case:
    """The case whose status is the worst (the first of them)."""
    cases = list(cases)
    statuses = {case.status for case in cases}
    status = next(s for s in WORST_FIRST if s in statuses)
    return next(case for case in cases if case.status == status)
