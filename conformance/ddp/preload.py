"""Ranks forked from a server that imported torch once (opt-in: ``LCK_DDP_PRELOAD=1``).

A fresh rank spends about two CPU seconds importing torch before its scenario starts, and
the kill matrix (tests/test_mutants.py) launches some two hundred ranks, one launch per
mutant and scenario. With ``LCK_DDP_PRELOAD=1`` the harness has a multiprocessing fork
server, which imported torch and the worker's modules once, fork each rank instead. The rank
is still a process of its own, in the launch's process group, with its own environment,
stderr file and target (imported in the rank, as before): only the imports are shared.
Conformance runs leave the variable unset: their ranks are fresh interpreters, as torchrun's.
"""

from __future__ import annotations

import atexit
import faulthandler
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import multiprocessing.process
import os
import time
import traceback

__all__ = ["enabled", "start_rank"]

# What every rank imports before it loads its target; the server imports it once.
PRELOAD = ["torch", "torch.distributed", "lightning_conformance.ddp.worker",
           "lightning_conformance.clauses._ddp_scenarios", "lightning_conformance.adapters",
           "lightning_conformance.adapters.reference"]
_GROUP_WAIT = 10.0  # seconds for a forked rank to join its process group
_CONTEXT: list[multiprocessing.context.ForkServerContext] = []


def enabled() -> bool:
    return os.environ.get("LCK_DDP_PRELOAD") == "1"


class PreloadedRank:
    """A forked rank, with the part of ``subprocess.Popen`` the harness uses."""

    def __init__(self, process: multiprocessing.process.BaseProcess, pid: int):
        self.process = process
        self.pid = pid

    def poll(self) -> int | None:
        return self.process.exitcode  # like Popen: None while running, -N for signal N

    def wait(self) -> int:
        self.process.join()
        code = self.process.exitcode
        assert code is not None, "a joined process has its exit code"
        return code


def _context(env: dict[str, str]) -> multiprocessing.context.ForkServerContext:
    """The fork server's context; the server starts with the ranks' environment.

    OpenMP reads OMP_NUM_THREADS once, when torch loads it: in the server, not in the rank.
    """
    if not _CONTEXT:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        # stop and reap the server when this process ends: nothing of the harness outlives it
        # (a private method: the public API has no way to stop the server)
        atexit.register(multiprocessing.forkserver._forkserver._stop)  # type: ignore[attr-defined]
        _CONTEXT.append(context)
    return _CONTEXT[0]


def start_rank(argv: list[str], env: dict[str, str], stderr_path: str | os.PathLike[str],
               group: int) -> PreloadedRank:
    """Fork a rank running ``lightning_conformance.ddp.worker`` with ``argv``.

    ``group`` 0 makes the rank lead a new process group (rank 0), any other joins it; the
    call returns once the rank is in its group, so that the next rank can join it.
    """
    process = _context(env).Process(target=_rank_main, args=(argv, env, str(stderr_path), group))
    process.start()
    pid = process.pid
    assert pid is not None, "a started process has its pid"
    expected = group or pid
    deadline = time.monotonic() + _GROUP_WAIT
    while process.exitcode is None and time.monotonic() < deadline:
        try:
            if os.getpgid(pid) == expected:
                break
        except ProcessLookupError:
            break
        time.sleep(0.005)
    return PreloadedRank(process, pid)


def _rank_main(argv: list[str], env: dict[str, str], stderr_path: str, group: int) -> None:
    """In the forked rank: what a fresh ``python -m ...ddp.worker`` would have."""
    os.setpgid(0, group)
    stderr = os.open(stderr_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(stderr, 1)
    os.dup2(stderr, 2)
    os.close(stderr)
    os.environ.clear()
    os.environ.update(env)
    faulthandler.enable()  # PYTHONFAULTHANDLER=1 of a fresh rank
    from lightning_conformance.ddp.worker import _exit_now, main

    code = 1
    try:
        code = main(argv)
    except BaseException:  # a fresh rank would print it and exit 1
        traceback.print_exc()
    _exit_now(code)
