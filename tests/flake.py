"""Flakiness check: run the clause suite N times in random order; no clause may change result.

``python -m tests.flake --runs 20 --target reference --target lightning`` runs
``pytest conformance`` once per seed with pytest-randomly (``-p randomly
--randomly-seed=SEED``: a different test order, and ``random`` reseeded before every test),
each run writing its JSON reports to ``flake-report/run-NN/``. Then it lists every clause
whose status differs between runs, with the seeds of each status, and every process a run
left behind: each run is its own session, so any process of that session still alive after
pytest exited (a DDP rank, a forked child) is a leak. It exits 1 if any clause changed or
any process was left behind, 2 if a run did not complete. A failing order is replayed with
``pytest conformance -p randomly --randomly-seed=SEED`` and the same targets.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

__all__ = ["changed_clauses", "leftover_processes", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "flake-report"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.flake",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--target", action="append", dest="targets",
                        help="target to run (repeatable; default reference and lightning)")
    parser.add_argument("--seed", type=int, help="seed of the first run; run i uses seed+i "
                        "(default: a random one, printed)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where each run's reports go (default flake-report/)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    return parser


def _run(index: int, seed: int, targets: list[str], out: Path, timeout: float,
         extra: list[str]) -> dict:
    """One pytest run in its own session; what it reported and what it left behind."""
    report_dir = out / f"run-{index:02d}"
    shutil.rmtree(report_dir, ignore_errors=True)  # a report of an earlier run must not count
    command = [sys.executable, "-m", "pytest", str(ROOT / "conformance" / "clauses"), "-q",
               "-p", "no:cacheprovider", "-p", "randomly", f"--randomly-seed={seed}",
               "--conformance-report", str(report_dir), *extra]
    command += [argument for target in targets for argument in ("--target", target)]
    started = time.monotonic()
    with open(out / f"run-{index:02d}.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
    left = leftover_processes(process.pid)
    for pid, _ in left:  # the run is over: end what it left, after noting it
        _kill(pid)
    return {"seed": seed, "exit": code, "seconds": round(time.monotonic() - started, 1),
            "left_behind": [f"{pid} {command}" for pid, command in left],
            "statuses": _statuses(report_dir)}


def _statuses(report_dir: Path) -> dict[str, dict[str, str]]:
    """target -> clause ID -> status, from one run's JSON reports."""
    statuses = {}
    for path in sorted(report_dir.glob("*.json")):
        report = json.loads(path.read_text())
        statuses[report["subject"]["name"]] = {c["id"]: c["status"] for c in report["clauses"]}
    return statuses


def leftover_processes(session: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live, non-zombie process of session ``session``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == session:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:  # gone meanwhile
            continue
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            found.append((int(entry.name), command))
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def changed_clauses(runs: list[dict]) -> list[str]:
    """One line per (target, clause) whose status is not the same in every run."""
    seen: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for target, clauses in run["statuses"].items():
            for clause_id, status in clauses.items():
                seen[(target, clause_id)][status].append(run["seed"])
    lines = []
    for (target, clause_id), by_status in sorted(seen.items()):
        missing = [run["seed"] for run in runs if clause_id not in
                   run["statuses"].get(target, {})]
        if missing:
            by_status["absent"] = missing
        if len(by_status) > 1:
            seeds = "; ".join(f"{status} with seeds {sorted(s)}"
                              for status, s in sorted(by_status.items()))
            lines.append(f"{clause_id} on {target}: {seeds}")
    return lines


def _run_line(index: int, run: dict) -> str:
    results = sum(len(clauses) for clauses in run["statuses"].values())
    return f"run {index:02d} seed {run['seed']}: exit {run['exit']}, {run['seconds']:.0f} s, " \
           f"{results} clause results"


def _summary(runs: list[dict], changed: list[str]) -> list[str]:
    lines = [f"left behind by seed {r['seed']}: {p}" for r in runs for p in r["left_behind"]]
    lines += [f"changed: {line}" for line in changed]
    total = sum(r["seconds"] for r in runs)
    lines.append(f"{len(runs)} runs in {total:.0f} s ({total / max(len(runs), 1):.0f} s a run): "
                 f"{len(changed)} clause(s) changed result, "
                 f"{sum(len(r['left_behind']) for r in runs)} process(es) left behind")
    return lines


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if importlib.util.find_spec("pytest_randomly") is None:
        print("tests.flake needs pytest-randomly: pip install pytest-randomly "
              "(`nox -s flake` installs it in its own environment)", file=sys.stderr)
        return 2
    targets = args.targets or ["reference", "lightning"]
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for index in range(args.runs):
        runs.append(_run(index, seed + index, targets, args.out, args.timeout, args.pytest_args))
        print(_run_line(index, runs[-1]), flush=True)
    changed = changed_clauses(runs)
    lines = _summary(runs, changed)
    (args.out / "flake.json").write_text(json.dumps(
        {"targets": targets, "runs": runs, "changed": changed}, indent=1) + "\n")
    print("\n".join(lines))
    if any(r["exit"] not in (0, 1) or not r["statuses"] for r in runs):
        return 2
    return 1 if changed or any(r["left_behind"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
