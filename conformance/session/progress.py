"""Progress lines while ``run`` works: one per area of a target as soon as that area's last
clause has run, then one per target as soon as all of its clauses have run.

``lightning-conformance run`` drives a single pytest session in which every clause is
parametrized over the targets, and pytest interleaves the targets file by file. The plugin
sorts the items by target, then by area (stably, both in the order pytest first met them, so
each area keeps pytest's order), counts the items of each target and of each of its areas, and
prints a line when the last of them has finished.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

import pytest

__all__ = ["Progress"]


def _area(item: pytest.Item) -> str:
    from lightning_conformance.session.state import clause_id

    return (clause_id(item) or "").partition("-")[0]


class Progress:
    """A pytest plugin printing ``  HOOK on lightning 2.6.6: 56 passed, 0 failed in 3.1s`` per
    area and ``[2/3] lightning 2.6.6: 326 passed, ... in 41.2s`` per target."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        # (target, area) -> its items not run yet; (target, None) for all of the target's
        self.remaining: Counter[tuple[str, str | None]] = Counter()
        self.started: dict[tuple[str, str | None], float] = {}
        self.done = 0
        self.total = 0

    @pytest.hookimpl(trylast=True)  # after the plugin has deselected other areas
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from lightning_conformance.session.state import item_target

        order: dict[str | None, int] = {}  # looked up with None for an item of no target
        for adapter in filter(None, map(item_target, items)):
            order.setdefault(adapter.name, len(order))
        areas: dict[str, int] = {}
        for item in items:
            areas.setdefault(_area(item), len(areas))
        items.sort(key=lambda item: (order.get(getattr(item_target(item), "name", None), -1),
                                     areas[_area(item)]))

    def pytest_collection_finish(self, session):
        from lightning_conformance.session.state import item_target

        for item in session.items:
            adapter = item_target(item)
            if adapter is not None:
                self.remaining.update([(adapter.name, _area(item)), (adapter.name, None)])
        self.total = len([key for key in self.remaining if key[1] is None])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        from lightning_conformance.session.state import item_target, state

        adapter = item_target(item)
        keys = [(adapter.name, _area(item)), (adapter.name, None)] if adapter is not None else []
        for key in keys:
            self.started.setdefault(key, time.perf_counter())
        result = yield
        for key in keys:  # the area's line first, then the target's
            if self.remaining[key] > 0:
                self.remaining[key] -= 1
                if self.remaining[key] == 0:
                    self._line(adapter, key[1], state(item.config).collector)
        return result

    def _line(self, adapter, area: str | None, collector) -> None:
        from lightning_conformance.reports.terminal import width, wrap

        if area == "":  # a test of no clause, so of no area: only its target's line
            return
        counts = collector.counts(adapter.name, area)
        shown = [f"{counts['passed']} passed", f"{counts['failed']} failed"]
        shown += [f"{counts[key]} {key}" for key in ("error", "skipped", "xfailed", "xpassed")
                  if counts[key] or key == "skipped"]
        elapsed = time.perf_counter() - self.started[adapter.name, area]
        if area is not None:
            line = f"  {area} on {adapter.name} {adapter.version}"
        else:
            self.done += 1
            line = f"[{self.done}/{self.total}] {adapter.name} {adapter.version}"
        line += f": {', '.join(shown)} in {elapsed:.1f}s"
        print("\n".join(wrap(line, width())), file=self.stream, flush=True)
