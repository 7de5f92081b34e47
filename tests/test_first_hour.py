"""The first hour with the kit (issue 16): bad output paths, damaged reports, one-line
argument errors, flags checked before anything heavy, --version, the --init-args hint, the
diff warning, progress lines, output wrapped to the terminal, and the README's references."""

import io
import json
import re
import sys
from contextlib import redirect_stdout
from importlib.metadata import version

import lightning
import pytest

import lightning_conformance
from lightning_conformance import CHECKS
from lightning_conformance.checks import _engine
from lightning_conformance.cli import main
from lightning_conformance.reports import schema
from lightning_conformance.reports.model import Result, Subject
from tests.conftest import ROOT, run_cli

SPECS = "tests.fixtures.check_specs"
PROG = "lightning-conformance"
WIDTH = 60  # columns of the terminal the wrapping tests pretend to have


def _main(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(code, out, err, message):
    assert 2 == code, out + err
    assert "" == out
    assert 1 == len(err.splitlines()), err
    assert err.startswith(f"{PROG}: error: ") and message in err, err
    assert "Traceback" not in err


def _overrunning(lines, width=WIDTH):
    """The lines wider than ``width`` that could have been broken: more than one word."""
    return [line for line in lines if len(line) > width and " " in line.strip()]


# ---- output paths: checked before anything runs --------------------------------------------

@pytest.fixture
def blocker(tmp_path):
    """A regular file: no path below it can be written, even by root."""
    path = tmp_path / "a-file"
    path.write_text("")
    return path


@pytest.fixture
def report_file(tmp_path):
    results = [Result("HOOK-001", "passed", sentence="s", source="src")]
    document = schema.document(Subject("target", "reference", "0.1.0"), "2.6.6", results,
                               device="cpu")
    return schema.write(tmp_path / "in" / "reference.json", document)


RUN = ["run", "--target", "reference", "--area", "HOOK", "-k", "test_prepare_data_order"]
CHECK = ["check", f"{SPECS}:make_good"]


@pytest.mark.parametrize("args, message", [
    ([*RUN, "--report-dir", "{blocker}/reports"], "a-file is a file, so nothing can be written"),
    ([*RUN, "--report-dir", "{blocker}"], "--report-dir {blocker}: is a file, not a directory"),
    ([*CHECK, "--json", "{blocker}/r.json"], "--json {blocker}/r.json: "),
    ([*CHECK, "--json", "{tmp}"], "--json {tmp}: is a directory; give a file name"),
    ([*CHECK, "--junit", "{blocker}/deeper/r.xml"], "--junit {blocker}/deeper/r.xml: "),
    ([*CHECK, "--report-dir", "{blocker}/scripts"], "--report-dir {blocker}/scripts: "),
    (["report", "{report}", "--markdown", "{blocker}/m.md"], "--markdown {blocker}/m.md: "),
    (["report", "{report}", "--html", "{tmp}"], "--html {tmp}: is a directory"),
    (["report", "{report}", "--junit", "{blocker}/j.xml"], "--junit {blocker}/j.xml: "),
])
def test_an_unusable_output_path_exits_2_in_one_line_before_anything_runs(
        capsys, tmp_path, blocker, report_file, args, message):
    names = {"blocker": blocker, "tmp": tmp_path, "report": report_file}
    code, out, err = _main(capsys, *[arg.format(**names) for arg in args])

    _one_error_line(code, out, err, message.format(**names))


# ---- report: damaged files are named, the rest are read -------------------------------------

def _damaged(good: dict) -> dict[str, str]:
    """File name -> text of a damaged report, each broken in one way."""
    without_subject = {key: value for key, value in good.items() if key != "subject"}
    without_status = json.loads(json.dumps(good))
    del without_status["clauses"][0]["status"]
    return {"corrupt.json": json.dumps(good)[:40],
            "future.json": json.dumps(good | {"schema_version": 99}),
            "null-clause.json": json.dumps(good | {"clauses": [None]}),
            "no-subject.json": json.dumps(without_subject),
            "no-status.json": json.dumps(without_status)}


REASONS = {"corrupt.json": "not valid JSON",
           "future.json": "schema_version 99 is not one this kit reads",
           "null-clause.json": "clause entry 1 is null, not an object",
           "no-subject.json": "the report lacks the field 'subject'",
           "no-status.json": "clause entry 1 (HOOK-001) lacks the field 'status'"}


def _entries(err: str) -> list[str]:
    """stderr's messages, each with its wrapped continuation lines joined back."""
    return [" ".join(entry.split()) for entry in re.split(r"\n(?! )", err.strip())]


def test_report_names_each_file_it_cannot_read_and_reads_the_rest(
        capsys, monkeypatch, report_file):
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    for name, text in _damaged(json.loads(report_file.read_text())).items():
        (report_file.parent / name).write_text(text)
    (report_file.parent / "timings.json").write_text("{}")  # other JSON: passed over

    code, out, err = _main(capsys, "report", str(report_file.parent))
    entries = _entries(err)

    assert 0 == code, err
    assert out.startswith("# Lightning conformance: 1 clauses × 1 target\n")
    assert len(REASONS) + 1 == len(entries), err  # and the count line
    for name, reason in REASONS.items():
        path = report_file.parent / name
        assert any(e.startswith(f"{PROG}: cannot read {path}: {reason}") for e in entries), err
    assert [] == _overrunning(err.splitlines())


def test_report_exits_2_when_no_file_could_be_read(capsys, report_file):
    (report_file.parent / "future.json").write_text(
        json.dumps(json.loads(report_file.read_text()) | {"schema_version": 99}))
    report_file.unlink()

    code, out, err = _main(capsys, "report", str(report_file.parent))
    entries = _entries(err)

    assert 2 == code and "" == out
    assert 2 == len(entries), err
    assert entries[0].startswith(f"{PROG}: cannot read {report_file.parent / 'future.json'}: ")
    assert f"{PROG}: error: none of the 1 report file(s) could be read" == entries[1]


# ---- the command line: --version, argparse's errors, flags before imports ------------------

def test_version_prints_the_kit_and_its_version():
    result = run_cli("--version", timeout=120)

    assert (0, f"{PROG} {version('lightning-conformance')}\n") == (result.returncode,
                                                                   result.stdout)


@pytest.mark.parametrize("args, message", [
    (["run", "--no-such-option"], "unrecognized arguments: --no-such-option (see "
     f"{PROG} run --help)"),
    ([], "the following arguments are required: command"),
    (["check"], "the following arguments are required: spec"),
    (["check", "x:Y", "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    (["check", "x:Y", "--ddp", "two"], "argument --ddp: invalid int value: 'two'"),
    (["nope"], "argument command: invalid choice: 'nope'"),
])
def test_an_argument_error_is_one_line_with_a_pointer_to_help(capsys, args, message):
    code, out, err = _main(capsys, *args)

    _one_error_line(code, out, err, message)
    assert err.rstrip().endswith("--help)")


# Prints which heavy packages the command imported, after it ran.
IMPORTS = ("import sys; from lightning_conformance.cli import main; code = main(sys.argv[1:]); "
           "print(*[m for m in ('torch', 'lightning', 'pytorch_lightning') if m in sys.modules]);"
           " sys.exit(code)")


@pytest.fixture
def spec_file(tmp_path):
    """A module file that leaves a mark when it is imported."""
    path = tmp_path / "marks_its_import.py"
    path.write_text("import pathlib\npathlib.Path(__file__).with_suffix('.imported').touch()\n"
                    "from tests.fixtures.broken_modules import Good as Model\n")
    return path


@pytest.mark.parametrize("args, message, imported", [
    (["--ddp", "1"], "--ddp 1: use 0 (no DDP checks) or 2", ""),
    (["--init-args", "{lr: 1}"], "--init-args is not valid JSON", ""),
    (["--init-args", "[1]"], "--init-args must be a JSON object", ""),
    (["--device", "cuda"], "--device cuda: torch sees no CUDA device", "torch"),
])
def test_a_bad_flag_is_refused_before_the_module_is_imported(spec_file, args, message,
                                                              imported):
    import torch

    if args[0] == "--device" and torch.cuda.is_available():
        pytest.skip("torch sees a CUDA device here")
    result = run_cli_script(IMPORTS, "check", f"{spec_file}:Model", *args)

    _one_error_line(result.returncode, "", result.stderr, message)
    assert imported == result.stdout.strip()  # neither Lightning nor (but for cuda) torch
    assert not spec_file.with_suffix(".imported").exists()


def run_cli_script(script, *args):
    import subprocess

    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_a_class_that_needs_arguments_is_told_the_init_args_to_give(capsys, tmp_path):
    path = tmp_path / "needs_init_args.py"
    path.write_text("from tests.fixtures.broken_modules import Good\n\n\n"
                    "class NeedsArgs(Good):\n"
                    "    def __init__(self, width: int, rate: float, name='x', *, deep):\n"
                    "        super().__init__()\n")
    code, out, err = _main(capsys, "check", f"{path}:NeedsArgs", "--init-args", '{"deep": 2}')
    example = json.loads(err.rpartition("--init-args ")[2].strip().strip("'"))

    _one_error_line(code, out, err, "NeedsArgs() needs width, rate: give them with --init-args")
    assert {"deep": 2, "width": 1, "rate": 0.01} == example


# ---- diff: versions outside the matrix ------------------------------------------------------

@pytest.mark.parametrize("old, new, outside", [("2.6", "3.0", "3.0 is"), ("1.8", "2.6", "1.8 is"),
                                               ("2.0", "2.6", None)])
def test_diff_warns_for_a_version_outside_the_matrix_and_answers(capsys, old, new, outside):
    code, out, err = _main(capsys, "diff", old, new)

    assert 0 == code
    assert out.rstrip().endswith(f"differ between the {old} and {new} contracts")
    if outside is None:
        assert "" == err
    else:
        assert [f"{PROG}: warning: {outside} outside the Lightning versions the kit knows "
                "(1.9, 2.0-2.6): the clauses answer for it, unchecked"] == err.splitlines()


def test_conformance_warning_is_exported():
    from lightning_conformance.checks import ConformanceWarning

    assert "ConformanceWarning" in lightning_conformance.__all__
    assert ConformanceWarning is lightning_conformance.ConformanceWarning


# ---- progress and width ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def checked():
    """``check`` on a good module in a 60-column terminal: its exit code, its output, and the
    output it had written when the DDP stage began."""
    before_ddp, out = [], io.StringIO()

    def evaluate(ctx, check, original=_engine._evaluate):
        if check.function.__module__.endswith(".ddp") and not before_ddp:
            before_ddp.append(out.getvalue())
        return original(ctx, check)

    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out):
        patch.setenv("COLUMNS", str(WIDTH))
        patch.setattr(_engine, "_evaluate", evaluate)
        code = main(CHECK)
    return code, out.getvalue(), before_ddp[0]


STAGES = ["static checks", "configure_optimizers and monitors",
          "fit, validate, test and predict runs", "training steps and seeded fits",
          "checkpoint round trip and resume", "manual optimization", "devices and pickling", "DDP"]


def test_check_names_the_lightning_it_runs_on(checked):
    from lightning_conformance.reports.terminal import check_header

    code, out, _ = checked

    assert 0 == code, out
    assert f"{PROG} check {SPECS}:make_good on lightning {lightning.__version__}" == \
        " ".join(out.split("[1/")[0].split())
    on_pl = Subject("module", "M", None, Subject("target", "pytorch_lightning", "2.6.6"))
    assert "lightning-conformance check m.py:M on pytorch_lightning 2.6.6" == check_header(
        "m.py:M", on_pl)


def test_check_prints_a_line_per_stage_as_it_goes(checked):
    _, out, before_ddp = checked
    lines = [line for line in out.splitlines() if line.startswith("[")]
    counts = [re.findall(r"(\d+) (?:passed|skipped|warned|failed)", line) for line in lines]

    assert [f"[{i}/{len(STAGES)}] {stage}: " for i, stage in enumerate(STAGES, 1)] == [
        line.partition(": ")[0] + ": " for line in lines]
    assert len(CHECKS) == sum(int(n) for found in counts for n in found)
    assert out.index(lines[-1]) < out.index("MOD-001  passed")
    assert f"[{len(STAGES) - 1}/{len(STAGES)}] devices and pickling: " in before_ddp


def test_check_wraps_its_lines_to_the_terminal(checked):
    _, out, _ = checked

    assert [] == _overrunning(out.splitlines())
    assert "MOD-005  passed   Every overridden hook accepts the\n" + " " * 18 + "arguments" in out


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """``run`` of one HOOK and one MAN clause on the reference and on a mutant that fails the
    HOOK one, in a 60-column terminal: its output lines."""
    import os

    result = run_cli("run", "--target", "reference", "--target",
                     "tests.mutants:module_prepare_data_first", "--area", "HOOK", "--area",
                     "MAN", "-k", "test_prepare_data_order or test_manual_backward_hooks",
                     "--report-dir", str(tmp_path_factory.mktemp("reports")),
                     env={**os.environ, "COLUMNS": str(WIDTH)})
    assert 1 == result.returncode, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_run_prints_a_line_per_area_then_per_target(ran):
    progress = [line for line in ran if re.match(r"  (HOOK|MAN) on |\[\d/2\]", line)]
    expected = ["  HOOK on reference 0.1.0: 1 passed, 0 failed",
                "  MAN on reference 0.1.0: 1 passed, 0 failed",
                "[1/2] reference 0.1.0: 2 passed, 0 failed",
                "  HOOK on mutant-module-prepare-data-first 0.1.0:",
                "  MAN on mutant-module-prepare-data-first 0.1.0:",
                "[2/2] mutant-module-prepare-data-first 0.1.0:"]

    assert len(expected) == len(progress), "\n".join(ran)
    assert all(map(str.startswith, progress, expected)), progress
    assert ran.index(progress[-1]) < ran.index(next(x for x in ran if x.startswith("area")))


def test_run_wraps_its_summary_to_the_terminal(ran):
    assert "FAILED HOOK-007 on mutant-module-prepare-data-first 0.1.0:" in ran  # then wrapped
    assert [] == _overrunning(ran)


# ---- the README ---------------------------------------------------------------------------

README = (ROOT / "README.md").read_text()


def test_the_readme_links_and_names_only_files_that_exist():
    linked = re.findall(r"\]\(([^)#:]+)\)", README)
    named = set(re.findall(r"\b([A-Z][A-Z_]+\.md)\b", README))
    files = {path.name for path in ROOT.rglob("*.md") if ".venv" not in path.parts}

    assert [] == [link for link in linked if not (ROOT / link).exists()]
    assert set() == named - files  # DESIGN.md is not part of the repository


def test_the_readme_example_of_parametrize_with_checks_uses_real_example_classes():
    block = next(b for b in re.findall(r"```python\n(.*?)```", README, re.S)
                 if "@parametrize_with_checks" in b)
    imported = dict(re.findall(r"^from (\w+) import (\w+)", block, re.M))
    listed = re.search(r"parametrize_with_checks\(\[([^\]]*)\]", block).group(1)

    for name in (n.strip() for n in listed.split(",")):
        module = next(m for m, imported_name in imported.items() if imported_name == name)
        assert re.search(rf"^class {name}\b", (ROOT / "examples" / f"{module}.py").read_text(),
                         re.M), (module, name)
