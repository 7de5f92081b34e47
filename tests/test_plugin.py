"""The pytest plugin: target selection, header, skips, failure output, deviations."""

import json
import os
import re
import subprocess
import sys

from tests.conftest import ROOT
from tests.mutants import MUTANTS


def run_pytest(*args, env=None):
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "clauses"), "-p",
               "no:cacheprovider", *args]
    environment = {**os.environ, **(env or {})}
    if "LCK_TARGET" not in (env or {}):  # the caller's own LCK_TARGET must not leak in
        environment.pop("LCK_TARGET", None)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=environment)


def test_header_names_targets_and_versions():
    result = run_pytest("--target", "reference", "-k", "test_fit_without_validation")

    assert 0 == result.returncode, result.stdout
    assert "lightning-conformance: targets reference (from --target)" in result.stdout
    assert re.search(r"lightning-conformance \S+: reference \S+ \(contract 2\.6\.6\); torch",
                     result.stdout)


def test_target_comes_from_the_environment():
    result = run_pytest("-k", "test_fit_without_validation", env={"LCK_TARGET": "reference"})

    assert "targets reference (from LCK_TARGET)" in result.stdout
    assert "1 passed" in result.stdout


def test_unknown_target_is_a_usage_error():
    result = run_pytest("--target", "no_such_target", "-k", "test_fit_without_validation")

    assert 0 != result.returncode
    assert "unknown target 'no_such_target'" in result.stdout + result.stderr


def test_skip_reasons_are_always_printed():
    result = run_pytest("--target", "reference", "--contract", "2.0.9", "-k",
                        "test_configure_model_placement")

    assert "SKIPPED" in result.stdout
    assert "HOOK-008 holds for Lightning >=2.1; the reference contract checked is 2.0.9" \
        in result.stdout


def test_failure_names_the_clause_and_shows_a_trace_diff():
    mutant = MUTANTS[0]
    clause_id = sorted(mutant.kills)[0]
    result = run_pytest("--target", f"tests.mutants:{mutant.id.replace('-', '_')}",
                        "-o", "verbosity_assertions=2")

    assert 1 == result.returncode
    assert f"clause {clause_id}" in result.stdout
    assert f"target: mutant-{mutant.id}" in result.stdout


def test_known_deviations_are_xfailed_and_stale_entries_reported(tmp_path):
    mutant = MUTANTS[0]
    killed = sorted(mutant.kills)
    deviations = tmp_path / "deviations.toml"
    entries = [(clause, ">=0") for clause in killed] + [("HOOK-001", ">=0"), ("HOOK-999", "")]
    deviations.write_text("".join(
        f'[[deviation]]\nclause = "{clause}"\nversions = "{versions}"\n'
        f'reason = "test"\nevidence = "test"\n' for clause, versions in entries))
    result = run_pytest("--target", "tests.fixtures.deviating_target:factory",
                        "--conformance-report", str(tmp_path),
                        env={"LCK_TEST_DEVIATIONS": str(deviations)})
    report = json.loads((tmp_path / f"mutant-{mutant.id}.json").read_text())
    statuses = {c["id"]: c["status"] for c in report["clauses"]}

    assert 0 == result.returncode, result.stdout[-3000:]
    assert {"xfailed"} == {statuses[clause] for clause in killed}
    assert "xpassed" == statuses["HOOK-001"]
    assert any(s.startswith("HOOK-001: listed as a known deviation but it passes")
               for s in report["stale_deviations"])
    assert any(s.startswith("HOOK-999: no such clause") for s in report["stale_deviations"])


def _reported_clauses(report_dir) -> set[str]:
    report = json.loads((report_dir / "reference.json").read_text())
    return {clause["id"] for clause in report["clauses"]}


def test_clauses_are_selected_by_their_ids(tmp_path):
    selections = {"k": ["-k", "HOOK-007 or LOG-001"],
                  "clause": ["--clause", "HOOK-007", "--clause", "LOG-001"]}
    for name, selection in selections.items():
        result = run_pytest("--target", "reference", "--conformance-report",
                            str(tmp_path / name), *selection)

        assert 0 == result.returncode, result.stdout[-3000:]
        assert {"HOOK-007", "LOG-001"} == _reported_clauses(tmp_path / name)


def test_an_unknown_clause_is_a_usage_error():
    result = run_pytest("--target", "reference", "--clause", "HOOK-999")

    assert 4 == result.returncode  # pytest's usage error
    assert "ERROR: unknown clause HOOK-999" in result.stderr
