"""One rank of a distributed scenario.

``python -m lightning_conformance.ddp.worker SCENARIO TARGET DIR``.

The harness (``lightning_conformance.ddp.launch``) starts this once per rank with torchrun's
environment. It loads the target, runs the scenario function (``module:function``) with a
``RankContext``, and writes ``DIR/rank<N>.pkl``.

The record is pickled, not JSON: each phase's record is a dataclass of the scenario's module,
which the parent imports too, so the clauses read the same typed fields the rank wrote.

The process group is destroyed before exit: without it gloo ranks sometimes abort at shutdown
(notes/environment.md). Even with it, a rank was seen once in CI dying of SIGABRT ("terminate
called without an active exception", no Python frame) after its scenario had finished, so
once the record is on disk the rank leaves with ``os._exit`` and skips the interpreter's
teardown, where that abort lives.
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import pickle
import signal
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from lightning_conformance.adapters import Target

__all__ = ["RECORD", "Phase", "RaisedError", "RankContext", "main"]

RECORD = "rank{rank}.pkl"  # a rank's record in the launch directory
R = TypeVar("R")


@dataclass(slots=True)
class RaisedError:
    """An exception a phase raised on a rank, as text (it crosses a process boundary)."""

    type: str
    message: str
    traceback: str


@dataclass(slots=True)
class Phase(Generic[R]):
    """One rank's outcome of one phase: the scenario's record, or the error that ended it,
    and the warnings raised meanwhile (message texts)."""

    record: R | None
    warnings: list[str]
    error: RaisedError | None = None


class RankContext:
    """What a scenario gets on its rank: the target, the rank numbers, a record to fill.

    ``record["phases"]`` maps each phase's name to its ``Phase``; a scenario may add other
    keys of its own (the harness's tests do).
    """

    def __init__(self, adapter: Target, root: Path):
        self.adapter = adapter
        self.pl = adapter.pl
        self.root = root
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.node_rank = int(os.environ.get("GROUP_RANK", "0"))
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.devices = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        self.record: dict[str, Any] = {"rank": self.rank, "phases": {}}

    def phase(self, name: str, run: Callable[[], R]) -> Phase[R]:
        """Run ``run()`` as phase ``name`` and keep its record; an exception is kept, not
        raised (the clause decides whether it was expected)."""
        record: R | None = None
        error: RaisedError | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                record = run()
            except Exception as raised:
                error = RaisedError(type(raised).__name__, str(raised), traceback.format_exc())
        outcome = Phase(record, [str(w.message) for w in caught], error)
        self.record["phases"][name] = outcome
        return outcome

    def trainer_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The neutral settings of every clause, on this launch's topology."""
        settings = self.adapter.trainer_settings(str(self.root / "run"))
        settings |= {"devices": self.devices, "num_nodes": self.world_size // self.devices,
                     "strategy": "ddp"}
        return settings | overrides


def _resolve(spec: str) -> Callable[[RankContext], None]:
    module_name, _, name = spec.partition(":")
    return getattr(importlib.import_module(module_name), name)


def _destroy_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    scenario_spec, target_spec, out = (argv or sys.argv[1:])[:3]
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the harness asks a hung rank
    from lightning_conformance.adapters import load_target

    context = RankContext(load_target(target_spec), Path(out))
    try:
        _resolve(scenario_spec)(context)
    finally:
        _destroy_process_group()
    path = Path(out) / RECORD.format(rank=context.rank)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(context.record))
    partial.replace(path)  # the parent never reads half a record
    return 0


def _exit_now(code: int) -> None:
    """Flush and leave without interpreter teardown (see the module docstring)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # Run the importable copy of this module, not ``__main__``: a record pickles its classes
    # by module name, and the parent cannot unpickle a ``__main__.Phase``.
    from lightning_conformance.ddp import worker

    worker._exit_now(worker.main())
