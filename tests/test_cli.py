"""The command line: exit codes, the one-line errors, the summary and the JSON report."""

import json
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "conformance" / "report.schema.json").read_text())


def test_run_on_reference_passes_and_writes_valid_reports(cli, tmp_path):
    result = cli("run", "--target", "reference", "--area", "HOOK", "--report-dir",
                 str(tmp_path))
    report = json.loads((tmp_path / "reference.json").read_text())

    assert 0 == result.returncode, result.stdout + result.stderr
    jsonschema.validate(report, SCHEMA)
    assert {"kind": "target", "name": "reference", "version": "0.1.0"} == report["subject"]
    assert report["counts"]["total"] == report["counts"]["passed"] >= 30
    assert "HOOK  reference" in result.stdout
    assert all(c["status"] == "passed" for c in report["clauses"])


@pytest.mark.parametrize("args, message", [
    (["run", "--target", "no_such_target"], "unknown target 'no_such_target'"),
    (["run", "--target", "no_such_module:factory"], "could not be imported"),
    (["run", "--target", "tests.fixtures.broken_target:import_fails"], "could not be imported"),
    (["run", "--target", "reference", "--area", "NOPE"], "unknown area NOPE"),
    (["run", "--target", "reference", "-k", "matches_nothing_at_all"], "no clause matched"),
    (["run", "--target", "reference", "--contract", "not-a-version"], "Invalid contract"),
    (["run", "--target", "reference", "--clause", "HOOK-999"], "unknown clause HOOK-999"),
])
def test_bad_input_exits_2_with_one_line(cli, args, message):
    result = cli(*args)

    assert 2 == result.returncode
    assert 1 == len(result.stderr.strip().splitlines()), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("selection", [["-k", "HOOK-007"], ["--clause", "hook-007"]])
def test_run_selects_a_clause_by_its_id(cli, tmp_path, selection):
    result = cli("run", "--target", "reference", "--report-dir", str(tmp_path), *selection)
    report = json.loads((tmp_path / "reference.json").read_text())

    assert 0 == result.returncode, result.stdout + result.stderr
    assert ["HOOK-007"] == [clause["id"] for clause in report["clauses"]]


def test_usage_error_from_argparse_exits_2(cli):
    assert 2 == cli("run", "--no-such-option").returncode


def test_clauses_json_lists_the_registry(cli):
    result = cli("clauses", "--json", "--area", "HOOK")
    clauses = json.loads(result.stdout)

    assert 0 == result.returncode
    assert len(clauses) >= 30
    assert {"id", "sentence", "source", "versions", "changes", "test"} <= set(clauses[0])


def test_targets_lists_installed_targets(cli):
    result = cli("targets")

    assert 0 == result.returncode
    assert result.stdout.startswith("reference")
    assert "lightning " in result.stdout


def test_a_failing_clause_exits_1_with_its_id_and_a_diff(cli, tmp_path):
    result = cli("run", "--target", "tests.mutants:module_prepare_data_first", "--area", "HOOK",
                 "-k", "test_prepare_data_order", "--report-dir", str(tmp_path))
    report = json.loads((tmp_path / "mutant-module-prepare-data-first.json").read_text())

    assert 1 == result.returncode, result.stdout + result.stderr
    assert "FAILED HOOK-007 on mutant-module-prepare-data-first" in result.stdout
    assert "+Module.prepare_data" in result.stdout
    assert "failed" == report["clauses"][0]["status"]
    jsonschema.validate(report, SCHEMA)


def test_a_reader_that_stops_early_gets_no_traceback():
    # `lightning-conformance clauses --json | head -c 10`: the pipe closes before the output ends
    command = [sys.executable, "-m", "lightning_conformance.cli", "clauses", "--json"]
    process = subprocess.Popen(command,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(10)
    process.stdout.close()  # what `head` does once it has enough
    stderr = process.stderr.read().decode()
    process.stderr.close()

    assert 1 == process.wait(timeout=120)
    assert "Traceback" not in stderr, stderr
