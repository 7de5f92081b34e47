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

__all__ = ["TIMINGS_ENV", "AreaTimer"]

TIMINGS_ENV = "LCK_BENCH_TIMINGS"


def pytest_configure(config):
    config.pluginmanager.register(AreaTimer(os.environ.get(TIMINGS_ENV)), "lck-bench-area-timer")


class AreaTimer:
    """Seconds and test counts per area for one session, written as JSON at its end."""

    def __init__(self, path):
        self.path = path
        self.seconds, self.tests = defaultdict(float), defaultdict(int)
        self.started, self.first_test = time.perf_counter(), None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        started = time.perf_counter()
        self.first_test = self.first_test or started
        try:
            return (yield)
        finally:
            area = _area(item)
            self.seconds[area] += time.perf_counter() - started
            self.tests[area] += 1

    def pytest_sessionfinish(self, session):
        if self.path:
            with open(self.path, "w") as file:
                json.dump(self.timings(), file)

    def timings(self) -> dict:
        finished = time.perf_counter()
        return {
            "areas": {area: round(seconds, 3) for area, seconds in sorted(self.seconds.items())},
            "tests": dict(sorted(self.tests.items())),
            # from pytest's configuration to the first test: collection and the import of every
            # target named with --target
            "collection_s": round((self.first_test or finished) - self.started, 3),
        }


def _area(item) -> str:
    marker = item.get_closest_marker("clause")
    return marker.args[0].split("-")[0] if marker else "other"
