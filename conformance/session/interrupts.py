"""SIGINT and SIGTERM while a command runs: stop, keep what finished, say so in one line.

By default Python turns SIGINT into a KeyboardInterrupt, and SIGTERM (a CI cancel, ``timeout``)
ends the process on the spot: no ``finally`` block runs, so the DDP ranks, which live in their
own process group, outlive the kit, and ``atexit`` never removes its temporary folders. While a
command of the CLI runs (``handling``), both signals raise instead, so that every cleanup on the
way out runs; the command then names what finished and exits with 128 + the signal's number
(130, 143), the status a shell gives a process that the signal killed.

Only the first signal raises. Later ones are noted, not raised, so that the cleanup the first
one set off (killing the ranks, writing the incomplete report) runs to its end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lightning_conformance.session.results import ResultCollector

__all__ = [
    "Interrupted",
    "StopOnSignal",
    "deferred",
    "handling",
    "raise_if_received",
    "received",
    "settle",
    "stopped_run",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A command was stopped by SIGINT or SIGTERM.

    A BaseException but no KeyboardInterrupt: Lightning's fit turns a KeyboardInterrupt into
    ``sys.exit(1)`` (after its own shutdown) but re-raises any other exception after its
    teardown, and no ``except Exception`` of a check or of a user's module swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.finished: list[Any] = []  # what completed before the signal (clause runs, checks)
        self.detail = ""  # where the incomplete report went, said after the count

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def line(self, noun: str) -> str:
        """``interrupted after 52 clause runs (SIGINT); incomplete report: ...``."""
        text = f"interrupted after {len(self.finished)} {noun} ({signal.Signals(self.signum).name})"
        return f"{text}; {self.detail}" if self.detail else text


class _State:
    received: int | None = None  # the first signal of the command now running
    armed = False  # whether a signal raises (only the first one, and not once ``settle``d)


_STATE = _State()


def received() -> int | None:
    """The first SIGINT or SIGTERM that arrived since ``handling`` began, or None."""
    return _STATE.received


def _handler(raising: Callable[[int], BaseException]):
    def handle(signum: int, frame: Any) -> None:
        if _STATE.received is None:
            _STATE.received = signum
        if _STATE.armed:
            _STATE.armed = False
            raise raising(signum)

    return handle


@contextmanager
def handling(raising: Callable[[int], BaseException] = Interrupted) -> Iterator[None]:
    """While inside, the first SIGINT or SIGTERM raises ``raising(signum)``.

    ``run`` raises a KeyboardInterrupt, the one exception pytest stops its session for;
    ``check`` and ``report`` raise ``Interrupted``. Outside the main thread, where Python
    delivers no signal, nothing changes.
    """
    _STATE.received, _STATE.armed = None, True
    in_main = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS} if in_main else {}
    for signum in previous:
        signal.signal(signum, _handler(raising))
    try:
        yield
    finally:
        _STATE.armed = False
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends, then go to the handler they would have
    gone to (``ddp.launch``: raised inside ``Popen``, after the fork, they would leave a rank
    that the harness does not know yet, so that no kill would find it)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Python delivers signals to the main thread only
        return
    arrived: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: arrived.append(signum))
                for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for number in dict.fromkeys(arrived):  # each once, in the order they came
            signal.raise_signal(number)


def settle() -> None:
    """From here on the command only writes what it has: a signal is noted, not raised."""
    _STATE.armed = False


def raise_if_received(finished: list[Any], detail: str = "") -> None:
    """Raise ``Interrupted`` for a signal noted after ``settle``, naming what finished."""
    if _STATE.received is not None:
        stop = Interrupted(_STATE.received)
        stop.finished, stop.detail = list(finished), detail
        raise stop


def stopped_run(collector: ResultCollector | None, directory: Path, signum: int) -> Interrupted:
    """The interrupt of ``run``, once the clauses that ran are in incomplete reports (beside,
    never over, the complete reports of an earlier run); ``collector`` None: none ran."""
    stop = Interrupted(signum)
    written = []
    if collector is not None:
        stop.finished = collector.runs()
        written = collector.write(directory, interrupted=True)
    stop.detail = ("incomplete report: " + ", ".join(map(str, written)) if written
                   else "no report written")
    return stop


class StopOnSignal:
    """A pytest plugin for ``run``: a clause the signal reached stops the session, whatever
    the clause's code made of the KeyboardInterrupt.

    Lightning turns the KeyboardInterrupt of a fit into ``sys.exit(1)``, which pytest would
    record as the clause's failure before going on with the next clause.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        try:
            return (yield)
        finally:
            _stop_if_received()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        try:
            return (yield)
        finally:
            _stop_if_received()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item):
        try:
            return (yield)
        finally:
            _stop_if_received()


def _stop_if_received() -> None:
    if _STATE.received is not None:
        raise KeyboardInterrupt  # replaces what the clause made of it (SystemExit, a failure)
