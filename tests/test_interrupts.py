"""SIGINT and SIGTERM: `run` and `check` end with one line and exit 130 or 143, leave no
process and no temporary folder behind, and mark (never pass off) an incomplete report
(`report` and the report files: tests/test_interrupted_reports.py).

The real-process tests wait for what they can see (a rank in the process table, a file the
module writes) and never for a length of time. A rank they catch is stopped (SIGSTOP) before
the signal goes to the kit, so the signal lands while the launch runs however loaded the
machine is; what the kit promises ("nothing of it is left") is checked once the command has
exited, which is sooner than the 2 s it promises.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from lightning_conformance.cli import main
from lightning_conformance.session import interrupts
from tests.conftest import ROOT
from tests.flake import leftover_processes
from tests.test_interrupted_reports import SCHEMA, write_report

EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
WAIT = 300  # seconds: a bound for what must happen, never a time that must pass
RANK = "lightning_conformance.ddp.worker"  # in every rank's command line (ddp/launch.py)
BLOCKING_MODULE = '''
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, {examples!r})
from lenet import LeNet


class BlockingLeNet(LeNet):
    """LeNet whose training step says that it runs, then waits for the test's signal."""

    def training_step(self, batch, batch_idx):
        Path(os.environ["LCK_TEST_MARKER"]).touch()
        deadline = time.monotonic() + {wait}  # a bound only: the signal comes first
        while time.monotonic() < deadline:
            time.sleep(0.05)
        return super().training_step(batch, batch_idx)
'''


# ---- the process table ------------------------------------------------------------------

def _ranks(process: subprocess.Popen) -> dict[int, str]:
    """The live DDP ranks of the command (its session), each with its launch's folder (the
    rank's last argument)."""
    return {pid: line.split()[-1] for pid, line in leftover_processes(process.pid)
            if RANK in line}


def _until(found, process: subprocess.Popen, what: str):
    """Poll ``found()`` until it gives something; fail if the command exits first."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the command exited ({process.returncode}) before {what}:\n"
                        + process.stdout.read() + process.stderr.read())
        time.sleep(0.05)  # a polling interval, not a wait that must be long enough
    pytest.fail(f"no {what} within {WAIT} s")


# ---- starting and cleaning up -------------------------------------------------------------

@pytest.fixture
def kit(tmp_path):
    """Start ``lightning-conformance`` in a session of its own (every process it starts is
    in it) with a private TMPDIR; kill whatever is left of it at the end, by group and pid."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from lightning_conformance.cli import main; "
             "sys.exit(main(sys.argv[1:]))", *args],
            # COLUMNS: lines unwrapped, so that each check is one line of the output
            cwd=ROOT, env=os.environ | {"TMPDIR": str(temp), "COLUMNS": "1000"} | env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        started.append(process)
        return process

    start.temp = temp
    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)
        for pid, _ in leftover_processes(process.pid):  # ranks: a process group of their own
            os.kill(pid, signal.SIGKILL)


def _interrupt(process: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send ``signum``; once the command has exited, nothing of its session may be alive."""
    os.kill(process.pid, signum)
    out, err = process.communicate(timeout=WAIT)
    assert [] == leftover_processes(process.pid), err
    return out, err


def _stop(ranks) -> None:
    """SIGSTOP the ranks: their launch cannot end before the kit's signal lands."""
    for pid in ranks:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile: a later one is hit
            os.kill(pid, signal.SIGSTOP)


def _kit_folders(temp: Path) -> list[str]:
    return sorted(p.name for p in temp.iterdir() if p.name.startswith(("lc-", "lck-")))


def _one_line(err: str, pattern: str) -> re.Match:
    lines = err.strip().splitlines()
    assert 1 == len(lines), err
    match = re.fullmatch(pattern, lines[0])
    assert match, lines[0]
    return match


# ---- run ----------------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_ddp_scenario_of_run_leaves_nothing_and_marks_the_report(
        kit, tmp_path, capsys, signum):
    reports = tmp_path / "reports"
    complete = write_report(reports / "reference.json", interrupted=False).read_bytes()
    process = kit("run", "--target", "reference", "--area", "DDP", "--report-dir", str(reports))
    first = next(iter(_until(lambda: _ranks(process), process, "a DDP rank").values()))
    # a rank of the second launch: the first scenario's clauses have run and are reported
    ranks = _until(lambda: [pid for pid, launch in _ranks(process).items() if launch != first],
                   process, "a rank of a second DDP launch")
    _stop(ranks)
    out, err = _interrupt(process, signum)

    assert EXIT[signum] == process.returncode, err
    partial = reports / "reference.interrupted.json"
    runs = int(_one_line(err, rf"lightning-conformance: interrupted after (\d+) clause runs "
                              rf"\({signal.Signals(signum).name}\); incomplete report: "
                              rf"{re.escape(str(partial))}").group(1))
    assert "Traceback" not in out
    assert [] == _kit_folders(kit.temp)
    assert complete == (reports / "reference.json").read_bytes()
    report = json.loads(partial.read_text())
    jsonschema.validate(report, SCHEMA)
    assert (True, runs) == (report["interrupted"], report["counts"]["total"]) and runs > 0
    assert 1 == main(["report", str(reports)])
    assert "(INCOMPLETE)" in capsys.readouterr().out.splitlines()[0]


# ---- check --------------------------------------------------------------------------------

_RESULT_LINE = re.compile(r"^MOD-\d{3}  ")


def _finished_checks(out: str, spec: str) -> int:
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"lightning-conformance check {spec} on "), out
    # no count line of a whole run ("34 checks: ..."; a stage line is "[1/8] static checks: ...")
    assert not any(re.match(r"\d+ checks: ", line) for line in lines), out
    return sum(bool(_RESULT_LINE.match(line)) for line in lines)


def test_sigint_during_a_fit_of_check_shows_the_finished_checks_in_one_more_line(kit, tmp_path):
    module = tmp_path / "blocking_lenet.py"
    module.write_text(BLOCKING_MODULE.format(examples=str(ROOT / "examples"), wait=WAIT * 2))
    marker, spec, report = tmp_path / "training", f"{module}:BlockingLeNet", tmp_path / "c.json"
    process = kit("check", spec, "--json", str(report), LCK_TEST_MARKER=str(marker))
    _until(marker.exists, process, "a training step ran")
    out, err = _interrupt(process, signal.SIGINT)

    assert 130 == process.returncode, err
    partial = tmp_path / "c.interrupted.json"
    count = int(_one_line(err, r"lightning-conformance: interrupted after (\d+) checks "
                               rf"\(SIGINT\); incomplete report: {re.escape(str(partial))}")
                .group(1))
    assert _finished_checks(out, spec) == count >= 1
    assert "MOD-001  passed   The module defines training_step." in out
    assert not report.exists()
    assert (True, count) == (json.loads(partial.read_text())["interrupted"],
                             len(json.loads(partial.read_text())["clauses"]))
    assert [] == _kit_folders(kit.temp)


def test_sigint_during_the_ddp_fit_of_check_kills_the_ranks(kit):
    spec = f"{ROOT / 'examples' / 'lenet.py'}:LeNet"
    process = kit("check", spec, "--ddp", "2")
    ranks = _until(lambda: _ranks(process), process, "a DDP rank started")
    _stop(ranks)
    out, err = _interrupt(process, signal.SIGINT)

    assert 130 == process.returncode, err
    count = int(_one_line(err, r"lightning-conformance: interrupted after (\d+) checks "
                               r"\(SIGINT\)").group(1))
    assert _finished_checks(out, spec) == count >= 1
    assert [] == _kit_folders(kit.temp)


def test_a_signal_while_the_module_imports_is_no_import_error(tmp_path, capsys):
    module = tmp_path / "signals_itself.py"
    module.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")

    assert 130 == main(["check", f"{module}:Model"])
    assert "lightning-conformance: interrupted after 0 checks (SIGINT)\n" == \
        capsys.readouterr().err


# ---- the DDP harness ----------------------------------------------------------------------

def test_a_signal_while_a_rank_starts_still_kills_that_rank(tmp_path, monkeypatch):
    from lightning_conformance.ddp.launch import launch

    start, started = subprocess.Popen, []

    def popen(*args, **kwargs):  # the signal arrives after the fork, before Popen returns
        started.append(start(*args, **kwargs))
        os.kill(os.getpid(), signal.SIGINT)
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    try:
        with interrupts.handling(), pytest.raises(interrupts.Interrupted):
            launch("tests.ddp_scenarios:environment", "reference", root=tmp_path)
        # the harness killed and reaped it
        assert [-signal.SIGKILL] == [process.returncode for process in started]
    finally:
        monkeypatch.undo()
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=WAIT)


# ---- the session of run -------------------------------------------------------------------

def test_a_clause_that_makes_the_interrupt_an_exit_still_stops_the_session(pytester):
    pytester.makepyfile("""
        import os, signal, sys

        def test_fits():  # as Lightning's fit does with a KeyboardInterrupt
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                sys.exit(1)

        def test_next():
            pass
    """)
    with interrupts.handling(KeyboardInterrupt):
        result = pytester.inline_run("-p", "no:randomly", plugins=[interrupts.StopOnSignal()],
                                     no_reraise_ctrlc=True)

    assert pytest.ExitCode.INTERRUPTED == result.ret
    assert [0, 0, 0] == result.countoutcomes()  # no failure of the first, no run of the next


def test_run_stops_at_a_signal_that_lightning_turns_into_an_exit(tmp_path, monkeypatch, capsys):
    from lightning.pytorch.loops.fit_loop import _FitLoop

    fits, fit = [], _FitLoop.run

    def second_fit_signals(self):  # inside Trainer.fit, whose KeyboardInterrupt is sys.exit(1)
        fits.append(self)
        if len(fits) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return fit(self)

    monkeypatch.setattr(_FitLoop, "run", second_fit_signals)
    code = main(["run", "--target", "lightning", "--area", "HOOK", "--report-dir", str(tmp_path)])
    report = json.loads((tmp_path / "lightning.interrupted.json").read_text())

    assert 130 == code
    assert 2 == len(fits)  # the run went no further
    assert 0 == report["counts"]["failed"] + report["counts"]["error"] < report["counts"]["total"]
    last = capsys.readouterr().err.splitlines()[-1]  # (in process, Lightning logs here too)
    assert last.startswith("lightning-conformance: interrupted after ")
