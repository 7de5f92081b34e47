"""``python -m benchmarks``: measure the kit against DESIGN.md's performance targets.

Prints a table, optionally writes the results as JSON, and exits 1 when a target is missed
(the reference above 1.2x the raw loop, a target's CPU suite above 60 s, the matrix above 10 min).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import overhead, report, suite

__all__ = ["main"]

STEPS_DESC = "training steps per timed run (default 1000)"
REPEATS_DESC = "timed runs per variant; the median is reported (default 5)"
JSON_DESC = "also write every measurement to this JSON file"
THREADS_DESC = "torch threads while timing the overhead, 0 to keep torch's default (default 1)"
SUITE_DESC = "targets whose whole suite is timed (repeatable; default all three)"
SKIP_SUITE_DESC = "time only the per-step overhead"
RUN_MATRIX_DESC = "run `nox -s matrix` (minutes) and time it, instead of reading its last timing"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    load_before = _load()
    results = {"overhead": overhead.measure_overhead(args.steps, args.repeats,
                                                     threads=args.threads)}
    if not args.skip_suite:
        results["suite"] = suite.measure_suite(args.suite_target or suite.SUITE_TARGETS)
        results["matrix"] = suite.run_matrix() if args.run_matrix else suite.matrix_time()
    results["machine"] = {"cpus": os.cpu_count(), "load_before": load_before,
                          "load_after": _load()}
    results["targets"] = report.check_targets(results)
    print(report.render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(check["met"] for check in results["targets"]) else 1


def _parser() -> argparse.ArgumentParser:
    description = __doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=description)
    parser.add_argument("--steps", type=int, default=1000, help=STEPS_DESC)
    parser.add_argument("--repeats", type=int, default=5, help=REPEATS_DESC)
    parser.add_argument("--json", metavar="PATH", help=JSON_DESC)
    parser.add_argument("--threads", type=int, default=1, help=THREADS_DESC)
    parser.add_argument("--suite-target", action="append", metavar="TARGET", help=SUITE_DESC)
    parser.add_argument("--skip-suite", action="store_true", help=SKIP_SUITE_DESC)
    parser.add_argument("--run-matrix", action="store_true", help=RUN_MATRIX_DESC)
    return parser


def _load() -> list[float]:
    # the 1, 5 and 15 minute load averages: how shared the machine was while measuring
    return [round(value, 2) for value in os.getloadavg()]


if __name__ == "__main__":
    sys.exit(main())
