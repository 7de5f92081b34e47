"""``lightning-conformance report``: the Markdown matrix, the HTML page and JUnit XML."""

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import jsonschema
import pytest

from lightning_conformance import CHANGES, load_registry
from lightning_conformance.cli import main
from lightning_conformance.reports.html import html_page
from lightning_conformance.reports.junit import junit_xml
from lightning_conformance.reports.markdown import markdown
from lightning_conformance.reports.matrix import ReportError, load_matrix
from lightning_conformance.session.results import SCHEMA_ID
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "conformance" / "report.schema.json").read_text())
REGISTRY = load_registry()
# A real clause whose expectation changed in 2.1 (it is a variant on 2.0) and three that
# declare no change (one fails, one is out of range on 2.0, one is a known deviation).
VARIANT = next(c.id for c in REGISTRY.values()
               if "run_stage_zero_grad" in c.changes and not c.versions)
PLAIN = [c.id for c in REGISTRY.values() if c.area == "HOOK" and not c.changes
         and not c.versions][:3]
FAILED, SKIPPED, DEVIATION = PLAIN
MESSAGE = "assert hook sequences differ\n+Module.<setup> & ```\x1b[31m"
SKIP = f"{SKIPPED} holds for Lightning >=2.1; the contract checked is 2.0 <old>"
XFAIL = "known deviation of pytorch_lightning 2.0.9.post0: flaky <resume>"
CHROMIUM = next(filter(None, map(shutil.which, (
    "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"))), None)


def _clause(clause_id, status="passed", message=""):
    case = {"nodeid": f"test_x.py::{clause_id}", "status": status, "message": message,
            "duration": 0.25}
    return {"id": clause_id, "area": clause_id.split("-")[0],
            "sentence": REGISTRY[clause_id].sentence, "source": "s", "status": status,
            "message": message, "duration": 0.25,
            "skip_reason": message if status == "skipped" else None, "cases": [case]}


def _write(directory, target, version, clauses, created="2026-01-01T00:00:00+00:00"):
    counts = {s: sum(c["status"] == s for c in clauses)
              for s in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")}
    report = {"$schema": SCHEMA_ID, "schema_version": 1, "kit_version": "0.1.0",
              "target": target, "target_version": version, "contract_version": version,
              "torch_version": "2.13.0", "python_version": "3.11.7", "device": "cpu",
              "platform": "linux", "created": created,
              "counts": {**counts, "total": len(clauses)}, "stale_deviations": [],
              "clauses": clauses}
    jsonschema.validate(report, SCHEMA)
    path = directory / f"{target}-{version}" / f"{target}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(report))
    return path


@pytest.fixture
def tree(tmp_path):
    """A matrix-report tree: 2.6.6 (all pass) and 2.0.9.post0 (one of each outcome)."""
    root = tmp_path / "matrix-report"
    _write(root, "lightning", "2.6.6", [_clause(i) for i in (VARIANT, *PLAIN)])
    _write(root, "pytorch_lightning", "2.0.9.post0", [
        _clause(VARIANT), _clause(FAILED, "failed", MESSAGE),
        _clause(SKIPPED, "skipped", SKIP), _clause(DEVIATION, "xfailed", XFAIL)])
    (root / "nox-timings.json").write_text("{}")  # other JSON beside reports is ignored
    return root


def test_columns_are_ordered_by_version_and_rows_by_area(tree):
    matrix = load_matrix([tree])

    assert ["pytorch_lightning 2.0.9.post0", "lightning 2.6.6"] == [
        c.label for c in matrix.columns]
    assert sorted([VARIANT, *PLAIN]) == [row.id for row in matrix.rows]
    assert {"passed": 0, "variant": 1, "failed": 1, "skipped": 1, "deviation": 1,
            "stale": 0, "missing": 0} == matrix.counts(0)


def test_a_later_report_of_the_same_target_merges_into_its_column(tree):
    _write(tree / "rerun", "pytorch_lightning", "2.0.9.post0", [_clause(FAILED)],
           created="2026-02-01T00:00:00+00:00")
    matrix = load_matrix([tree])
    row = next(r for r in matrix.rows if r.id == FAILED)

    assert 2 == len(matrix.columns)
    assert "passed" == row.cells[0].kind
    assert 2 == len(matrix.columns[0].paths)


def test_markdown_has_counts_symbols_failures_reasons_and_changes(tree):
    text = markdown(load_matrix([tree]))
    row = {line.split("**")[1]: line for line in text.splitlines() if line.startswith("| **")}
    change = CHANGES["run_stage_zero_grad"]

    assert "| ✅ passed | 0 | 4 |" in text and "| ❌ FAILED | 1 | 0 |" in text
    assert row[VARIANT].endswith("| ◐ | ✅ |")
    assert row[FAILED].endswith("| ❌ | ✅ |")
    assert row[SKIPPED].endswith("| ⏭<sup>1</sup> | ✅ |")
    assert row[DEVIATION].endswith("| ⚠<sup>2</sup> | ✅ |")
    assert "1. holds for Lightning &gt;=2.1; the contract checked is 2.0 &lt;old&gt;" in text
    assert "2. known deviation of pytorch\\_lightning" not in text  # no emphasis escaping
    assert "2. known deviation of pytorch_lightning 2.0.9.post0: flaky &lt;resume&gt;" in text
    assert f"**{FAILED}** FAILED on pytorch_lightning 2.0.9.post0" in text
    assert "````\nassert hook sequences differ\n+Module.<setup> & ```" in text  # longer fence
    assert "<details open><summary><b>HOOK</b>" in text
    assert f"`run_stage_zero_grad` (since {change.since})" in text
    assert f"  - 2.6.6: {change.after}" in text.replace("&lt;", "<")


def test_html_escapes_every_text_and_loads_nothing_from_outside(tree):
    page = html_page(load_matrix([tree]))
    parser = _Rows()
    parser.feed(page)

    assert "<setup>" not in page and "&lt;setup&gt; &amp; ```" in page
    assert "<resume>" not in page and "&lt;resume&gt;" in page
    assert "http://" not in page and "https://" not in page and " src=" not in page
    assert {VARIANT: False, FAILED: False, SKIPPED: False, DEVIATION: False} == parser.rows
    assert '<details class="fail">' in page and "run_stage_zero_grad" in page


def test_junit_has_one_suite_per_target_and_valid_xml(tree):
    root = ET.fromstring(junit_xml(load_matrix([tree])).encode())
    old, new = root.findall("testsuite")
    cases = {case.get("name"): case for case in old.findall("testcase")}
    failure = cases[f"{FAILED} [pytorch_lightning 2.0.9.post0]"].find("failure")

    assert ("8", "1", "2") == (root.get("tests"), root.get("failures"), root.get("skipped"))
    assert ("4", "1", "2") == (old.get("tests"), old.get("failures"), old.get("skipped"))
    assert ("lightning 2.6.6", "4", "0") == (new.get("name"), new.get("tests"),
                                             new.get("failures"))
    assert {"HOOK"} == {case.get("classname") for case in cases.values()}
    assert "assert hook sequences differ" == failure.get("message")
    assert "+Module.<setup> & ```?[31m" in failure.text  # the ANSI escape is not XML
    skipped = cases[f"{SKIPPED} [pytorch_lightning 2.0.9.post0]"].find("skipped")
    assert SKIP == skipped.get("message")


def test_cli_writes_all_three_and_prints_markdown_by_default(tree, tmp_path, capsys):
    out = tmp_path / "out"
    written = main(["report", str(tree), "--markdown", str(out / "m.md"),
                    "--html", str(out / "m.html"), "--junit", str(out / "junit.xml")])
    wrote = capsys.readouterr()
    printed = main(["report", str(tree / "lightning-2.6.6" / "lightning.json")])
    stdout = capsys.readouterr().out

    assert (0, 0) == (written, printed)
    assert "2 report(s), 4 clauses: wrote" in wrote.err and "" == wrote.out
    assert {"m.md", "m.html", "junit.xml"} == {p.name for p in out.iterdir()}
    assert stdout.startswith("# Lightning conformance: 4 clauses × 1 targets")


@pytest.mark.parametrize("where, message", [
    ("nowhere", "nowhere: no such file or directory"),
    ("", "no lightning-conformance report (*.json) found under"),
])
def test_cli_rejects_paths_without_reports_in_one_line(tmp_path, capsys, where, message):
    code = main(["report", str(tmp_path / where)])
    err = capsys.readouterr().err

    assert 2 == code
    assert err.startswith("lightning-conformance: error: ") and 1 == err.count("\n")
    assert message in err


def test_run_prints_a_line_per_target_and_its_reports_render(cli, tmp_path):
    result = cli("run", "--target", "reference", "--target",
                 "tests.mutants:module_prepare_data_first", "--area", "HOOK",
                 "-k", "test_prepare_data_order", "--report-dir", str(tmp_path))
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    text = markdown(load_matrix([tmp_path]))

    assert 1 == result.returncode, result.stdout + result.stderr
    assert 2 == len(lines), result.stdout
    assert lines[0].startswith("[1/2] reference 0.1.0: 1 passed, 0 failed, 0 skipped in ")
    assert lines[1].startswith("[2/2] mutant-module-prepare-data-first 0.1.0: 0 passed, "
                               "1 failed, 0 skipped in ")
    assert "+Module.prepare_data" in text and "## Failures (1)" in text


def test_a_file_that_is_not_a_report_is_named(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"name": "x"}')

    with pytest.raises(ReportError, match="other.json: not a lightning-conformance report"):
        load_matrix([path])


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH "
                    "(Debian: apt-get install -y chromium)")
def test_html_filter_from_the_url_hides_rows_in_a_real_browser(tree, tmp_path):
    page = tmp_path / "matrix.html"
    page.write_text(html_page(load_matrix([tree])))
    failed = _dump(page, "#status=failed,deviation", tmp_path)
    searched = _dump(page, f"?q={SKIPPED.lower()}", tmp_path)

    assert {VARIANT: True, FAILED: False, SKIPPED: True, DEVIATION: False} == failed.rows
    assert "2 of 4 clauses shown" in failed.text
    assert [SKIPPED] == [i for i, hidden in searched.rows.items() if not hidden]


def _dump(page, suffix, tmp_path) -> "_Rows":
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri() + suffix],
        capture_output=True, text=True, timeout=120)
    assert 'data-ready="1"' in result.stdout, result.stderr[-2000:]
    parser = _Rows()
    parser.feed(result.stdout)
    return parser


class _Rows(HTMLParser):
    """Clause rows of the page (id -> hidden) and the text of the "shown" counter."""

    def __init__(self):
        super().__init__()
        self.rows, self.text, self._in_shown = {}, "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "clause-row":
            self.rows[attrs["id"]] = "hidden" in attrs
        self._in_shown = attrs.get("id") == "shown"

    def handle_data(self, data):
        if self._in_shown:
            self.text += data
