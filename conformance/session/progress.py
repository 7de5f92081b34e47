"""One progress line per target as soon as all of that target's clauses have run.

``lightning-conformance run`` drives a single pytest session in which every clause is
parametrized over the targets, and pytest interleaves the targets file by file. The plugin
sorts the items by target (stably, so each target keeps pytest's order), counts each
target's items and prints the target's line when its last item has finished.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

import pytest

__all__ = ["Progress"]


class Progress:
    """A pytest plugin printing ``[2/3] lightning 2.6.6: 326 passed, ... in 41.2s``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.remaining: Counter[str] = Counter()
        self.started: dict[str, float] = {}
        self.done = 0
        self.total = 0

    @pytest.hookimpl(trylast=True)  # after the plugin has deselected other areas
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from lightning_conformance.session.state import item_target

        order: dict[str | None, int] = {}  # looked up with None for an item of no target
        for adapter in filter(None, map(item_target, items)):
            order.setdefault(adapter.name, len(order))
        items.sort(key=lambda item: order.get(getattr(item_target(item), "name", None), -1))

    def pytest_collection_finish(self, session):
        from lightning_conformance.session.state import item_target

        self.remaining = Counter(adapter.name for adapter in map(item_target, session.items)
                                 if adapter is not None)
        self.total = len(self.remaining)  # targets with at least one selected clause

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        from lightning_conformance.session.state import item_target, state

        adapter = item_target(item)
        if adapter is not None:
            self.started.setdefault(adapter.name, time.perf_counter())
        result = yield
        if adapter is not None and self.remaining[adapter.name] > 0:
            self.remaining[adapter.name] -= 1
            if self.remaining[adapter.name] == 0:
                self._line(adapter, state(item.config).collector)
        return result

    def _line(self, adapter, collector) -> None:
        self.done += 1
        counts = collector.counts(adapter.name)
        shown = [f"{counts['passed']} passed", f"{counts['failed']} failed"]
        shown += [f"{counts[key]} {key}" for key in ("error", "skipped", "xfailed", "xpassed")
                  if counts[key] or key == "skipped"]
        elapsed = time.perf_counter() - self.started[adapter.name]
        print(f"[{self.done}/{self.total}] {adapter.name} {adapter.version}: {', '.join(shown)} "
              f"in {elapsed:.1f}s", file=self.stream, flush=True)
