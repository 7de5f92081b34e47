"""Every clause can fail: each mutant of the reference makes exactly its clauses fail.

A mutant is checked against every clause of the areas its ``kills`` name (a logging mutant
against all LOG clauses), so the cost grows with the areas, not with mutants x all clauses.
Set ``LCK_MUTANT_AREAS=LOG,OPT`` to check only some areas while working on them.

Each area's mutants are split into runs of at most ``LCK_MUTANT_CHUNK`` (default 25) mutants,
each run one pytest process with the reference and those mutants as targets; the runs go
``LCK_MUTANT_JOBS`` at a time (default: one per core), the costliest first; their DDP ranks
fork from a server that imported torch once (``LCK_DDP_PRELOAD=1``, conformance/ddp/preload.py)
instead of starting a fresh interpreter each. The kill matrix
is written to ``$LCK_KILL_MATRIX_DIR`` (default conformance-report/kill-matrix/, see
``tests/kill_matrix.py``). A mutant that no clause kills fails as a surviving mutant.
"""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.suite import children_cpu
from lightning_conformance import load_registry
from tests.conftest import ROOT
from tests.kill_matrix import KillMatrix, write_report
from tests.mutants import MUTANTS, areas, attribute

AREAS_WITH_MUTANTS = ("HOOK", "LOG", "MAN", "OPT", "CKPT", "DEV", "DDP")
_ONLY = {a.strip().upper() for a in os.environ.get("LCK_MUTANT_AREAS", "").split(",") if a.strip()}
_JOBS = int(os.environ.get("LCK_MUTANT_JOBS") or os.cpu_count() or 1)
_CHUNK = int(os.environ.get("LCK_MUTANT_CHUNK") or 25)


def _checked(area: str) -> bool:
    return not _ONLY or area in _ONLY


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_still_applies_and_compiles(mutant):
    compile(mutant.mutated_source(), mutant.file, "exec")


def test_mutant_ids_are_unique():
    assert len(MUTANTS) == len({m.id for m in MUTANTS})


def test_every_clause_has_a_mutant():
    killed = set().union(*(m.kills for m in MUTANTS))
    clauses = {c for c in load_registry() if c.split("-")[0] in AREAS_WITH_MUTANTS}

    assert set() == clauses - killed
    assert set() == killed - set(load_registry())


def _cuda_skips(report: dict) -> set[str]:
    """Clauses the reference skipped for this machine's hardware: with no CUDA device, with
    fewer than two, or (DEV-018/019) because CUDA is present."""
    return {c["id"] for c in report["clauses"]
            if c["status"] == "skipped" and "CUDA" in (c.get("message") or "")}


def _run_area(area: str, mutants: list, report_dir) -> tuple[dict[str, set[str]], set[str]]:
    """One pytest run of the area's clauses on the reference and on ``mutants``."""
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "clauses"), "-q",
               "-p", "no:cacheprovider", "-p", "no:randomly", "--area", area,
               "--conformance-report", str(report_dir), "--target", "reference"]
    for mutant in mutants:
        command += ["--target", f"tests.mutants:{attribute(mutant)}"]
    # DDP ranks fork from a server that imported torch once (conformance/ddp/preload.py)
    env = os.environ | {"LCK_DDP_PRELOAD": "1"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=1500)
    if result.returncode not in (0, 1):
        pytest.fail(f"the mutant run of {area} did not complete:\n{result.stdout[-3000:]}"
                    f"\n{result.stderr[-3000:]}", pytrace=False)
    failed, cuda_only = {}, set()
    for path in report_dir.glob("*.json"):
        report = json.loads(path.read_text())
        target = report["subject"]["name"]
        failed[target] = {c["id"] for c in report["clauses"]
                          if c["status"] in ("failed", "error")}
        if target == "reference":
            cuda_only = _cuda_skips(report)
    return failed, cuda_only


def _runs(clause_counts: dict[str, int]) -> list[tuple[str, list]]:
    """(area, mutants) for every pytest run, the costliest first (DDP, then clauses x targets).

    A DDP run costs most (three launches of real ranks per target): going first, it does not
    leave one worker busy at the end while the other waits.
    """
    runs = []
    for area in sorted(clause_counts):
        mutants = [m for m in MUTANTS if area in areas(m)]
        pieces = -(-len(mutants) // _CHUNK)  # as many runs as needed, of about equal size
        runs += [(area, mutants[i::pieces]) for i in range(pieces)]
    return sorted(runs, key=lambda run: (run[0] != "DDP",
                                         -clause_counts[run[0]] * (len(run[1]) + 1)))


def _checked_mutant(mutant) -> bool:
    return all(_checked(area) for area in areas(mutant))


@pytest.fixture(scope="module")
def kill_matrix(tmp_path_factory) -> KillMatrix:
    """What failed on the reference and on every mutant, over the areas each was run on.

    ``cuda_only`` holds the clauses that skipped on the reference for lack of a CUDA device:
    on such a machine their mutants cannot be checked. The report is written as a side effect.
    """
    registry = load_registry()
    counts = Counter(clause_id.split("-")[0] for clause_id in registry)
    counts = {area: n for area, n in counts.items()
              if _checked(area) and any(area in areas(m) for m in MUTANTS)}
    matrix = KillMatrix()

    def run(piece):
        area, mutants = piece
        started = time.monotonic()
        failed, cuda_only = _run_area(area, mutants, tmp_path_factory.mktemp(area))
        return area, mutants, time.monotonic() - started, failed, cuda_only

    started, cpu = time.monotonic(), children_cpu()
    with ThreadPoolExecutor(max_workers=_JOBS) as pool:
        for area, mutants, seconds, failed, cuda_only in pool.map(run, _runs(counts)):
            matrix.add_run(area, [m.id for m in mutants], seconds, failed, cuda_only)
    matrix.totals = {"runs": len(matrix.runs), "jobs": _JOBS,
                     "wall_seconds": round(time.monotonic() - started, 1),
                     "cpu_seconds": round(children_cpu() - cpu, 1)}
    clauses = {c: registry[c].sentence for c in registry if c.split("-")[0] in counts}
    write_report(matrix, MUTANTS, clauses, _checked_mutant)
    return matrix


def test_reference_passes_every_clause(kill_matrix):
    assert set() == kill_matrix.failed["reference"]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_fails_exactly_its_clauses(kill_matrix, mutant):
    if not _checked_mutant(mutant):
        pytest.skip(f"LCK_MUTANT_AREAS={os.environ['LCK_MUTANT_AREAS']} leaves out some of "
                    f"{sorted(areas(mutant))}")
    checkable = kill_matrix.checkable(mutant)
    if not checkable:
        pytest.skip(f"{mutant.id} breaks CUDA-only clauses {sorted(mutant.kills)}; "
                    f"torch sees no CUDA device here")
    if not kill_matrix.observed(mutant):
        pytest.fail(f"surviving mutant {mutant.id}: no clause fails on it, a missing or weak "
                    f"clause (it declares {sorted(checkable)})", pytrace=False)
    assert sorted(checkable) == sorted(kill_matrix.observed(mutant))


def test_mutation_score_is_100_percent(kill_matrix):
    report = kill_matrix.report

    assert [] == report["surviving"], "surviving mutants: a missing or weak clause each"
    assert report["mutation_score"]["checked"] == report["mutation_score"]["killed"]
