"""Wall time of the whole CPU suite per target, split by area, and of the version matrix.

Each target runs in its own process, exactly as a user runs it:
``python -m lightning_conformance.cli run --target T --report-dir <tmp>``
(``lightning-conformance run``).
The process's wall time is the figure DESIGN.md's target is about (imports, collection, every
clause, DDP launches included). A small pytest plugin (``benchmarks/_timing.py``, loaded through
``PYTEST_ADDOPTS``) times every test with its setup and teardown and sums them by area; what is
left of the wall time is the start-up: interpreter, imports of the kit and of the target,
collection. One process per target, rather than one per (area, target) pair, is both cheaper
(the start-up is paid three times, not 24) and the measure the target names.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "MATRIX_TIMING",
    "ROOT",
    "SUITE_TARGETS",
    "SUITE_TIMEOUT",
    "children_cpu",
    "matrix_time",
    "measure_suite",
    "run_matrix",
]

ROOT = Path(__file__).resolve().parent.parent
SUITE_TARGETS = ("reference", "lightning", "pytorch_lightning")
SUITE_TIMEOUT = 900  # seconds for one target's whole suite: far beyond the 60 s target
MATRIX_TIMEOUT = 1800
# written by whoever times `nox -s matrix` (this module's run_matrix, or the matrix session)
MATRIX_TIMING = "timing.json"


def measure_suite(targets=SUITE_TARGETS, timeout=SUITE_TIMEOUT):
    """Run the whole suite once per target; return wall, start-up and per-area seconds."""
    return {target: _run_target(target, timeout) for target in targets}


def _run_target(target, timeout) -> dict:
    from lightning_conformance.adapters import installed_targets

    if target not in installed_targets():
        return {"skipped": f"{target} is not installed in this environment"}
    with tempfile.TemporaryDirectory() as tmp:
        timings_path, report_dir = Path(tmp) / "timings.json", Path(tmp) / "report"
        command = [sys.executable, "-m", "lightning_conformance.cli", "run", "--target", target,
                   "--report-dir", str(report_dir)]
        started, cpu = time.perf_counter(), children_cpu()
        process = _run(command, timeout, env=_environment(timings_path))
        if process is None:
            return {"wall_s": None, "error": f"killed after {timeout} s"}
        wall = time.perf_counter() - started
        result = _result(target, wall, process, timings_path, report_dir)
        # CPU seconds of the run and its DDP ranks: on a shared machine, less noisy than wall
        result["cpu_s"] = round(children_cpu() - cpu, 2)
        return result


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the runs and what they reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command, timeout, env=None):
    """Run ``command`` in its own process group; on timeout kill the group (DDP ranks too)."""
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _environment(timings_path) -> dict:
    from ._timing import TIMINGS_ENV

    env = dict(os.environ)
    env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} -p benchmarks._timing".strip()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env[TIMINGS_ENV] = str(timings_path)
    return env


def _result(target, wall, process, timings_path, report_dir) -> dict:
    result = {"wall_s": round(wall, 2), "exit_code": process.returncode}
    if not timings_path.exists():
        result["error"] = f"no timings written; last output: {_tail(process)}"
        return result
    timings = json.loads(timings_path.read_text())
    areas = timings["areas"]
    result["areas_s"] = areas
    result["tests"] = timings["tests"]
    # interpreter start, imports, collection and the report: the wall time no test accounts for
    result["startup_s"] = round(wall - sum(areas.values()), 2)
    result["collection_s"] = timings["collection_s"]  # of which: collection and target imports
    report = report_dir / f"{target}.json"
    if report.exists():
        result["counts"] = json.loads(report.read_text())["counts"]
    if process.returncode not in (0, 1):  # 1: some clause failed, still a complete run
        result["error"] = f"exit code {process.returncode}: {_tail(process)}"
    return result


def _tail(process) -> str:
    return (process.stderr or process.stdout or "").strip()[-400:]


# ---- the version matrix ----


def matrix_time(directory=ROOT / "matrix-report") -> dict:
    """The last ``nox -s matrix``'s wall time, read from ``<directory>/timing.json``."""
    path = Path(directory) / MATRIX_TIMING
    if not path.exists():
        return {"wall_s": None, "note": "not measured: run nox -s matrix first "
                f"(or python -m benchmarks --run-matrix); {path} is absent"}
    data = json.loads(path.read_text())
    return {"wall_s": data.get("elapsed_s"), "source": str(path),
            **{key: value for key, value in data.items() if key != "elapsed_s"}}


def run_matrix(directory=ROOT / "matrix-report", timeout=MATRIX_TIMEOUT) -> dict:
    """Run ``nox -s matrix`` once, timed, and record its wall time beside its reports."""
    if importlib.util.find_spec("nox") is None:
        return {"wall_s": None, "note": "not measured: --run-matrix needs nox (pip install nox)"}
    command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "matrix"]
    started = time.perf_counter()
    process = _run(command, timeout)
    if process is None:
        return {"wall_s": None, "note": f"nox -s matrix killed after {timeout} s"}
    timing = {"elapsed_s": round(time.perf_counter() - started, 1),
              "exit_code": process.returncode,
              "measured_by": "python -m benchmarks --run-matrix"}
    Path(directory).mkdir(parents=True, exist_ok=True)
    (Path(directory) / MATRIX_TIMING).write_text(json.dumps(timing))
    return matrix_time(directory)
