"""`lightning-conformance check`: exit codes, one-line input errors, the report files."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from lightning_conformance import CHECKS, run_check
from lightning_conformance.checks import _engine, by_id
from lightning_conformance.cli import main
from tests.conftest import ROOT
from tests.fixtures.broken_modules import BROKEN as BROKEN_MODULES

BROKEN = "tests.fixtures.broken_modules"
SPECS = "tests.fixtures.check_specs"
SCHEMA = json.loads((ROOT / "conformance" / "report.schema.json").read_text())


def _check(capsys, *args):
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_conforming_module_exits_0_with_a_line_per_check(capsys):
    code, out, err = _check(capsys, f"{SPECS}:make_good")

    assert 0 == code, out + err
    assert "MOD-001  passed   The module defines training_step." in out
    assert out.strip().splitlines()[-1].startswith(f"{len(CHECKS)} checks: ")


def test_a_module_with_its_datamodule_exits_0(capsys):
    code, out, err = _check(capsys, f"{SPECS}:NeedsDataModule", "--datamodule",
                            f"{SPECS}:DataModule", "--init-args", '{"hidden": 4}')

    assert 0 == code, out + err


def test_a_failing_check_exits_1_and_writes_the_reports(capsys, tmp_path):
    code, out, err = _check(capsys, f"{BROKEN}:UnusedLayer", "--report-dir", str(tmp_path),
                            "--json", str(tmp_path / "r.json"), "--junit",
                            str(tmp_path / "r.xml"))
    report = json.loads((tmp_path / "r.json").read_text())
    results = report["clauses"]
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")

    assert 1 == code, out + err
    assert "MOD-015  FAILED" in out and "head.weight, head.bias never received" in out
    jsonschema.validate(report, SCHEMA)
    assert ("module", "UnusedLayer") == (report["subject"]["kind"], report["subject"]["name"])
    assert {"MOD-015"} == {r["id"] for r in results if r["status"] == "failed"}
    assert "Reproduces MOD-015" in next(r for r in results if r["id"] == "MOD-015")[
        "reproduction"]
    assert len(CHECKS) == len(suite.findall("testcase")) == int(suite.get("tests"))
    assert 1 == len(suite.findall("testcase/failure")) == int(suite.get("failures"))
    assert len(suite.findall("testcase/skipped")) == int(suite.get("skipped")) >= 1
    script = tmp_path / "reproduce_MOD_015.py"
    assert f"reproduce: python {script}" in out
    compile(script.read_text(), str(script), "exec")


def test_the_json_of_check_is_one_more_column_of_report(capsys, tmp_path):
    _check(capsys, f"{BROKEN}:UnusedLayer", "--json", str(tmp_path / "r.json"))
    code = main(["report", str(tmp_path / "r.json")])
    out, err = capsys.readouterr()

    assert 0 == code, err
    assert out.startswith(f"# Lightning conformance: {len(CHECKS)} clauses × 1 module\n")
    assert "| UnusedLayer<br>module on lightning " in out
    assert "**MOD-015** FAILED on UnusedLayer on lightning " in out


def _record_evaluations(monkeypatch) -> list[str]:
    """The clause of every check the engine evaluates, in order (a cached result is not)."""
    seen = []

    def counted(ctx, check, evaluate=_engine._evaluate):
        seen.append(check.id)
        return evaluate(ctx, check)

    monkeypatch.setattr(_engine, "_evaluate", counted)
    return seen


@pytest.mark.parametrize("spec, code", [(f"{SPECS}:make_good", 0), (f"{BROKEN}:NoTrainData", 2)])
def test_mod_002_is_evaluated_once_per_check(capsys, monkeypatch, spec, code):
    seen = _record_evaluations(monkeypatch)

    assert code == _check(capsys, spec)[0]
    assert 1 == seen.count("MOD-002")
    assert (code == 2) == (["MOD-002"] == seen)  # no data: no other check runs


@pytest.mark.parametrize("args, message", [
    (["no_colon_here"], "must look like package.module:Name"),
    (["no_such_package.models:Model"], "does not import: ModuleNotFoundError"),
    (["missing/file.py:Model"], "no such file"),
    ([f"{BROKEN}:NoSuchName"], "has no 'NoSuchName'"),
    (["collections:OrderedDict"], "is not a LightningModule"),
    ([f"{BROKEN}:NoTrainData"], "no training data"),
    ([f"{SPECS}:NeedsDataModule"], "no training data"),
    ([f"{BROKEN}:Good", "--init-args", "{lr: 1}"], "--init-args is not valid JSON"),
    ([f"{BROKEN}:Good", "--init-args", "[1]"], "must be a JSON object"),
    ([f"{BROKEN}:Good", "--init-args", '{"nope": 1}'], "unexpected keyword argument 'nope'"),
    ([f"{BROKEN}:Good", "--ddp", "1"], "--ddp 1"),
    ([f"{BROKEN}:Good", "--target", "pytorch_lightning"], "does not derive from"),
])
def test_input_that_cannot_be_checked_exits_2_with_one_line(capsys, args, message):
    code, out, err = _check(capsys, *args)

    assert 2 == code
    assert "" == out
    assert 1 == len(err.strip().splitlines()), err
    assert message in err
    assert err.startswith("lightning-conformance: error: ")


def test_a_file_spec_is_imported_by_path(capsys):
    code, out, err = _check(capsys, "tests/fixtures/check_specs.py:make_good")

    assert 0 == code, out + err


def test_a_checkpoint_that_weights_only_refuses_is_never_unpickled(capsys, monkeypatch, tmp_path):
    tripwire = tmp_path / "unpickled.txt"  # written by anything that unpickles the checkpoint
    monkeypatch.setenv("LCK_TEST_TRIPWIRE", str(tripwire))
    monkeypatch.setenv("COLUMNS", "1000")  # the located path on one line
    code, out, err = _check(capsys, "tests.fixtures.tripwire:make_tripwire")
    skipped = "the checkpoint holds objects that torch.load(weights_only=True) refuses (MOD-023"

    assert code in (0, 1), out + err
    assert re.search(r"^MOD-023  (FAILED|warned) ", out, re.M), out
    assert not tripwire.exists(), tripwire.read_text()
    assert "at checkpoint['hyper_parameters']['tripwire']" in out  # located without its code
    for clause in ("MOD-021", "MOD-022", "MOD-024"):
        assert re.search(rf"^{clause}  skipped .*\n +- {re.escape(skipped)}", out, re.M), out


def test_no_check_message_points_at_a_script_by_itself():
    assert [] == [c.id for c in CHECKS if re.search(r"script|reproduc", c.fix)]


def test_a_failure_names_its_script_only_once_it_is_written(capsys, tmp_path):
    code, out, err = _check(capsys, f"{BROKEN}:TrainingStepCrashes")

    assert 1 == code, out + err
    assert "MOD-010  FAILED" in out
    assert not re.search("script|reproduc", out), out

    code, out, err = _check(capsys, f"{BROKEN}:TrainingStepCrashes", "--report-dir",
                            str(tmp_path))
    script = tmp_path / "reproduce_MOD_010.py"

    assert f"reproduce: python {script}" in out and script.is_file()


def _run_script(path, cwd):
    return subprocess.run([sys.executable, str(path)], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


# A failure of each kind: a fit that completes (MOD-007), a run that raises (MOD-010), the
# checkpoint (MOD-021), manual optimization (MOD-026), an option of the check (MOD-029: ddp=2)
REPRODUCED = ("MOD-007", "MOD-010", "MOD-021", "MOD-026", "MOD-029")


@pytest.mark.parametrize("clause", REPRODUCED)
def test_a_reproduction_script_fails_with_the_checks_own_message(tmp_path, clause):
    options = {"ddp": 2} if "ddp" in by_id(clause).needs else {}
    result = run_check(by_id(clause), BROKEN_MODULES[clause][0], **options)
    script = tmp_path / "reproduce.py"
    script.write_text(result.reproduction)  # what check --report-dir writes for it
    ran = _run_script(script, tmp_path)

    assert ("failed", 1) == (result.status, ran.returncode), ran.stdout + ran.stderr
    assert f"{clause} FAILED: {result.message}\n" in ran.stderr


def test_a_reproduction_script_shows_the_traceback_of_the_error(tmp_path):
    result = run_check(by_id("MOD-010"), BROKEN_MODULES["MOD-010"][0])
    script = tmp_path / "reproduce.py"
    script.write_text(result.reproduction)
    ran = _run_script(script, tmp_path)

    assert 1 == ran.returncode
    assert re.search(r"Traceback \(most recent call last\):\n(.*\n)*.*in training_step\n"
                     r".*\nValueError: a bug in the second training batch", ran.stderr)


def test_a_reproduction_script_exits_0_once_the_module_is_fixed(capsys, tmp_path):
    model = tmp_path / "lck_model_to_fix.py"
    model.write_text(f"from {BROKEN} import HalfOptimized as Model\n")
    code, out, err = _check(capsys, f"{model}:Model", "--report-dir", str(tmp_path / "out"))
    script = tmp_path / "out" / "reproduce_MOD_007.py"
    broken = _run_script(script, tmp_path)
    model.write_text(f"from {BROKEN} import Good as Model  # fixed\n")
    fixed = _run_script(script, tmp_path)

    assert (1, 1, 0) == (code, broken.returncode, fixed.returncode), fixed.stderr
    assert "MOD-007 FAILED: no optimizer holds" in broken.stderr
    assert "MOD-007 passed\n" == fixed.stdout
