"""One rank of a distributed scenario.

``python -m lightning_conformance.ddp.worker SCENARIO TARGET DIR``.

The harness (``lightning_conformance.ddp.launch``) starts this once per rank with torchrun's
environment. It loads the target, runs the scenario function (``module:function``) with a
``RankContext``, and writes ``DIR/rank<N>.json``. The process group is destroyed before
exit: without it gloo ranks sometimes abort at shutdown (notes/environment.md). Even with
it, a rank was seen once in CI dying of SIGABRT ("terminate called without an active
exception", no Python frame) after its scenario had finished, so once the record is on disk
the rank leaves with ``os._exit`` and skips the interpreter's teardown, where that abort lives.
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path

__all__ = ["RankContext", "main"]


class RankContext:
    """What a scenario gets on its rank: the target, the rank numbers, a record to fill."""

    def __init__(self, adapter, root: Path):
        self.adapter = adapter
        self.pl = adapter.pl
        self.root = root
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.node_rank = int(os.environ.get("GROUP_RANK", "0"))
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.devices = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        self.record: dict = {"rank": self.rank, "phases": {}}

    def phase(self, name: str, run) -> dict:
        """Run ``run(record)`` as phase ``name``; an exception is recorded, not raised.

        Warnings raised during the phase are recorded under ``warnings`` (message texts).
        """
        record: dict = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run(record)
            except Exception as error:  # the clause decides whether the error was expected
                record["error"] = {"type": type(error).__name__, "message": str(error),
                                   "traceback": traceback.format_exc()}
        record["warnings"] = [str(w.message) for w in caught]
        self.record["phases"][name] = record
        return record

    def trainer_kwargs(self, **overrides) -> dict:
        """The neutral settings of every clause, on this launch's topology."""
        settings = self.adapter.trainer_settings(str(self.root / "run"))
        settings |= {"devices": self.devices, "num_nodes": self.world_size // self.devices,
                     "strategy": "ddp"}
        return settings | overrides


def _resolve(spec: str):
    module_name, _, name = spec.partition(":")
    return getattr(importlib.import_module(module_name), name)


def _destroy_process_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def main(argv=None) -> int:
    scenario_spec, target_spec, out = (argv or sys.argv[1:])[:3]
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the harness asks a hung rank
    from lightning_conformance.adapters import load_target

    context = RankContext(load_target(target_spec), Path(out))
    try:
        _resolve(scenario_spec)(context)
    finally:
        _destroy_process_group()
    path = Path(out) / f"rank{context.rank}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(context.record, default=repr))
    partial.replace(path)
    return 0


def _exit_now(code: int) -> None:
    """Flush and leave without interpreter teardown (see the module docstring)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())
