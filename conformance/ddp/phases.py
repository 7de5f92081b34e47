"""Clause-side access to the distributed scenarios: one launch per target and scenario.

``target.distributed("two_devices")`` launches the scenario on real ranks the first time a
clause asks for it and hands every later clause the same records, so the DDP area costs two
launches per target. A launch that failed fails every clause that needs it, with the
harness's message (which rank, how, its stderr), without launching again.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from lightning_conformance.ddp.launch import DistributedRun, DistributedRunError, Topology, launch

__all__ = ["SCENARIOS", "phase", "run_scenario", "values"]

# name -> (the function every rank runs, the topology)
_SCENARIO_MODULE = "lightning_conformance.clauses._ddp_scenarios"
SCENARIOS = {
    "two_devices": (f"{_SCENARIO_MODULE}:two_devices", Topology(nodes=1, devices=2)),
    "two_nodes": (f"{_SCENARIO_MODULE}:two_nodes", Topology(nodes=2, devices=1)),
    "forked": (f"{_SCENARIO_MODULE}:forked", Topology(devices=2, self_launched=True)),
}

_RUNS: dict[tuple[str, str], DistributedRun | DistributedRunError] = {}


def _scratch() -> Path:
    root = Path(tempfile.mkdtemp(prefix="lc-ddp-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def run_scenario(adapter, name: str) -> DistributedRun:
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


def phase(target, scenario: str, name: str, *, error_expected: bool = False) -> list[dict]:
    """Every rank's record of one phase; a rank's unexpected exception fails the clause."""
    records = target.distributed(scenario).phase(name)
    if not error_expected:
        for rank, record in enumerate(records):
            if "error" in record:
                raise DistributedRunError(
                    f"rank {rank} raised during phase {name!r} of {scenario!r}:\n"
                    f"{record['error']['traceback']}")
    return records


def values(records: list[dict], key: str) -> list:
    """``record[key]`` of every rank, in global-rank order (None where a rank lacks it)."""
    return [record.get(key) for record in records]
