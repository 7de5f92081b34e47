"""Collect per-clause results for each target during a pytest run; build the JSON report."""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch

from lightning_conformance.adapters.base import kit_version
from lightning_conformance.spec.clause import REGISTRY

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "ClauseResult",
    "ResultCollector",
    "device",
    "kit_version",
]

SCHEMA_ID = "https://lightning-conformance.invalid/schema/report/1"
SCHEMA_VERSION = 1
# Worst first: a clause with several cases takes the worst status among them.
_STATUS_ORDER = ("failed", "error", "xpassed", "xfailed", "passed", "skipped")


def device() -> str:
    """The best device of this machine, as reports and headers name it."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class ClauseResult:
    id: str
    cases: list = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = {case["status"] for case in self.cases}
        return next(s for s in _STATUS_ORDER if s in statuses)

    def first(self, status: str) -> dict | None:
        return next((case for case in self.cases if case["status"] == status), None)

    def as_dict(self) -> dict:
        clause = REGISTRY.get(self.id)
        status = self.status
        case = self.first(status) or {}
        return {
            "id": self.id,
            "area": self.id.split("-", 1)[0],
            "sentence": clause.sentence if clause else "",
            "source": clause.source if clause else "",
            "status": status,
            "message": case.get("message", ""),
            "duration": round(sum(c["duration"] for c in self.cases), 6),
            "skip_reason": case.get("message") if status == "skipped" else None,
            "cases": self.cases,
        }


class ResultCollector:
    """Receives pytest reports and keeps one ClauseResult per (target, clause)."""

    def __init__(self, targets: dict):
        self.targets = targets  # name -> adapter
        self.contracts: dict = {}  # name -> contract Version
        self.results: dict = defaultdict(dict)  # target -> clause id -> ClauseResult
        self.stale: dict = defaultdict(list)  # target -> messages
        self.collection_errors: list[str] = []
        self.started = time.time()

    def add(self, target: str, clause_id: str, nodeid: str, status: str, message: str,
            duration: float) -> None:
        result = self.results[target].setdefault(clause_id, ClauseResult(clause_id))
        result.cases.append({"nodeid": nodeid, "status": status, "message": message,
                             "duration": round(duration, 6)})

    def counts(self, target: str, area: str | None = None) -> dict:
        counts = dict.fromkeys(_STATUS_ORDER, 0)
        for result in self.results[target].values():
            if area is None or result.id.startswith(f"{area}-"):
                counts[result.status] += 1
        counts["total"] = sum(counts.values())
        return counts

    def report(self, target: str) -> dict:
        adapter = self.targets[target]
        results = sorted(self.results[target].values(), key=lambda r: r.id)
        return {
            "$schema": SCHEMA_ID,
            "schema_version": SCHEMA_VERSION,
            "kit_version": kit_version(),
            "target": target,
            "target_version": str(adapter.version),
            "contract_version": str(self.contracts.get(target, adapter.contract)),
            "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "device": device(),
            "platform": platform.platform(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "counts": self.counts(target),
            "stale_deviations": list(self.stale[target]),
            "clauses": [result.as_dict() for result in results],
        }

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for target in self.targets:
            path = directory / f"{target}.json"
            path.write_text(json.dumps(self.report(target), indent=2) + "\n")
            paths.append(path)
        return paths
