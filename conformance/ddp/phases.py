"""Clause-side access to the distributed scenarios: one launch per target and scenario.

``target.distributed("two_devices")`` launches the scenario on real ranks the first time a
clause asks for it and hands every later clause the same records, so the DDP area costs one
launch per scenario and target. A launch that failed fails every clause that needs it, with
the harness's message (which rank, how, its stderr), without launching again.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lightning_conformance.ddp.launch import DistributedRun, DistributedRunError, Topology, launch
from lightning_conformance.ddp.worker import Phase

if TYPE_CHECKING:
    from lightning_conformance.adapters import Target
    from lightning_conformance.session.harness import Harness

__all__ = ["SCENARIOS", "phase", "records", "run_scenario"]

# name -> (the function every rank runs, the topology)
_SCENARIO_MODULE = "lightning_conformance.clauses._ddp_scenarios"
SCENARIOS = {
    "two_devices": (f"{_SCENARIO_MODULE}:two_devices", Topology(nodes=1, devices=2)),
    "two_nodes": (f"{_SCENARIO_MODULE}:two_nodes", Topology(nodes=2, devices=1)),
    "forked": (f"{_SCENARIO_MODULE}:forked", Topology(devices=2, self_launched=True)),
}

_RUNS: dict[tuple[str, str], DistributedRun | DistributedRunError] = {}
R = TypeVar("R")


def _scratch() -> Path:
    root = Path(tempfile.mkdtemp(prefix="lc-ddp-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def run_scenario(adapter: Target, name: str) -> DistributedRun:
    """The (cached) run of scenario ``name`` on ``adapter``'s target."""
    spec = getattr(adapter, "spec", adapter.name)
    key = (spec, name)
    if key not in _RUNS:
        function, topology = SCENARIOS[name]
        try:
            _RUNS[key] = launch(function, spec, topology=topology, root=_scratch())
        except DistributedRunError as error:
            _RUNS[key] = error
    outcome = _RUNS[key]
    if isinstance(outcome, DistributedRunError):
        raise outcome
    return outcome


def phase(harness: Harness, scenario: str, name: str, *,
          error_expected: bool = False) -> list[Phase[Any]]:
    """Every rank's outcome of one phase; a rank's unexpected exception fails the clause."""
    outcomes = harness.distributed(scenario).phase(name)
    if not error_expected:
        for rank, outcome in enumerate(outcomes):
            if outcome.error is not None:
                raise DistributedRunError(
                    f"rank {rank} raised during phase {name!r} of {scenario!r}:\n"
                    f"{outcome.error.traceback}")
    return outcomes


def records(harness: Harness, scenario: str, name: str, kind: type[R]) -> list[R]:
    """Every rank's record of one phase, in global-rank order; each must be a ``kind``."""
    found = []
    for rank, outcome in enumerate(phase(harness, scenario, name)):
        if not isinstance(outcome.record, kind):
            raise TypeError(f"rank {rank} recorded a {type(outcome.record).__name__} in phase "
                            f"{name!r} of {scenario!r}, not a {kind.__name__}")
        found.append(outcome.record)
    return found
