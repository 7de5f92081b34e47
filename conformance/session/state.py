"""The plugin's state for one pytest session, and what it reads off a collected item.

The plugin (``lightning_conformance.plugin``) registers a ``SessionState`` per session; the rest
of the plumbing (``items``, ``progress``) and the CLI reach it through ``state(config)``. Nothing
here imports the plugin, so the imports run one way: plugin -> session.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from lightning_conformance.spec.contract import parse_version

if TYPE_CHECKING:
    from lightning_conformance.adapters import Target
    from lightning_conformance.session.results import ResultCollector

__all__ = ["STATE", "SessionState", "clause_id", "item_target", "state"]

STATE = pytest.StashKey["SessionState"]()


class SessionState:
    """Per-session settings, the loaded targets and the result collector."""

    def __init__(self, config: pytest.Config) -> None:
        self.specs, self.where = _target_specs(config)
        requested = config.getoption("lc_contract")
        # the contract Version every target is checked against, or None: each its own
        self.contract_version = parse_version(requested, where="--contract") if requested else None
        self.areas = {area.upper() for area in config.getoption("lc_areas") or ()}
        self.collector: ResultCollector | None = None
        self.collection_errors: list[str] = []

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext.strip()}")

    def pytest_runtest_logreport(self, report):
        properties = dict(report.user_properties)
        if "clause" in properties and self.collector is not None:
            from lightning_conformance.session.items import record

            record(self.collector, report, properties)

    def adapters(self) -> dict:
        if self.collector is None:
            from lightning_conformance.adapters import TargetError, load_target
            from lightning_conformance.session.results import ResultCollector

            try:
                loaded = {}
                for spec in self.specs:
                    adapter = load_target(spec)
                    loaded[adapter.name] = adapter
            except TargetError as error:
                raise pytest.UsageError(f"{error} (target from {self.where})") from None
            self.collector = ResultCollector(loaded)
            for name, adapter in loaded.items():
                self.collector.contracts[name] = self.contract_version or adapter.contract
        return self.collector.targets


def _target_specs(config) -> tuple[list[str], str]:
    if config.getoption("lc_targets"):
        return config.getoption("lc_targets"), "--target"
    if os.environ.get("LCK_TARGET"):
        specs = [s.strip() for s in os.environ["LCK_TARGET"].split(",") if s.strip()]
        return specs, "LCK_TARGET"
    if config.getini("lck_target"):
        return config.getini("lck_target").split(), "ini lck_target"
    return ["reference"], "default"


def state(config: pytest.Config) -> SessionState:
    return config.stash[STATE]


def clause_id(item: pytest.Item) -> str | None:
    """The ID of the clause ``item`` checks, or None for a test that is no clause."""
    marker = item.get_closest_marker("clause")
    return marker.args[0] if marker else None


def item_target(item: pytest.Item) -> Target | None:
    """The target ``item`` runs on, or None for a test that takes no ``target``."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("lc_adapter") if callspec else None
