"""Every clause can fail: each mutant of the reference makes exactly its clauses fail.

A mutant is checked against every clause of the areas its ``kills`` name (a logging mutant
against all LOG clauses), so the cost grows with the areas, not with mutants x all clauses.
Set ``LCK_MUTANT_AREAS=LOG,OPT`` to check only some areas while working on them.
"""

import json
import os
import subprocess
import sys

import pytest

from conformance import load_registry
from tests.conftest import ROOT
from tests.mutants import MUTANTS, areas, attribute

AREAS_WITH_MUTANTS = ("HOOK", "LOG", "MAN", "OPT", "CKPT", "DEV", "DDP")
_ONLY = {a.strip().upper() for a in os.environ.get("LCK_MUTANT_AREAS", "").split(",") if a.strip()}


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


def _run_area(area: str, report_dir) -> tuple[dict[str, set[str]], set[str]]:
    """One pytest run of the area's clauses on the reference and on the area's mutants."""
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-q",
               "-p", "no:cacheprovider", "-p", "no:randomly", "--area", area,
               "--conformance-report", str(report_dir), "--target", "reference"]
    for mutant in MUTANTS:
        if area in areas(mutant):
            command += ["--target", f"tests.mutants:{attribute(mutant)}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    if result.returncode not in (0, 1):
        pytest.fail(f"the mutant run of {area} did not complete:\n{result.stdout[-3000:]}"
                    f"\n{result.stderr[-3000:]}", pytrace=False)
    failed, cuda_only = {}, set()
    for path in report_dir.glob("*.json"):
        report = json.loads(path.read_text())
        failed[report["target"]] = {c["id"] for c in report["clauses"]
                                    if c["status"] in ("failed", "error")}
        if report["target"] == "reference":
            cuda_only = _cuda_skips(report)
    return failed, cuda_only


@pytest.fixture(scope="module")
def kill_matrix(tmp_path_factory):
    """target name -> the clause IDs that failed on it, over the areas it was run on.

    The key ``cuda-only`` holds the clauses that skipped on the reference for lack of a
    CUDA device: on such a machine their mutants cannot be checked.
    """
    matrix: dict[str, set[str]] = {"cuda-only": set()}
    for area in sorted(set().union(*(areas(m) for m in MUTANTS))):
        if _checked(area):
            failed, cuda_only = _run_area(area, tmp_path_factory.mktemp(area))
            matrix["cuda-only"] |= cuda_only
            for target, clauses in failed.items():
                matrix.setdefault(target, set()).update(clauses)
    return matrix


def test_reference_passes_every_clause(kill_matrix):
    assert set() == kill_matrix["reference"]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_fails_exactly_its_clauses(kill_matrix, mutant):
    if not all(_checked(area) for area in areas(mutant)):
        pytest.skip(f"LCK_MUTANT_AREAS={os.environ['LCK_MUTANT_AREAS']} leaves out some of "
                    f"{sorted(areas(mutant))}")
    checkable = mutant.kills - kill_matrix["cuda-only"]
    if not checkable:
        pytest.skip(f"{mutant.id} breaks CUDA-only clauses {sorted(mutant.kills)}; "
                    f"torch sees no CUDA device here")
    assert sorted(checkable) == sorted(kill_matrix[mutant.target_name] - kill_matrix["cuda-only"])
