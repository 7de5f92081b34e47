"""`check` under a hung training_step: the run is stopped at its time limit and fails MOD-010
with where it hung, and the other checks still give their verdicts.

No test depends on how fast the machine is. Most give a generous limit and, once the module
is seen hanging (it touches a file), send the process SIGALRM: what the limit's timer sends
when it expires. The others assert only what any expiry gives. Every process has a timeout
and is killed with its session if it outlives it.
"""

import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from lightning_conformance import check_module, parametrize_with_checks
from lightning_conformance.checks import CheckInputError
from lightning_conformance.checks._timeout import RunTimeout, time_limit
from lightning_conformance.cli import main
from tests.conftest import ROOT
from tests.fixtures import hung_modules

HUNG = "tests.fixtures.hung_modules"
GENEROUS = 600  # seconds: a limit that only a hang reaches, and every wait's bound
CLI = [sys.executable, "-m", "lightning_conformance.cli"]


def _wait_for(condition) -> bool:
    deadline = time.monotonic() + GENEROUS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def _stopping_hangs(command, hangs, tmp_path, env=None, cwd=ROOT):
    """Run ``command``; each time the module reaches the next of ``hangs`` (it touches that
    file), send the process SIGALRM. (returncode, stdout, stderr)."""
    env = (env or os.environ) | {hung_modules.HANG_DIR: str(tmp_path)}
    process = subprocess.Popen(command, cwd=cwd, env=env, text=True, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for marker in (tmp_path / hang for hang in hangs):
            _wait_for(lambda marker=marker: marker.exists() or process.poll() is not None)
            if process.poll() is None:
                os.kill(process.pid, signal.SIGALRM)
        out, err = process.communicate(timeout=GENEROUS)
    finally:
        if process.poll() is None:  # past its bound: end it and whatever it started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, out, err


def _line(module: type, text: str) -> str:
    """``hung_modules.py:N``, N the line of training_step whose source contains ``text``."""
    lines, first = inspect.getsourcelines(module.training_step)
    return f"hung_modules.py:{first + next(i for i, line in enumerate(lines) if text in line)}"


def _verdicts(out: str) -> dict[str, str]:
    """``{"MOD-001": "passed", ...}`` from check's report."""
    return {line.split()[0]: line.split()[1].lower() for line in out.splitlines()
            if line.startswith("MOD-")}


def _assert_hang_reported(verdicts: dict[str, str], mod_010: str, where: str) -> None:
    assert "failed" == verdicts["MOD-010"], mod_010
    assert f"it hung in training_step at tests/fixtures/{where}" in mod_010, mod_010
    # the runs that do not train still ran, on new Trainers, after the stopped fit
    assert {"passed"} == {verdicts[c] for c in ("MOD-001", "MOD-011", "MOD-012", "MOD-013")}
    assert "skipped" == verdicts["MOD-014"]  # it needs the fit that hung


def test_a_hung_training_step_fails_mod_010_at_its_line(tmp_path):
    code, out, err = _stopping_hangs(
        [*CLI, "check", f"{HUNG}:BusyLoop", "--fit-timeout", str(GENEROUS)], ["BusyLoop"],
        tmp_path)
    flat = " ".join(out.split())

    assert 1 == code, out + err
    _assert_hang_reported(_verdicts(out), flat, _line(hung_modules.BusyLoop, "while True"))
    assert f"trainer.fit did not finish within {GENEROUS} s: it hung in training_step" in flat
    assert "MOD-010 reports it: it hung in training_step and was stopped after" in flat
    assert "Traceback" not in err, err


def test_the_environment_variable_sets_the_limit_and_it_expires():
    env = os.environ | {"LCK_FIT_TIMEOUT": "5"}
    result = subprocess.run([*CLI, "check", f"{HUNG}:BusyLoop"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=GENEROUS)
    flat = " ".join(result.stdout.split())

    # the timer's own expiry: wherever the fit then was, it cannot have finished
    assert 1 == result.returncode, result.stdout + result.stderr
    assert "failed" == _verdicts(result.stdout)["MOD-010"]
    assert "trainer.fit did not finish within 5 s" in flat


# check_module from Python: three hung modules in the main thread (one swallows the first
# stop; one is asked for its mixed-precision fit), then one in another thread.
PYTHON = """
import json, sys, tempfile, threading
from pathlib import Path
from lightning_conformance import check_module
from lightning_conformance.checks._base import Skipped
from lightning_conformance.checks._context import Context
from tests.fixtures import hung_modules

found, generous, short = {}, float(sys.argv[1]), float(sys.argv[2])

def check(name, limit):
    results = check_module(getattr(hung_modules, name), on_fail=None, fit_timeout=limit)
    found[name] = {r.clause: [r.status, r.message] for r in results}

check("WaitsForever", generous)
check("SwallowsTheFirstStop", generous)
with tempfile.TemporaryDirectory() as root:
    context = Context(hung_modules.Sleeps, root=Path(root), fit_timeout=generous)
    try:
        context.require("mixed", "MOD-028")
    except Skipped as skip:
        found["mixed"] = {"skip": str(skip), "ran": "mixed" in vars(context)}
thread = threading.Thread(target=check, args=("BusyLoop", short))
thread.start()
thread.join()
found["threads"] = [t.name for t in threading.enumerate()]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def from_python(tmp_path_factory):
    hangs = ["WaitsForever", "SwallowsTheFirstStop", "SwallowsTheFirstStop.swallowed", "Sleeps"]
    code, out, err = _stopping_hangs([sys.executable, "-c", PYTHON, str(GENEROUS), "5"], hangs,
                                     tmp_path_factory.mktemp("hangs"))
    assert 0 == code, err[-3000:]
    return json.loads(out.splitlines()[-1])


@pytest.mark.parametrize(("name", "text"), [("WaitsForever", "Event().wait()"),
                                             ("SwallowsTheFirstStop", "while True")])
def test_check_module_stops_a_hung_run_in_the_main_thread(from_python, name, text):
    results = from_python[name]
    verdicts = {clause: status for clause, (status, _) in results.items()}

    _assert_hang_reported(verdicts, results["MOD-010"][1],
                          _line(getattr(hung_modules, name), text))


def test_a_fit_that_hung_is_not_run_again_in_mixed_precision(from_python):
    skip = from_python["mixed"]["skip"]

    assert "MOD-010 reports it: it hung in training_step" in skip, skip
    assert not from_python["mixed"]["ran"]


def test_check_module_stops_a_busy_loop_in_another_thread_and_leaves_no_thread(from_python):
    status, message = from_python["BusyLoop"]["MOD-010"]

    assert ("failed", True) == (status, "did not finish within 5 s" in message), message
    assert "outside the main thread" in message
    assert ["MainThread"] == from_python["threads"]


SUITE = f"""
from lightning_conformance import parametrize_with_checks
from tests.fixtures.hung_modules import BusyLoop


@parametrize_with_checks([BusyLoop], fit_timeout={GENEROUS})
def test_contract(factory, check):
    check(factory)
"""


def test_parametrize_with_checks_takes_the_limit(tmp_path):
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_contract.py").write_text(SUITE)
    command = [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider",
               "-p", "no:randomly", "-k", "MOD-010 or MOD-011"]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    _, out, _ = _stopping_hangs(command, ["BusyLoop"], tmp_path, env, cwd=tmp_path / "suite")

    assert "1 failed, 1 passed" in out, out[-3000:]
    assert "FAILED test_contract.py::test_contract[BusyLoop-MOD-010" in out
    assert f"did not finish within {GENEROUS} s: it hung in training_step" in " ".join(
        out.split())


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_flag_is_one_line_and_exit_2_before_the_module_imports(capsys, value):
    code = main(["check", "no_such_module:Thing", "--fit-timeout", value])
    err = capsys.readouterr().err

    assert 2 == code
    assert [f"lightning-conformance: error: --fit-timeout {value!r}: give the time limit of "
            "one run in seconds, such as 300 (0: no limit)"] == err.splitlines()


def test_a_bad_environment_variable_is_named(capsys, monkeypatch):
    monkeypatch.setenv("LCK_FIT_TIMEOUT", "5 minutes")
    code = main(["check", "no_such_module:Thing"])

    assert 2 == code
    assert "error: LCK_FIT_TIMEOUT '5 minutes': give the time limit" in capsys.readouterr().err


def test_the_python_entry_points_refuse_a_bad_limit():
    with pytest.raises(CheckInputError, match="fit_timeout 'soon'"):
        check_module(hung_modules.BusyLoop, fit_timeout="soon")
    with pytest.raises(CheckInputError, match="fit_timeout -2"):
        parametrize_with_checks([hung_modules.BusyLoop], fit_timeout=-2)


@pytest.fixture
def alarm_state():
    """The process's SIGALRM handler and timer, put back after the test."""
    handler = signal.getsignal(signal.SIGALRM)
    yield handler
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, handler)


def test_a_limit_arms_the_timer_and_leaves_none_behind(alarm_state):
    with time_limit(GENEROUS):
        delay, _ = signal.getitimer(signal.ITIMER_REAL)
        handler = signal.getsignal(signal.SIGALRM)

    assert 0 < delay <= GENEROUS and handler is not alarm_state
    assert alarm_state is signal.getsignal(signal.SIGALRM)
    assert (0.0, 0.0) == signal.getitimer(signal.ITIMER_REAL)


def test_a_limit_inside_an_outer_timer_gives_it_back(alarm_state):
    def outer(signum, frame):
        raise AssertionError("the outer timer fired during the test")

    signal.signal(signal.SIGALRM, outer)
    signal.setitimer(signal.ITIMER_REAL, 3000)
    with time_limit(GENEROUS):
        pass
    delay, _ = signal.getitimer(signal.ITIMER_REAL)

    assert outer is signal.getsignal(signal.SIGALRM)
    assert 0 < delay <= 3000


def test_an_expired_limit_stops_a_wait(alarm_state):
    with pytest.raises(RunTimeout, match="did not finish within 0.01 s"):
        with time_limit(0.01):
            threading.Event().wait(GENEROUS)  # returns only if the limit never fires


def test_an_interrupt_after_the_limit_fired_stays_an_interrupt(alarm_state):
    with pytest.raises(KeyboardInterrupt):
        with time_limit(GENEROUS):
            try:
                os.kill(os.getpid(), signal.SIGALRM)  # what the timer sends when it expires
                threading.Event().wait(GENEROUS)
            except RunTimeout:
                raise KeyboardInterrupt from None
