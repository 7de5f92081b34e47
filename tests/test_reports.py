"""``lightning-conformance report``: the Markdown matrix, the HTML page and JUnit XML."""

import json
import os
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
from lightning_conformance.reports.matrix import ReportError, build_matrix, column_of, load_matrix
from lightning_conformance.reports.model import Result, Subject
from lightning_conformance.reports.schema import SCHEMA_ID, Report
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


STATUSES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "warned")
LENET = {"kind": "module", "name": "LeNet", "version": None,
         "runs_on": {"kind": "target", "name": "lightning", "version": "2.6.6"}}


def _clause(clause_id, status="passed", message="", reproduction=""):
    case = {"nodeid": f"test_x.py::{clause_id}", "status": status, "message": message,
            "duration": 0.25}
    return {"id": clause_id, "area": clause_id.split("-")[0],
            "sentence": REGISTRY[clause_id].sentence, "source": "s", "status": status,
            "message": message, "reproduction": reproduction, "duration": 0.25,
            "cases": [case]}


def _write(directory, target, version, clauses, created="2026-01-01T00:00:00+00:00",
           subject=None):
    subject = subject or {"kind": "target", "name": target, "version": version}
    counts = {s: sum(c["status"] == s for c in clauses) for s in STATUSES}
    report = {"$schema": SCHEMA_ID, "schema_version": 2, "kit_version": "0.1.0",
              "subject": subject, "contract_version": version,
              "torch_version": "2.13.0", "python_version": "3.11.7", "device": "cpu",
              "platform": "linux", "created": created,
              "counts": {**counts, "total": len(clauses)}, "stale_deviations": [],
              "clauses": clauses}
    jsonschema.validate(report, SCHEMA)
    path = directory / f"{target}-{version}" / f"{target}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(report))
    return path


def _version_1(report: dict) -> dict:
    """The same report as `run` wrote it before schema version 2."""
    subject = report.pop("subject")
    for clause in report["clauses"]:
        clause.pop("reproduction")
        clause["skip_reason"] = clause["message"] if clause["status"] == "skipped" else None
    report["counts"].pop("warned")
    return report | {"$schema": "https://lightning-conformance.invalid/schema/report/1",
                     "schema_version": 1, "target": subject["name"],
                     "target_version": subject["version"]}


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
    assert {"passed": 0, "variant": 1, "warned": 0, "failed": 1, "skipped": 1,
            "deviation": 1, "stale": 0, "missing": 0} == matrix.counts(0)


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


def test_a_schema_version_1_report_reads_as_its_target(tree):
    path = tree / "pytorch_lightning-2.0.9.post0" / "pytorch_lightning.json"
    before = load_matrix([tree])
    path.write_text(json.dumps(_version_1(json.loads(path.read_text()))))
    after = load_matrix([tree])

    assert [c.label for c in before.columns] == [c.label for c in after.columns]
    assert before.rows == after.rows


def _module_tree(tree):
    """The tree with LeNet's checks beside the targets: one warns, one fails with a script."""
    mod = sorted(i for i in REGISTRY if i.startswith("MOD-"))[:3]
    _write(tree / "mod", "lightning", "2.6.6", [_clause(i) for i in mod])  # merges
    _write(tree, "LeNet", "2.6.6", [
        _clause(mod[0]), _clause(mod[1], "warned", "a risk <here>"),
        _clause(mod[2], "failed", "broken", "import lenet  # reproduces it")], subject=LENET)
    return mod


def test_a_module_report_is_one_more_column_aligned_with_the_mod_rows(tree):
    mod = _module_tree(tree)
    matrix = load_matrix([tree])
    module = matrix.columns[-1]
    rows = {row.id: row for row in matrix.rows}

    assert ("LeNet on lightning 2.6.6", "module") == (module.label, module.subject.kind)
    assert ["passed", "warned", "failed"] == [rows[i].cells[-1].kind for i in mod]
    assert ["passed"] * 3 == [rows[i].cells[1].kind for i in mod]
    assert "missing" == rows[FAILED].cells[-1].kind
    assert {"passed": 1, "variant": 0, "warned": 1, "failed": 1, "skipped": 0, "deviation": 0,
            "stale": 0, "missing": 4} == matrix.counts(2)


def test_a_module_column_renders_in_markdown_html_and_junit(tree):
    mod = _module_tree(tree)
    matrix = load_matrix([tree])
    text = markdown(matrix)
    page = html_page(matrix)
    suite = ET.fromstring(junit_xml(matrix).encode()).findall("testsuite")[-1]
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    name = "[LeNet on lightning 2.6.6]"

    assert text.startswith("# Lightning conformance: 7 clauses × 2 targets and 1 module\n")
    assert "| LeNet<br>module on lightning 2.6.6 |" in text
    assert f"**{mod[2]}** FAILED on LeNet on lightning 2.6.6" in text
    assert "a risk &lt;here&gt;" in text and "a risk &lt;here&gt;" in page
    assert '<span class="version">module on lightning 2.6.6</span>' in page
    assert ("LeNet on lightning 2.6.6", "3", "1") == (
        suite.get("name"), suite.get("tests"), suite.get("failures"))
    assert "import lenet  # reproduces it" in cases[f"{mod[2]} {name}"].find("failure").text
    assert "warning: a risk <here>" == cases[f"{mod[1]} {name}"].find("system-out").text


NOT_XML = "\x1b[31mred\x1b[0m \x00\x07\x08\x0b\x0c\x1f \ud800 \ufffe"


def test_junit_is_valid_xml_whatever_messages_names_and_reproductions_hold():
    subject = Subject("module", f"Le{NOT_XML}Net", None, Subject("target", NOT_XML, "2.6.6"))
    statuses = ("failed", "error", "skipped", "xfailed", "warned", "xpassed")
    results = [Result(f"MOD-00{n}", status, f"why {NOT_XML}\nline 2", f"print() {NOT_XML}",
                      f"sentence {NOT_XML}", subject=subject, contract="2.6.6")
               for n, status in enumerate(statuses, start=1)]
    column = column_of(Report(subject, "2.6.6", NOT_XML, tuple(results)))

    root = ET.fromstring(junit_xml(build_matrix([column], registry={})).encode())
    texts = [root.find("testsuite").get("name")] + [
        value for element in root.iter() for value in (element.text, *element.attrib.values())
        if value]

    assert 6 == len(root.findall("testsuite/testcase"))
    assert "Le?[31mred?[0m ?????? ? ?Net on ?[31mred?[0m ?????? ? ? 2.6.6" == texts[0]
    assert any("print() ?[31mred" in text for text in texts)
    assert not any(char in text for text in texts for char in "\x1b\x00\x07\ud800\ufffe")


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
    assert stdout.startswith("# Lightning conformance: 4 clauses × 1 target\n")


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
    wide = {**os.environ, "COLUMNS": "200"}  # no line wrapped
    result = cli("run", "--target", "reference", "--target",
                 "tests.mutants:module_prepare_data_first", "--area", "HOOK",
                 "-k", "test_prepare_data_order", "--report-dir", str(tmp_path), env=wide)
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
