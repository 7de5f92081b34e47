"""The multi-process harness: real ranks, hard timeouts, failures named, nothing left behind.

No test here depends on how fast the ranks start: a launch that should end by itself gets a
generous timeout, and the hung-rank test makes the harness's deadline pass when the rank is
seen hanging, not at a time counted from the launch.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from lightning_conformance.clauses._ddp_scenarios import FitRecord
from lightning_conformance.ddp import launch as harness
from lightning_conformance.ddp.launch import DistributedRunError, Topology, group_alive, launch
from lightning_conformance.ddp.phases import phase, records
from tests.conftest import ROOT
from tests.ddp_scenarios import HANGING, Numbers
from tests.flake import leftover_processes

pytestmark = pytest.mark.filterwarnings("ignore")

# Seconds: the bound on anything a test waits for (a launch, a process to go). It is reached
# only when the awaited event never comes, so a loaded machine does not make a test fail.
GENEROUS = 600


def _run(scenario, tmp_path, timeout=GENEROUS, **kwargs):
    return launch(f"tests.ddp_scenarios:{scenario}", "reference", root=tmp_path,
                  timeout=timeout, **kwargs)


def _wait_for(condition) -> bool:
    """Whether ``condition()`` became true within GENEROUS seconds (polled)."""
    deadline = time.monotonic() + GENEROUS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        # a zombie still answers: it is gone once its parent (init here) has reaped it
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except (ProcessLookupError, FileNotFoundError):
        return True


def test_two_nodes_get_torchrun_environment(tmp_path):
    run = _run("environment", tmp_path, topology=Topology(nodes=2, devices=1))

    assert [r["env"] for r in run.ranks] == [
        {"RANK": str(rank), "LOCAL_RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "1",
         "GROUP_RANK": str(rank), "MASTER_ADDR": "127.0.0.1"} for rank in (0, 1)]
    assert not group_alive(run.ranks[0]["pgid"])


def test_ranks_share_one_process_group_of_their_own(tmp_path):
    run = _run("environment", tmp_path)

    groups = {r["pgid"] for r in run.ranks}
    assert len(groups) == 1 and groups != {os.getpgid(0)}


def test_port_is_free_after_the_launch(tmp_path):
    run = _run("environment", tmp_path)

    with socket.socket() as probe:
        # TIME_WAIT connections may remain (kernel state); a listener left behind would not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", run.port))
        probe.listen()


def test_crashed_rank_is_named_with_its_traceback(tmp_path):
    with pytest.raises(DistributedRunError) as failure:
        _run("crash_on_rank_one", tmp_path)

    message = str(failure.value)
    # "died", not "hung": the crash ended the launch, long before its timeout
    assert "rank(s) [1]" in message and "died" in message
    assert "RuntimeError: rank one fails on purpose" in message
    assert _gone(int((tmp_path / "rank0.pid").read_text())), \
        "the waiting rank 0 was not killed after the crash"


class _ClockFromEvent:
    """The harness's ``time``, whose clock jumps past every deadline once ``reached()``.

    The launch's timeout then expires when the hang is seen, however long the ranks took to
    start; and the harness's wait for the hung rank's stack dump (``_STACK_DUMP_WAIT``) lasts
    until the dump is in its stderr, not for a time that a busy machine may not honour.
    """

    def __init__(self, reached, dumped):
        self.reached, self.dumped, self.jumped = reached, dumped, False

    def monotonic(self) -> float:
        self.jumped = self.jumped or self.reached()
        return time.monotonic() + (10.0 ** 6 if self.jumped else 0.0)

    def sleep(self, seconds: float) -> None:
        if self.jumped and seconds == harness._STACK_DUMP_WAIT:
            _wait_for(self.dumped)
        else:
            time.sleep(seconds)


def test_hung_rank_is_named_with_its_stack_and_killed(tmp_path, monkeypatch):
    def reached() -> bool:  # rank 1 hangs and rank 0 has ended: only rank 1 is hung
        pid = tmp_path / "rank0.pid"
        return ((tmp_path / HANGING).exists() and (tmp_path / "rank0.pkl").exists()
                and pid.exists() and _gone(int(pid.read_text())))

    def dumped() -> bool:  # faulthandler's dump names the hung scenario function
        return "hang_on_rank_one" in (tmp_path / "rank1.stderr").read_text(errors="replace")

    clock = _ClockFromEvent(reached, dumped)
    monkeypatch.setattr(harness, "time", clock)
    with pytest.raises(DistributedRunError) as failure:
        _run("hang_on_rank_one", tmp_path)

    message = str(failure.value)
    assert clock.jumped, "the launch ended before rank 1 was seen hanging"
    assert "rank(s) [1]" in message and "hung" in message
    assert "hang_on_rank_one" in message  # faulthandler's dump of the hung rank's stack
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    assert _wait_for(lambda: _gone(grandchild)), "a process started by a rank survived"


def test_rank_without_record_is_an_error(tmp_path):
    with pytest.raises(DistributedRunError, match="wrote no record"):
        _run("exit_without_record", tmp_path)


@pytest.mark.parametrize("preload", ["", "1"], ids=["fresh-ranks", "preloaded-ranks"])
def test_a_clause_run_leaves_no_process_behind(preload):
    """Harness ranks and ddp_fork ranks, fresh or forked from the preload server
    (LCK_DDP_PRELOAD, the kill matrix's way): once pytest exits, nothing of its session lives."""
    command = [sys.executable, "-m", "pytest", "conformance/clauses/test_ddp_stages.py", "-q",
               "-p", "no:cacheprovider", "-p", "no:randomly", "--target", "reference"]
    # no DDP scenario of that file hangs: the launches' time limit only bounds a broken one
    env = os.environ | {"LCK_DDP_PRELOAD": preload, "LCK_DDP_TIMEOUT": str(GENEROUS)}
    run = subprocess.Popen(command, cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    try:
        output, _ = run.communicate(timeout=GENEROUS)
    finally:
        if run.poll() is None:  # it ran past the bound: end its whole session
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert 0 == run.returncode, output[-3000:]
    # a process still exiting (a rank being reaped, the preload server reading its EOF) is no
    # leak; one that stays is, whatever the bound on the wait
    _wait_for(lambda: not leftover_processes(run.pid))
    assert [] == leftover_processes(run.pid)


class _Bound:
    """What ``ddp.phases`` needs of a clause's harness: the run of a scenario."""

    def __init__(self, run):
        self.run = run

    def distributed(self, scenario):
        return self.run


@pytest.mark.parametrize("preload", ["", "1"], ids=["fresh-ranks", "preloaded-ranks"])
def test_phase_records_reach_the_parent_as_dataclasses(tmp_path, monkeypatch, preload):
    monkeypatch.setenv("LCK_DDP_PRELOAD", preload)
    run = _run("typed_phases", tmp_path)

    assert [Numbers(0, 2), Numbers(1, 2)] == records(_Bound(run), "t", "numbers", Numbers)
    first, second = phase(_Bound(run), "t", "raises", error_expected=True)
    assert (first.error, second.record) == (None, None)
    assert ("ValueError", "rank one fails this phase on purpose") == (second.error.type,
                                                                     second.error.message)


@pytest.fixture(scope="module")
def typed_run(tmp_path_factory):
    return _run("typed_phases", tmp_path_factory.mktemp("typed"))


def test_a_misspelt_record_field_raises(typed_run):
    (record, _) = records(_Bound(typed_run), "t", "numbers", Numbers)

    with pytest.raises(AttributeError):
        record.wrold_size  # noqa: B018
    with pytest.raises(AttributeError):
        record.wrold_size = 3


def test_records_name_a_rank_that_raised_or_recorded_another_kind(typed_run):
    with pytest.raises(DistributedRunError, match="rank 1 raised during phase 'raises'"):
        records(_Bound(typed_run), "t", "raises", Numbers)
    with pytest.raises(TypeError, match="rank 0 recorded a Numbers in phase 'numbers'"):
        records(_Bound(typed_run), "t", "numbers", FitRecord)
