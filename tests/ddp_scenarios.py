"""Scenarios that misbehave on purpose, to test the multi-process harness itself."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import torch.distributed as dist

HANGING = "rank1.hanging"  # written by hang_on_rank_one's rank 1 right before it hangs


def environment(ctx):
    """Record what the rank was told, and meet the other ranks once over gloo."""
    dist.init_process_group("gloo")
    names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR")
    ctx.record["env"] = {name: os.environ[name] for name in names}
    ctx.record["pgid"] = os.getpgid(0)
    dist.barrier()


def crash_on_rank_one(ctx):
    """Rank 0 waits for a peer that never comes; rank 1 fails once rank 0 is waiting."""
    waiting = ctx.root / "rank0.pid"
    if ctx.rank == 0:
        _write_pid(ctx)
        time.sleep(600)
    while not waiting.exists():
        time.sleep(0.05)
    raise RuntimeError("rank one fails on purpose")


def hang_on_rank_one(ctx):
    """Rank 0 ends at once; rank 1 starts a process of its own, says so, and hangs."""
    _write_pid(ctx)
    if ctx.rank == 1:
        _start_grandchild(ctx)
        (ctx.root / HANGING).touch()  # what the test waits for, rather than for a time
        time.sleep(600)


def _write_pid(ctx):
    """``rank<N>.pid``, whole once it exists (a test reads it, or waits for it)."""
    partial = ctx.root / f"rank{ctx.rank}.pid.partial"
    partial.write_text(str(os.getpid()))
    partial.replace(ctx.root / f"rank{ctx.rank}.pid")


def _start_grandchild(ctx):
    """A process the rank starts itself: it must not outlive the launch either."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (ctx.root / "grandchild.pid").write_text(str(child.pid))


def exit_without_record(ctx):
    os._exit(0)


@dataclass(slots=True)
class Numbers:
    """A typed phase record, as the clause scenarios return."""

    rank: int
    world_size: int


def typed_phases(ctx):
    """One phase that returns a record on every rank, one that raises on rank one."""
    ctx.phase("numbers", lambda: Numbers(ctx.rank, ctx.world_size))
    ctx.phase("raises", lambda: _raise_on_rank_one(ctx))


def _raise_on_rank_one(ctx):
    if ctx.rank == 1:
        raise ValueError("rank one fails this phase on purpose")
    return Numbers(ctx.rank, ctx.world_size)
