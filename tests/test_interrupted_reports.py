"""Reports under interrupts: `report` stopped by a signal, the incomplete mark in the JSON
report and in every rendering, and report files that are never half-written or replaced by
an interrupted run's (the commands under a signal: tests/test_interrupts.py)."""

import json
import os
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from lightning_conformance.cli import main
from lightning_conformance.reports import schema
from lightning_conformance.reports.model import Result, Subject
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "conformance" / "report.schema.json").read_text())
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def write_report(path: Path, interrupted: bool) -> Path:
    """A report of two clauses for ``path`` (``schema.write``); where it went."""
    results = [Result("HOOK-001", "passed", sentence="a clause"),
               Result("HOOK-002", "failed", "it broke", sentence="another")]
    return schema.write(path, schema.document(Subject("target", "reference", "0.1.0"), "2.6.6",
                                              results, device="cpu", interrupted=interrupted))


@pytest.fixture
def sigterm_guard():
    """Without the kit's handler a SIGTERM would end this test run: fail the test instead."""
    def fail(signum, frame):
        raise AssertionError("SIGTERM reached the handler the kit should have replaced")

    previous = signal.signal(signal.SIGTERM, fail)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_report_leaves_whole_outputs_and_one_line(
        tmp_path, monkeypatch, capsys, sigterm_guard, signum):
    from lightning_conformance.reports import html

    def interrupted_page(matrix):
        os.kill(os.getpid(), signum)
        return "never written"

    monkeypatch.setattr(html, "html_page", interrupted_page)
    source = write_report(tmp_path / "reports" / "reference.json", interrupted=False)
    out = {name: tmp_path / "out" / name for name in ("m.md", "p.html", "j.xml")}
    code = main(["report", str(source), "--markdown", str(out["m.md"]), "--html",
                 str(out["p.html"]), "--junit", str(out["j.xml"])])

    assert EXIT[signum] == code
    assert (f"lightning-conformance: interrupted after 1 outputs written "
            f"({signal.Signals(signum).name}); wrote {out['m.md']}\n") == capsys.readouterr().err
    assert out["m.md"].read_text().startswith("# Lightning conformance: 2 clauses")
    assert ["m.md"] == sorted(p.name for p in (tmp_path / "out").iterdir())  # no temp file


def test_report_marks_an_interrupted_run_in_every_rendering_and_exits_1(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # the stderr lines unwrapped
    source = write_report(tmp_path / "reference.json", interrupted=True)
    md, page, xml = tmp_path / "m.md", tmp_path / "p.html", tmp_path / "j.xml"
    code = main(["report", str(source), "--markdown", str(md), "--html", str(page),
                 "--junit", str(xml)])
    mark = (f"INCOMPLETE: reference 0.1.0 comes (in part) from a run that was interrupted "
            f"before all its clauses had run ({source})")

    assert 1 == code
    assert source.name == "reference.interrupted.json"
    assert capsys.readouterr().err.splitlines()[1:] == [mark]
    markdown = md.read_text().splitlines()
    assert markdown[0].endswith("(INCOMPLETE)") and f"> ⚠ **{mark}**" in markdown
    assert "<br>**INCOMPLETE** |" in md.read_text()
    assert "INCOMPLETE: reference 0.1.0 comes" in page.read_text()
    suite = ET.parse(xml).getroot().find("testsuite")
    error = suite.find("testcase[@name='complete run [reference 0.1.0]']/error")
    assert (mark, "1", "3") == (error.get("message"), suite.get("errors"), suite.get("tests"))


def test_report_of_a_complete_run_has_no_mark(tmp_path, capsys):
    source = write_report(tmp_path / "reference.json", interrupted=False)

    assert 0 == main(["report", str(source)])
    assert "INCOMPLETE" not in str(capsys.readouterr())


# ---- the JSON report ----------------------------------------------------------------------

def test_an_interrupted_report_is_marked_and_a_complete_one_is_as_before(tmp_path):
    complete = json.loads(write_report(tmp_path / "a.json", interrupted=False).read_text())
    partial = json.loads(write_report(tmp_path / "b.json", interrupted=True).read_text())

    jsonschema.validate(complete, SCHEMA)
    jsonschema.validate(partial, SCHEMA)
    assert "interrupted" not in complete and partial["interrupted"] is True
    assert (False, True) == (schema.parse(complete, "a").interrupted,
                             schema.parse(partial, "b").interrupted)
    with pytest.raises(schema.ReportError, match="'interrupted' is 'yes', not true or false"):
        schema.parse(partial | {"interrupted": "yes"}, "b")


def test_an_interrupted_report_goes_beside_the_complete_one_which_later_replaces_it(tmp_path):
    complete = write_report(tmp_path / "reference.json", interrupted=False).read_bytes()
    partial = write_report(tmp_path / "reference.json", interrupted=True)

    assert complete == (tmp_path / "reference.json").read_bytes()
    assert partial == tmp_path / "reference.interrupted.json"
    write_report(tmp_path / "reference.json", interrupted=False)
    assert ["reference.json"] == sorted(p.name for p in tmp_path.iterdir())


def test_a_report_stopped_while_it_is_written_leaves_the_old_one_whole(tmp_path, monkeypatch):
    old = write_report(tmp_path / "reference.json", interrupted=False).read_bytes()

    def stopped(source, destination):
        raise KeyboardInterrupt  # the signal, between writing the new text and renaming it

    monkeypatch.setattr(os, "replace", stopped)
    with pytest.raises(KeyboardInterrupt):
        schema.write_text(tmp_path / "reference.json", "{}")
    assert old == (tmp_path / "reference.json").read_bytes()
    assert ["reference.json"] == sorted(p.name for p in tmp_path.iterdir())
