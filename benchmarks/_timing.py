"""A pytest plugin that times every test, setup and teardown included, by clause area.

``benchmarks.suite`` loads it into ``lightning-conformance run`` with
``PYTEST_ADDOPTS="-p benchmarks._timing"`` and reads the JSON it writes to the path in
``LCK_BENCH_TIMINGS``. A whole test is timed (``pytest_runtest_protocol``), so fixture work such
as a batched DDP launch counts for the area of the test that triggered it.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import pytest

__all__ = ["TIMINGS_ENV"]

TIMINGS_ENV = "LCK_BENCH_TIMINGS"
_seconds: dict = defaultdict(float)
_tests: dict = defaultdict(int)
_started = time.perf_counter()
_first_test = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    global _first_test
    _first_test = _first_test or time.perf_counter()
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        area = _area(item)
        _seconds[area] += time.perf_counter() - started
        _tests[area] += 1


def pytest_sessionfinish(session):
    path = os.environ.get(TIMINGS_ENV)
    if not path:
        return
    finished = time.perf_counter()
    timings = {
        "areas": {area: round(seconds, 3) for area, seconds in sorted(_seconds.items())},
        "tests": dict(sorted(_tests.items())),
        # plugin load (the conformance plugin is loaded already) to the first test: collection
        # and the import of every target named with --target
        "collection_s": round((_first_test or finished) - _started, 3),
    }
    with open(path, "w") as file:
        json.dump(timings, file)


def _area(item) -> str:
    marker = item.get_closest_marker("clause")
    return marker.args[0].split("-")[0] if marker else "other"
