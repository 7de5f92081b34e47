"""Collect per-clause results for each target during a pytest run; write the JSON reports."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import torch

from lightning_conformance.adapters.base import kit_version
from lightning_conformance.reports import schema
from lightning_conformance.reports.model import Case, Result, Subject, worst
from lightning_conformance.spec.clause import REGISTRY

__all__ = ["ResultCollector", "device", "kit_version"]


def device() -> str:
    """The best device of this machine, as reports and headers name it."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class ResultCollector:
    """Receives pytest reports and keeps the cases of each (target, clause)."""

    def __init__(self, targets: dict):
        self.targets = targets  # name -> adapter
        self.contracts: dict = {}  # name -> contract Version
        self.cases: dict[str, dict[str, list[Case]]] = defaultdict(dict)  # target -> clause
        self.stale: dict[str, list[str]] = defaultdict(list)  # target -> messages
        self.collection_errors: list[str] = []
        self.started = time.time()

    def add(self, target: str, clause_id: str, nodeid: str, status: str, message: str,
            duration: float) -> None:
        self.cases[target].setdefault(clause_id, []).append(
            Case(nodeid, status, message, round(duration, 6)))

    def subject(self, target: str) -> Subject:
        return Subject("target", target, str(self.targets[target].version))

    def contract(self, target: str) -> str:
        return str(self.contracts.get(target, self.targets[target].contract))

    def results(self, target: str, area: str | None = None) -> list[Result]:
        """One Result per clause run on ``target`` (of ``area`` only, if given), by ID."""
        subject, contract = self.subject(target), self.contract(target)
        return [self._result(clause_id, cases, subject, contract)
                for clause_id, cases in sorted(self.cases[target].items())
                if area is None or clause_id.startswith(f"{area}-")]

    @staticmethod
    def _result(clause_id: str, cases: list[Case], subject: Subject, contract: str) -> Result:
        clause = REGISTRY.get(clause_id)
        case = worst(cases)
        return Result(clause_id, case.status, case.message,
                      sentence=clause.sentence if clause else "",
                      source=clause.source if clause else "", subject=subject,
                      contract=contract, duration=sum(c.duration for c in cases),
                      cases=tuple(cases))

    def runs(self) -> list[Result]:
        """Every clause run of the session: the results of every target."""
        return [result for target in self.targets for result in self.results(target)]

    def counts(self, target: str, area: str | None = None) -> dict[str, int]:
        return schema.counts(self.results(target, area))

    def report(self, target: str, interrupted: bool = False) -> dict:
        return schema.document(self.subject(target), self.contract(target),
                               self.results(target), device=device(),
                               stale=self.stale[target], interrupted=interrupted)

    def write(self, directory: Path, interrupted: bool = False) -> list[Path]:
        """One report per target, ``<target>.json``; return the paths written.

        An interrupted run writes ``<target>.interrupted.json`` instead (``schema.write``),
        only for the targets that ran a clause, and keeps a complete ``<target>.json``.
        """
        return [schema.write(directory / f"{target}.json", self.report(target, interrupted))
                for target in self.targets if self.cases[target] or not interrupted]
