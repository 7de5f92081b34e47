"""The kill-matrix report (tests/kill_matrix.py): verdicts, score and the files written."""

import json

from tests.kill_matrix import KillMatrix, report_dir, write_report
from tests.mutants import mutant

CLAUSES = {"LOG-001": "one", "LOG-002": "two", "LOG-003": "three"}
EXACT = mutant("exact", "LOG-001", "trainer.py", "a", "b")
SURVIVOR = mutant("survivor", "LOG-002", "trainer.py", "a", "b")
WIDER = mutant("wider", "LOG-003", "trainer.py", "a", "b")


def _matrix() -> KillMatrix:
    matrix = KillMatrix()
    failed = {"reference": set(), "mutant-exact": {"LOG-001"},
              "mutant-wider": {"LOG-001", "LOG-003"}}
    matrix.add_run("LOG", ["exact", "survivor", "wider"], 12.0, failed, set())
    return matrix


def test_each_mutant_gets_its_verdict():
    matrix = _matrix()

    assert ["killed", "survived", "mismatch", "unchecked"] == [
        matrix.verdict(EXACT, True), matrix.verdict(SURVIVOR, True),
        matrix.verdict(WIDER, True), matrix.verdict(EXACT, False)]


def test_the_score_counts_the_mutants_some_clause_kills(tmp_path):
    report = write_report(_matrix(), [EXACT, SURVIVOR, WIDER], CLAUSES, lambda m: True, tmp_path)

    assert {"checked": 3, "killed": 2, "score": 0.6667} == report["mutation_score"]
    assert (["survivor"], ["wider"]) == (report["surviving"], report["mismatched"])


def test_each_clause_lists_the_mutants_that_kill_it(tmp_path):
    report = write_report(_matrix(), [EXACT, SURVIVOR, WIDER], CLAUSES, lambda m: True, tmp_path)

    assert {"LOG-001": ["exact", "wider"], "LOG-002": [], "LOG-003": ["wider"]} == {
        clause_id: entry["killed_by"] for clause_id, entry in report["clauses"].items()}


def test_json_and_markdown_are_written(tmp_path):
    write_report(_matrix(), [EXACT, SURVIVOR, WIDER], CLAUSES, lambda m: True, tmp_path)
    markdown = (tmp_path / "kill-matrix.md").read_text()

    assert "survivor" in json.loads((tmp_path / "kill-matrix.json").read_text())["surviving"]
    assert "Mutation score: **67%**" in markdown
    assert "| LOG-002 | 0 | **none** |" in markdown
    assert "- MOD: checks of user modules" in markdown


def test_the_report_directory_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LCK_KILL_MATRIX_DIR", str(tmp_path))

    assert tmp_path == report_dir()
    monkeypatch.delenv("LCK_KILL_MATRIX_DIR")
    assert ("conformance-report", "kill-matrix") == report_dir().parts[-2:]
