"""MOD-030..034: the module under DDP (``ddp=N``): N real processes on CPU with gloo, launched
once per ``check_module`` call by the kit's harness (``lightning_conformance.ddp.launch``)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

from lightning_conformance.checks._base import Failed, Skipped, Warned, check
from lightning_conformance.checks._context import SEED
from lightning_conformance.checks._ddp_ranks import PAYLOAD, ModuleFit
from lightning_conformance.checks._state import shorten
from lightning_conformance.ddp.launch import (
    DEFAULT_TIMEOUT,
    DistributedRun,
    DistributedRunError,
    Topology,
    launch,
)
from lightning_conformance.ddp.worker import RaisedError

__all__ = ["ddp_records", "prepare"]

SCENARIO = "lightning_conformance.checks._ddp_ranks:check_ranks"
DDP = "lightning/pytorch/strategies/ddp.py"
_UNSYNCED = re.compile(r"self\.log\('([^']+)', \.\.\., sync_dist=True\)")


# (factory, datamodule, target spec, processes) -> the ranks' records, or why there are none.
# Kept for the process: a module checked again (or prepared with others) is not relaunched.
_RECORDS: dict = {}


def _key(ctx) -> tuple:
    spec = getattr(ctx.namespace.adapter, "spec", ctx.namespace.name)
    return ctx.factory, ctx.datamodule_source, spec, ctx.ddp


def _unlaunchable(ctx) -> Skipped | None:
    for what, value in (("module factory", ctx.factory), ("datamodule", ctx.datamodule_source)):
        if getattr(value, "__module__", "") == "__main__":
            return Skipped(f"the {what} is defined in __main__, which the DDP processes cannot "
                           "import: define it in a module")
    try:
        pickle.dumps((ctx.factory, ctx.datamodule_source))
    except Exception as error:
        return Skipped(f"the module factory cannot be sent to the DDP processes "
                       f"({type(error).__name__}: {error}): define it at module level")
    return None


def _error(error: RaisedError, rank: int) -> DistributedRunError:
    return DistributedRunError(f"rank {rank} raised {error.type}: {error.message}\n"
                               f"{error.traceback}")


# What a rank raises when another rank died: the error of the rank that died comes first.
_CONSEQUENCE = re.compile(r"Connection closed by peer|Connection reset|gloo|NCCL")


def _records(run: DistributedRun, key: str) -> list[ModuleFit] | Skipped | DistributedRunError:
    """Every rank's record of phase ``key``, or the error of a rank that raised."""
    phases = [record["phases"].get(key) for record in run.ranks]  # Phase[ModuleFit] or None
    if any(phase is None for phase in phases):
        return Skipped("an earlier module of the same DDP launch failed")
    errors = sorted((bool(_CONSEQUENCE.search(phase.error.message)), rank)
                    for rank, phase in enumerate(phases) if phase.error is not None)
    if errors:
        rank = errors[0][1]
        return _error(phases[rank].error, rank)
    return [phase.record for phase in phases]


def prepare(contexts, root: Path | None = None) -> None:
    """Run the DDP fit of several modules (contexts with the same target and ``ddp``) in one
    launch; their DDP checks then read it. Put modules that may fail last."""
    todo = [ctx for ctx in contexts if _key(ctx) not in _RECORDS]
    for ctx in todo:
        reason = _unlaunchable(ctx)
        if reason is not None:
            _RECORDS[_key(ctx)] = reason
    todo = [ctx for ctx in todo if _key(ctx) not in _RECORDS]
    if not todo:
        return
    root = Path(root or todo[0].root) / "ddp"
    root.mkdir(parents=True, exist_ok=True)
    entries = [(f"module{i}", ctx.factory, ctx.datamodule_source, SEED)
               for i, ctx in enumerate(todo)]
    (root / PAYLOAD).write_bytes(pickle.dumps(entries))
    first = todo[0]
    run: DistributedRun | DistributedRunError
    try:
        run = launch(SCENARIO, _key(first)[2], topology=Topology(devices=first.ddp), root=root,
                     timeout=DEFAULT_TIMEOUT)
    except DistributedRunError as error:
        run = error
    for (name, *_), ctx in zip(entries, todo, strict=True):
        _RECORDS[_key(ctx)] = run if isinstance(run, DistributedRunError) else _records(run, name)


def _short(error: DistributedRunError) -> str:
    """The harness's first line and the rank's exception line (its traceback is long)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    raised = [line for line in lines[1:] if re.match(r"^[\w.]+(Error|Exception)\b", line)
              and line not in lines[0]]
    return " ".join([lines[0], *raised[-1:]])


def ddp_records(ctx, asking: str) -> list[ModuleFit]:
    """Each rank's record of the module's DDP fit, or the check's verdict when it failed."""
    prepare([ctx])
    outcome = _RECORDS[_key(ctx)]
    if isinstance(outcome, Skipped):
        raise Skipped(str(outcome))
    if isinstance(outcome, DistributedRunError):
        owner = ctx.claimant(outcome)
        if owner == asking or (owner is None and asking == "MOD-030"):
            raise Failed(_short(outcome), stage="ddp")
        raise Skipped(f"the DDP fit did not complete ({owner or 'MOD-030'} reports it)")
    return outcome


@check("MOD-030", "With ddp=N, fit runs on N processes and every rank ends within the timeout.",
       source=f"{DDP}; tests/tests_pytorch/strategies/test_ddp.py", needs=("ddp",),
       fix="Make every rank run the same collective calls in the same order (no rank-dependent "
           "branches around self.log(sync_dist=True), all_gather or barrier), and fix the "
           "error of the rank shown above.")
def ddp_fit_runs(ctx):
    ddp_records(ctx, "MOD-030")


@check("MOD-031", "After a DDP fit, every rank holds bit-identical parameters.",
       source=f"{DDP} (DistributedDataParallel averages the gradients of every rank)",
       needs=("ddp",),
       fix="Change parameters only through the optimizer step and keep gradient changes "
           "(clipping, scaling) the same on every rank.")
def ddp_parameters_in_sync(ctx):
    records = ddp_records(ctx, "MOD-031")
    first = records[0].parameters
    differ = sorted({name for record in records[1:]
                     for name, value in record.parameters.items() if first.get(name) != value})
    if differ:
        raise Failed(f"after fit the ranks hold different {shorten(differ)}.", stage="ddp")


@check("MOD-032", "Under DDP, every optimized parameter gets a gradient in every training step.",
       source=f"{DDP} (find_unused_parameters=False); torch DistributedDataParallel docs",
       needs=("ddp",),
       claims=(r"Expected to have finished reduction in the prior iteration",
               r"find_unused_parameters"),
       fix="Use every parameter in every step's loss (a branch taken on some batches only "
           "leaves parameters without gradients), or pass strategy=\"ddp_find_unused_"
           "parameters_true\" (slower).")
def ddp_no_unused_parameters(ctx):
    records = ddp_records(ctx, "MOD-032")
    missing = sorted({name for record in records for name in record.without_grad})
    if missing:
        raise Failed(f"{shorten(missing)} got no gradient in some DDP step.", stage="ddp")


@check("MOD-033", "Under DDP, epoch-level values nothing monitors are logged with sync_dist=True.",
       source="lightning/pytorch/trainer/connectors/logger_connector/result.py::_get_cache",
       needs=("ddp",))
def ddp_epoch_values_synced(ctx):
    records = ddp_records(ctx, "MOD-033")
    monitored = set(records[0].monitors)
    keys = sorted({key for record in records for text in record.warnings
                   for key in _UNSYNCED.findall(text)} - monitored)
    if keys:
        raise Warned(f"{', '.join(keys)} are logged at epoch level without sync_dist=True: each "
                     "rank reports its own shard's value. Pass sync_dist=True (or log a "
                     "torchmetrics Metric) where the value should cover the whole dataset.")


@check("MOD-034", "Under DDP, every monitored key has the same value on every rank.",
       source="docs: Lightning 'self.log sync_dist'; issue #19045 (rank-divergent monitors hang)",
       needs=("ddp",),
       fix="Log monitored keys with sync_dist=True (or as a torchmetrics Metric), never with "
           "rank_zero_only=True: checkpointing and schedulers decide on every rank.")
def ddp_monitors_agree(ctx):
    records = ddp_records(ctx, "MOD-034")
    first = records[0].monitors
    differ = sorted({key for record in records[1:] for key in set(first) | set(record.monitors)
                     if first.get(key) != record.monitors.get(key)})
    if differ:
        values = {key: [record.monitors.get(key) for record in records] for key in differ}
        raise Failed(f"monitored values differ across ranks: {values}.", stage="ddp")
