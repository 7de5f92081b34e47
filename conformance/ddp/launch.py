"""The multi-process harness: run one scenario on N real ranks over torch.distributed.

Each rank is a fresh Python process running ``lightning_conformance.ddp.worker``, as
``python -m`` would but without the working directory first on sys.path (``_RANK_MAIN``).
It is started with the environment torchrun gives its workers (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), so Lightning sees externally
launched processes and never re-launches, and the reference reads the same variables. Two
nodes are simulated on this machine by giving each rank its own GROUP_RANK with one device per
node.

Every launch runs in its own process group with a hard timeout. A rank that crashes or
hangs turns into a ``DistributedRunError`` naming the rank, its exit status and the end of
its stderr (a hung rank first dumps its Python stack through ``faulthandler``); then the
whole group is killed and the harness waits until no process of it is left. The group is
killed whatever ends the launch, an exception of this process included: the ranks' own
group keeps a Ctrl-C of the terminal away from them, so they go only when the harness kills
them. A SIGINT or SIGTERM that arrives while a rank is being started waits until the rank is
known (``session.interrupts.deferred``), so that no rank can escape the kill.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lightning_conformance.ddp import preload as _ddp_preload
from lightning_conformance.ddp.worker import RECORD, Phase
from lightning_conformance.session.interrupts import deferred

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedRun",
    "DistributedRunError",
    "Rank",
    "Topology",
    "launch",
    "loopback_port",
]

DEFAULT_TIMEOUT = float(os.environ.get("LCK_DDP_TIMEOUT", "120"))
# After one rank fails, the others get this long to fail too before the group is killed.
_GRACE_AFTER_FAILURE = 5.0
# How long a hung rank is given to write its stack after SIGUSR1.
_STACK_DUMP_WAIT = 1.0
_STDERR_TAIL = 4000
# The rank's entry point. ``python -m`` and ``-c`` put the working directory first on sys.path,
# where a user's project folder (an ``adapters/``, a ``reference.py``) could stand in for what
# the rank imports. Python 3.11's ``-P`` leaves that entry out, but the kit supports 3.10, which
# has no ``-P``: so the rank runs from ``-c`` and drops that entry ('') itself before it imports
# anything. Its sys.path is then this process's own, passed in PYTHONPATH
# (``_child_environment``), and the rank imports what this process would.
_RANK_MAIN = ("import sys; sys.path[:] = [entry for entry in sys.path if entry]; "
              "from lightning_conformance.ddp.worker import _exit_now, main; "
              "_exit_now(main(sys.argv[1:]))")
_RANK_VARIABLES = frozenset({"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                             "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID"})


class Rank(Protocol):
    """A started rank: a ``subprocess.Popen``, or a process forked by ``ddp.preload``."""

    pid: int

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...


class DistributedRunError(RuntimeError):
    """A rank crashed, hung or wrote no record; the message says which and shows its stderr."""


@dataclass(frozen=True)
class Topology:
    """``nodes`` simulated nodes of ``devices`` processes each, all on 127.0.0.1.

    With ``self_launched`` the harness starts one process and the target starts the ranks
    itself (Lightning's ``ddp_spawn``/``ddp_fork``); it only gets MASTER_ADDR/MASTER_PORT.
    """

    nodes: int = 1
    devices: int = 2
    self_launched: bool = False

    @property
    def world_size(self) -> int:
        return self.nodes * self.devices

    @property
    def processes(self) -> int:
        """How many processes the harness starts."""
        return 1 if self.self_launched else self.world_size

    def environment(self, global_rank: int, port: int) -> dict[str, str]:
        """The variables torchrun sets for the worker of ``global_rank``."""
        rendezvous = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        if self.self_launched:
            return rendezvous
        node_rank, local_rank = divmod(global_rank, self.devices)
        return rendezvous | {
            "WORLD_SIZE": str(self.world_size),
            "RANK": str(global_rank),
            "LOCAL_RANK": str(local_rank),
            "LOCAL_WORLD_SIZE": str(self.devices),
            "GROUP_RANK": str(node_rank),
            "NODE_RANK": str(node_rank),
        }


@dataclass
class DistributedRun:
    """The records of every rank of one launch, indexed by global rank."""

    scenario: str
    topology: Topology
    ranks: list[dict[str, Any]]  # RankContext.record of each rank
    root: Path
    port: int = 0
    wall_time: float = 0.0
    stderr: list[str] = field(default_factory=list)

    def phase(self, name: str) -> list[Phase[Any]]:
        """One phase's record from every rank (raises a readable error if a rank lacks it)."""
        found = []
        for rank, record in enumerate(self.ranks):
            phases = record.get("phases", {})
            if name not in phases:
                raise DistributedRunError(
                    f"rank {rank} of scenario {self.scenario!r} recorded no phase {name!r} "
                    f"(phases: {sorted(phases)})"
                )
            found.append(phases[name])
        return found


def loopback_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(scenario: str, target_spec: str, *, topology: Topology = Topology(),
           timeout: float = DEFAULT_TIMEOUT, root: Path) -> DistributedRun:
    """Run ``scenario`` (``module:function``) for ``target_spec`` on every rank of ``topology``.

    Returns when every rank has exited 0 and written its record; raises DistributedRunError
    otherwise. No process of the launch survives this call. ``root`` holds the ranks' records
    and stderr; the caller owns it (and removes it), so a signal cannot leave it behind unseen.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    port = loopback_port()
    ranks: list[Rank] = []  # filled as the ranks start: whatever stops us, all are killed
    try:
        _start_ranks(scenario, target_spec, topology, root, port, ranks)
        failure = _wait(ranks, timeout)
    finally:
        _kill_group(ranks)
    stderr = [_read(root / f"rank{rank}.stderr") for rank in range(len(ranks))]
    if failure:
        raise DistributedRunError(_describe(scenario, target_spec, failure, stderr))
    records = [_load_record(root, rank, scenario, stderr[rank]) for rank in range(len(ranks))]
    return DistributedRun(scenario, topology, records, root, port, time.monotonic() - started,
                          stderr)


def _start_ranks(scenario: str, target_spec: str, topology: Topology, root: Path,
                 port: int, ranks: list[Rank]) -> None:
    """Start every rank, appending each to ``ranks`` as soon as it exists."""
    arguments = [scenario, target_spec, str(root)]
    command = [sys.executable, "-c", _RANK_MAIN, *arguments]
    for global_rank in range(topology.processes):
        env = _child_environment() | topology.environment(global_rank, port)
        # Rank 0 leads a new process group (in this session, so that the others may join);
        # every other rank, and anything a rank starts, is in it: one killpg reaches them all.
        group = ranks[0].pid if ranks else 0
        with open(root / f"rank{global_rank}.stderr", "wb") as stderr, deferred():
            if _ddp_preload.enabled():  # the kill matrix: fork from a server with torch loaded
                ranks.append(_ddp_preload.start_rank(arguments, env, stderr.name, group))
                continue
            ranks.append(subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                          stdout=stderr, stderr=stderr, process_group=group))


def _child_environment() -> dict[str, str]:
    # Rank variables of an outer launcher (this process under torchrun) must not leak in.
    env = {k: v for k, v in os.environ.items() if k not in _RANK_VARIABLES}
    # The ranks import exactly what this process imports (editable installs, overlays, tests).
    # '' (this process's working directory, under ``python -c``) is passed as the folder it
    # names, at its place: the rank drops its own '' (``_RANK_MAIN``), not this process's.
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in sys.path
                                        if os.path.isdir(p or os.curdir))
    if os.path.isdir("/sys/class/net/lo"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo talks over loopback only
    env.setdefault("OMP_NUM_THREADS", "1")  # two ranks on two cores: no oversubscription
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def _wait(ranks: list[Rank], timeout: float) -> dict[str, Any] | None:
    """Wait for every rank; describe the first failure (crash, or hang at the deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [rank.poll() for rank in ranks]
        crashed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if crashed:
            _settle(ranks, time.monotonic() + _GRACE_AFTER_FAILURE)
            return {"kind": "crashed", "ranks": crashed,
                    "codes": [rank.poll() for rank in ranks]}
        if all(code == 0 for code in codes):
            return None
        time.sleep(0.05)
    hung = [i for i, rank in enumerate(ranks) if rank.poll() is None]
    for i in hung:  # ask each hung rank for its stack (faulthandler), then kill the group
        _signal(ranks[i].pid, signal.SIGUSR1)
    time.sleep(_STACK_DUMP_WAIT)
    return {"kind": "hung", "ranks": hung, "timeout": timeout,
            "codes": [rank.poll() for rank in ranks]}


def _settle(ranks: list[Rank], deadline: float) -> None:
    while time.monotonic() < deadline and any(rank.poll() is None for rank in ranks):
        time.sleep(0.05)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _kill_group(ranks: list[Rank]) -> None:
    """Kill every process of the launch's group and reap the ranks; wait until none is left."""
    if not ranks:
        return
    group = ranks[0].pid
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for rank in ranks:
        rank.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and group_alive(group):
        time.sleep(0.05)


def group_alive(group: int) -> bool:
    """Whether any process of process group ``group`` still exists (zombies included)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(scenario: str, target_spec: str, failure: dict[str, Any],
              stderr: list[str]) -> str:
    kind = failure["kind"]
    if kind == "hung":
        head = (f"rank(s) {failure['ranks']} of scenario {scenario!r} on target "
                f"{target_spec!r} hung: still running after {failure['timeout']:.0f} s "
                f"(raise LCK_DDP_TIMEOUT if the machine is slow)")
    else:
        codes = ", ".join(f"rank {i} exit {failure['codes'][i]}" for i in failure["ranks"])
        head = f"rank(s) {failure['ranks']} of scenario {scenario!r} on target " \
               f"{target_spec!r} died ({codes})"
    shown = failure["ranks"] or range(len(stderr))
    tails = [f"--- rank {i} stderr (end) ---\n{stderr[i][-_STDERR_TAIL:]}" for i in shown]
    return "\n".join([head, *tails])


def _load_record(root: Path, rank: int, scenario: str, stderr: str) -> dict[str, Any]:
    path = root / RECORD.format(rank=rank)
    if not path.exists():
        raise DistributedRunError(f"rank {rank} of scenario {scenario!r} exited 0 but wrote "
                                  f"no record {path}\n{stderr[-_STDERR_TAIL:]}")
    return pickle.loads(path.read_bytes())  # written by this launch's own rank


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
