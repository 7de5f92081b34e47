"""The kill matrix (clause x mutant) of the reference's mutants, as JSON and Markdown.

``tests/test_mutants.py`` runs every area's clauses on the reference and on the area's
mutants; this module turns what failed where into a report: the mutation score (mutants
that some clause kills, over the mutants checked), per clause the mutants that kill it, per
mutant the clauses it was declared to kill and those that really failed, and every mutant
that survived (no clause failed: a missing or weak clause) or failed other clauses than its
``kills`` declares.

The report goes to ``$LCK_KILL_MATRIX_DIR`` (default ``conformance-report/kill-matrix/``
under the repository root, which git ignores): ``kill-matrix.json`` and ``kill-matrix.md``.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["KillMatrix", "SCHEMA", "report_dir", "write_report"]

SCHEMA = "lightning-conformance/kill-matrix/1"
_ROOT = Path(__file__).resolve().parent.parent
# MOD clauses check user modules, not the trainer: a mutant of the reference cannot break them.
NOT_BY_MUTANTS = {
    "MOD": "checks of user modules, proven by one broken module per clause in "
           "tests/fixtures/broken_modules.py (tests/test_module_checks.py)",
}


def report_dir() -> Path:
    """Where the report is written: ``$LCK_KILL_MATRIX_DIR`` or conformance-report/kill-matrix."""
    configured = os.environ.get("LCK_KILL_MATRIX_DIR")
    return Path(configured) if configured else _ROOT / "conformance-report" / "kill-matrix"


@dataclass
class KillMatrix:
    """What the per-area runs found: the failing clauses of every target they ran."""

    failed: dict[str, set[str]] = field(default_factory=dict)  # target name -> clause IDs
    cuda_only: set[str] = field(default_factory=set)  # skipped on the reference: no CUDA here
    runs: list[dict] = field(default_factory=list)  # one entry per pytest run (area, seconds)
    totals: dict = field(default_factory=dict)  # jobs, wall and CPU seconds of all runs
    report: dict = field(default_factory=dict)  # what write_report wrote

    def add_run(self, area: str, mutants: list[str], seconds: float,
                failed: dict[str, set[str]], cuda_only: set[str]) -> None:
        self.runs.append({"area": area, "mutants": len(mutants), "seconds": round(seconds, 1)})
        self.cuda_only |= cuda_only
        for target, clauses in failed.items():
            self.failed.setdefault(target, set()).update(clauses)

    def observed(self, mutant) -> set[str]:
        """The clauses that failed on ``mutant``, less those this machine cannot run."""
        return self.failed.get(mutant.target_name, set()) - self.cuda_only

    def checkable(self, mutant) -> set[str]:
        """The clauses ``mutant`` must kill that this machine can run."""
        return set(mutant.kills) - self.cuda_only

    def verdict(self, mutant, checked: bool) -> str:
        """killed (exactly its clauses), survived, mismatch, or unchecked (areas / CUDA)."""
        if not checked or not self.checkable(mutant):
            return "unchecked"
        observed = self.observed(mutant)
        if not observed:
            return "survived"
        return "killed" if observed == self.checkable(mutant) else "mismatch"


def _mutant_entries(matrix: KillMatrix, mutants, checked) -> list[dict]:
    return [{"id": m.id, "file": m.file, "verdict": matrix.verdict(m, checked(m)),
             "kills": sorted(m.kills), "failed": sorted(matrix.observed(m))}
            for m in mutants]


def _clause_killers(entries: list[dict], clauses: dict[str, str]) -> dict[str, list[str]]:
    killers: dict[str, list[str]] = {clause_id: [] for clause_id in clauses}
    for entry in entries:
        for clause_id in entry["failed"]:
            killers.setdefault(clause_id, []).append(entry["id"])
    return killers


def _score(entries: list[dict]) -> dict:
    checked = [e for e in entries if e["verdict"] != "unchecked"]
    killed = [e for e in checked if e["verdict"] != "survived"]
    score = len(killed) / len(checked) if checked else 0.0
    return {"checked": len(checked), "killed": len(killed), "score": round(score, 4)}


def as_dict(matrix: KillMatrix, mutants, clauses: dict[str, str], checked) -> dict:
    """The whole report; ``clauses`` maps each clause ID of the areas run to its sentence."""
    entries = _mutant_entries(matrix, mutants, checked)
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "mutation_score": _score(entries),
        "reference_failed": sorted(matrix.failed.get("reference", set())),
        "cuda_only": sorted(matrix.cuda_only),
        "totals": matrix.totals,
        "runs": matrix.runs,
        "surviving": [e["id"] for e in entries if e["verdict"] == "survived"],
        "mismatched": [e["id"] for e in entries if e["verdict"] == "mismatch"],
        "not_by_mutants": NOT_BY_MUTANTS,
        "clauses": {clause_id: {"sentence": clauses.get(clause_id, ""), "killed_by": killers}
                    for clause_id, killers in sorted(_clause_killers(entries, clauses).items())},
        "mutants": entries,
    }


def _markdown(report: dict) -> str:
    score = report["mutation_score"]
    lines = ["# Kill matrix", "",
             f"Mutation score: **{score['score']:.0%}** ({score['killed']} of "
             f"{score['checked']} mutants checked here are killed by at least one clause; "
             f"created {report['created']}).", ""]
    for title, key in (("Surviving mutants (a missing or weak clause)", "surviving"),
                       ("Mutants failing other clauses than they declare", "mismatched")):
        lines += [f"## {title}", "", *([f"- `{m}`" for m in report[key]] or ["None."]), ""]
    lines += ["## Areas without mutants", "",
              *(f"- {area}: {why}" for area, why in report["not_by_mutants"].items()), "",
              "## Runs", "", _totals_line(report["totals"]), "",
              "| area | mutants | seconds |", "| --- | ---: | ---: |",
              *(f"| {r['area']} | {r['mutants']} | {r['seconds']} |" for r in report["runs"]),
              "", "## Clauses and the mutants that kill them", "",
              "| clause | mutants | killed by |", "| --- | ---: | --- |"]
    for clause_id, entry in report["clauses"].items():
        killers = ", ".join(f"`{m}`" for m in entry["killed_by"]) or "**none**"
        lines.append(f"| {clause_id} | {len(entry['killed_by'])} | {killers} |")
    return "\n".join(lines) + "\n"


def _totals_line(totals: dict) -> str:
    if not totals:
        return ""
    return (f"{totals['runs']} pytest runs, {totals['jobs']} at a time: "
            f"{totals['wall_seconds']:.0f} s wall, {totals['cpu_seconds']:.0f} s CPU.")


def write_report(matrix: KillMatrix, mutants, clauses: dict[str, str], checked,
                 directory: Path | None = None) -> dict:
    """Write kill-matrix.json and kill-matrix.md; return the report."""
    report = matrix.report = as_dict(matrix, mutants, clauses, checked)
    directory = directory or report_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kill-matrix.json").write_text(json.dumps(report, indent=1) + "\n")
    (directory / "kill-matrix.md").write_text(_markdown(report))
    return report
