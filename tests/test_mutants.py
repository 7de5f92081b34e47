"""Every clause can fail: each mutant of the reference makes exactly its clauses fail."""

import json
import subprocess
import sys

import pytest

from conformance import load_registry
from tests.conftest import ROOT
from tests.mutants import MUTANTS, attribute

AREAS_WITH_MUTANTS = ("HOOK",)


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


@pytest.fixture(scope="module")
def kill_matrix(tmp_path_factory):
    """Run the whole suite once on the reference and every mutant; return failed IDs."""
    report_dir = tmp_path_factory.mktemp("mutant-reports")
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance"), "-q",
               "-p", "no:cacheprovider", "-p", "no:randomly", "--conformance-report",
               str(report_dir), "--target", "reference"]
    for mutant in MUTANTS:
        command += ["--target", f"tests.mutants:{attribute(mutant)}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    if result.returncode not in (0, 1):
        pytest.fail(f"the mutant run did not complete:\n{result.stdout[-3000:]}"
                    f"\n{result.stderr[-3000:]}", pytrace=False)
    matrix = {}
    for path in report_dir.glob("*.json"):
        report = json.loads(path.read_text())
        matrix[report["target"]] = {c["id"] for c in report["clauses"]
                                    if c["status"] in ("failed", "error")}
    return matrix


def test_reference_passes_every_clause(kill_matrix):
    assert set() == kill_matrix["reference"]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_fails_exactly_its_clauses(kill_matrix, mutant):
    assert sorted(mutant.kills) == sorted(kill_matrix[mutant.target_name])
