"""Scenarios that misbehave on purpose, to test the multi-process harness itself."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import torch.distributed as dist


def environment(ctx):
    """Record what the rank was told, and meet the other ranks once over gloo."""
    dist.init_process_group("gloo")
    names = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR")
    ctx.record["env"] = {name: os.environ[name] for name in names}
    ctx.record["pgid"] = os.getpgid(0)
    dist.barrier()


def crash_on_rank_one(ctx):
    if ctx.rank == 1:
        raise RuntimeError("rank one fails on purpose")
    time.sleep(600)  # rank 0 waits for a peer that never comes


def hang_on_rank_one(ctx):
    if ctx.rank == 1:
        _start_grandchild(ctx)
        time.sleep(600)


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
