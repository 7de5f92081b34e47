"""`check` under a hung training_step: the run is stopped at its time limit and fails MOD-010
with where it hung, and the other checks still give their verdicts.

Every hung module runs in a subprocess with a generous timeout of its own, so that a limit
that does not work fails the test instead of hanging the suite. The assertions are on the
outcome, never on how long it took.
"""

import inspect
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from lightning_conformance import check_module, parametrize_with_checks
from lightning_conformance.checks import CheckInputError
from lightning_conformance.checks._timeout import RunTimeout, time_limit
from lightning_conformance.cli import main
from tests.conftest import ROOT, run_cli
from tests.fixtures import hung_modules

HUNG = "tests.fixtures.hung_modules"
LIMIT = "5"  # short, so that the tests end soon; nothing asserts that it took 5 s
SUBPROCESS = 600  # seconds: the limit of every process a test starts


def _line(module: type, text: str) -> str:
    """``hung_modules.py:N``, N the line of training_step whose source contains ``text``."""
    lines, first = inspect.getsourcelines(module.training_step)
    number = first + next(i for i, line in enumerate(lines) if text in line)
    return f"hung_modules.py:{number}"


def _verdicts(out: str) -> dict[str, str]:
    """``{"MOD-001": "passed", ...}`` from check's report."""
    return {line.split()[0]: line.split()[1] for line in out.splitlines()
            if line.startswith("MOD-")}


def _assert_hang_reported(verdicts: dict[str, str], mod_010: str, where: str) -> None:
    assert "FAILED" == verdicts["MOD-010"].upper(), mod_010
    assert where in mod_010 and "training_step" in mod_010, mod_010
    # the runs that do not train still ran, on new Trainers, after the stopped fit
    assert {"passed"} == {verdicts[c].lower() for c in ("MOD-001", "MOD-011", "MOD-012",
                                                         "MOD-013")}
    assert "skipped" == verdicts["MOD-014"].lower()  # it needs the fit that hung


def test_a_busy_loop_in_training_step_fails_mod_010_at_its_line():
    result = run_cli("check", f"{HUNG}:BusyLoop", "--fit-timeout", LIMIT, timeout=SUBPROCESS)
    verdicts = _verdicts(result.stdout)
    flat = " ".join(result.stdout.split())

    assert 1 == result.returncode, result.stdout + result.stderr
    _assert_hang_reported(verdicts, flat, _line(hung_modules.BusyLoop, "while True"))
    assert "trainer.fit did not finish within 5 s: it hung in training_step at" in flat
    assert "MOD-010 reports it: it hung in training_step and was stopped after 5 s" in flat
    assert "Traceback" not in result.stderr, result.stderr


def test_the_environment_variable_sets_the_limit():
    env = os.environ | {"LCK_FIT_TIMEOUT": LIMIT}
    result = run_cli("check", f"{HUNG}:Sleeps", env=env, timeout=SUBPROCESS)
    flat = " ".join(result.stdout.split())

    assert 1 == result.returncode, result.stdout + result.stderr
    _assert_hang_reported(_verdicts(result.stdout), flat,
                          _line(hung_modules.Sleeps, "time.sleep"))
    assert "did not finish within 5 s" in flat


# check_module from Python: two hung modules in the main thread, one in another thread; and
# the mixed-precision fit of a module whose fit hung (it would hang the same way).
PYTHON = """
import json, sys, tempfile, threading
from pathlib import Path
from lightning_conformance import check_module
from lightning_conformance.checks._base import Skipped
from lightning_conformance.checks._context import Context
from tests.fixtures import hung_modules

found, limit = {}, float(sys.argv[1])

def check(name):
    results = check_module(getattr(hung_modules, name), on_fail=None, fit_timeout=limit)
    found[name] = {r.clause: [r.status, r.message] for r in results}

check("WaitsForever")
check("SwallowsTheFirstStop")
thread = threading.Thread(target=check, args=("BusyLoop",))
thread.start()
thread.join()
found["threads"] = [t.name for t in threading.enumerate()]
with tempfile.TemporaryDirectory() as root:
    context = Context(hung_modules.Sleeps, root=Path(root), fit_timeout=limit)
    try:
        context.require("mixed", "MOD-028")
    except Skipped as skip:
        found["mixed"] = {"skip": str(skip), "ran": "mixed" in vars(context)}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def from_python():
    result = subprocess.run([sys.executable, "-c", PYTHON, LIMIT], cwd=ROOT, capture_output=True,
                            text=True, timeout=SUBPROCESS)
    assert 0 == result.returncode, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(("name", "text"), [("WaitsForever", "Event().wait()"),
                                             ("SwallowsTheFirstStop", "while True")])
def test_check_module_stops_a_hung_run_in_the_main_thread(from_python, name, text):
    results = from_python[name]
    message = results["MOD-010"][1]

    _assert_hang_reported({c: status for c, (status, _) in results.items()}, message,
                          _line(getattr(hung_modules, name), text))
    assert "outside the main thread" not in message


def test_check_module_stops_a_busy_loop_in_another_thread_and_leaves_no_thread(from_python):
    results = from_python["BusyLoop"]
    message = results["MOD-010"][1]

    _assert_hang_reported({c: status for c, (status, _) in results.items()}, message,
                          _line(hung_modules.BusyLoop, "while True"))
    assert "outside the main thread" in message
    assert ["MainThread"] == from_python["threads"]


def test_a_fit_that_hung_is_not_run_again_in_mixed_precision(from_python):
    skip = from_python["mixed"]["skip"]

    assert "MOD-010 reports it: it hung in training_step" in skip, skip
    assert not from_python["mixed"]["ran"]


SUITE = f"""
from lightning_conformance import parametrize_with_checks
from tests.fixtures.hung_modules import BusyLoop


@parametrize_with_checks([BusyLoop], fit_timeout={LIMIT})
def test_contract(factory, check):
    check(factory)
"""


def test_parametrize_with_checks_takes_the_limit(tmp_path):
    (tmp_path / "test_contract.py").write_text(SUITE)
    command = [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider",
               "-p", "no:randomly", "-k", "MOD-010 or MOD-011"]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env,
                            timeout=SUBPROCESS)

    assert "1 failed, 1 passed" in result.stdout, result.stdout[-3000:]
    assert "FAILED test_contract.py::test_contract[BusyLoop-MOD-010" in result.stdout
    assert "it hung in training_step at" in " ".join(result.stdout.split())


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
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, handler)


def test_a_limit_that_does_not_fire_leaves_no_timer_and_the_old_handler(alarm_state):
    before = signal.getsignal(signal.SIGALRM)
    with time_limit(600):
        pass

    assert before is signal.getsignal(signal.SIGALRM)
    assert (0.0, 0.0) == signal.getitimer(signal.ITIMER_REAL)


def test_a_limit_inside_an_outer_timer_gives_it_back(alarm_state):
    def outer(signum, frame):
        raise AssertionError("the outer timer fired during the test")

    signal.signal(signal.SIGALRM, outer)
    signal.setitimer(signal.ITIMER_REAL, 3000)
    with time_limit(600):
        pass
    delay, _ = signal.getitimer(signal.ITIMER_REAL)

    assert outer is signal.getsignal(signal.SIGALRM)
    assert 0 < delay <= 3000


def _wait_in_the_test() -> None:
    threading.Event().wait(SUBPROCESS)  # returns only if the limit never fires


def test_a_limit_stops_a_wait_and_names_the_line(alarm_state):
    with pytest.raises(RunTimeout) as stopped:
        with time_limit(0.01):
            _wait_in_the_test()

    assert "it hung in _wait_in_the_test at tests/test_hangs.py:" in str(stopped.value)
    assert "Event().wait(SUBPROCESS)" in str(stopped.value)
    assert (0.0, 0.0) == signal.getitimer(signal.ITIMER_REAL)


def test_an_interrupt_after_the_limit_fired_stays_an_interrupt(alarm_state):
    with pytest.raises(KeyboardInterrupt):
        with time_limit(0.01):
            try:
                _wait_in_the_test()
            except RunTimeout:
                raise KeyboardInterrupt from None
