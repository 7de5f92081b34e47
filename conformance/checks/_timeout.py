"""A hard time limit on each run of a user's module, and where the run was when it hit it.

``time_limit(seconds)`` wraps one fit (or validate, test, predict). In the main thread it
works like pytest-timeout's signal method: ``SIGALRM`` runs a handler in the main thread,
which raises ``RunTimeout`` in the hung frame itself. That stops a pure-Python loop, a
``time.sleep`` and a lock wait alike (each returns to the interpreter on a signal), so no
thread is left behind. Lightning's handler for a ``BaseException`` tears its Trainer down and
re-raises, and the next run builds a new Trainer. The timer fires again every ``seconds``,
and raises again while the frame that hung is still running: the module swallowed the first
``RunTimeout``. Once that frame has returned the run is unwinding, and a second ``RunTimeout``
would only cut Lightning's teardown short.

Signals reach the main thread only, so in another thread a watchdog thread raises
``RunTimeout`` asynchronously in the checking thread, once. That stops Python code, but a call
blocked in C (a sleep, a lock) only when it returns; the failure says so.
"""

from __future__ import annotations

import ctypes
import linecache
import math
import os
import signal
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

from lightning_conformance.checks._base import CheckInputError

__all__ = ["DEFAULT_TIMEOUT", "ENV", "HINT", "RunTimeout", "locate", "run_timeout", "time_limit"]

ENV = "LCK_FIT_TIMEOUT"
# A check runs two epochs of two batches: a small module takes seconds, a real model on CPU
# a minute or two. Five minutes ends a hang and leaves a slow module room to finish.
DEFAULT_TIMEOUT = 300.0
# Appended to the failure of a run that hit its limit.
HINT = "if it is only slow, raise the limit with --fit-timeout, fit_timeout= or LCK_FIT_TIMEOUT"
_SIGNALS = hasattr(signal, "SIGALRM") and hasattr(signal, "setitimer")  # not on Windows
_THREAD = ("; it ran outside the main thread, where a call blocked in C is stopped only when "
           "it returns")
# Packages whose frames are not the module's own: a hang is located in the user's code.
_LIBRARIES = ("torch", "lightning", "pytorch_lightning", "lightning_fabric", "lightning_utilities",
              "torchmetrics", "lightning_conformance", "lightning_conformance.reference",
              "lightning_conformance.adapters")


class RunTimeout(BaseException):
    """A run did not finish within its time limit. Not an ``Exception``, so that a module's
    ``except Exception`` does not swallow it; Lightning still tears its Trainer down.

    ``str()``: where it hung, file and line; ``summary``: the same in a few words.
    """

    def __init__(self, message: str = "", summary: str = ""):
        super().__init__(message)
        self.summary = summary or message


def run_timeout(value: float | str | None, where: str = "fit_timeout") -> float:
    """The time limit in seconds: ``value``, else ``$LCK_FIT_TIMEOUT``, else the default.

    ``where`` names the source of ``value`` in the CheckInputError raised for a bad one.
    """
    if value is None or value == "":
        value, where = os.environ.get(ENV) or None, ENV
        if value is None:
            return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise CheckInputError(f"{where} {value!r}: give the time limit of one run in seconds, "
                              "such as 300 (0: no limit)")
    return seconds


class time_limit:  # a ``with`` statement's helper, named like contextlib's (``suppress``)
    """``with time_limit(seconds):`` raises ``RunTimeout`` in the body once ``seconds`` pass;
    the ``RunTimeout`` that leaves the block says where the body was. 0 seconds: no limit."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.where = ""  # where the run was when the limit fired ("": it did not fire)
        self.function = ""  # the function of the module's own code it was in
        self._done = False  # a plain flag: the signal handler reads it, and must not block
        self._firing = False  # the handler is running: a signal meanwhile is not another
        self._hung: FrameType | None = None  # the frame it hung in
        self._restore: tuple = ()  # the SIGALRM handler and timer to put back
        self._watchdog: threading.Thread | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()  # the watchdog fires under it, only while the run goes on

    def __enter__(self) -> time_limit:
        if self.seconds and _SIGNALS and threading.current_thread() is threading.main_thread():
            self._arm()
        elif self.seconds:
            self._watchdog = threading.Thread(target=self._watch, args=(threading.get_ident(),),
                                              name="lck-fit-timeout", daemon=True)
            self._watchdog.start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        # First: from here on the handler does nothing (``_fire``) and the watchdog fires no
        # more, so that nothing cuts the restoring short.
        self._done = True
        self._hung = None  # the module's frames, and their locals, are not kept
        if self._watchdog is not None:
            self._stop_watchdog(self._watchdog)
        if self._restore:
            self._disarm(*self._restore)
        if self.where and not isinstance(error, (KeyboardInterrupt, SystemExit)):
            # whatever else ended the run (Lightning may wrap the RunTimeout), it ran out of
            # time; an interrupt or an exit goes on as it is
            cause = None if isinstance(error, RunTimeout) else error
            summary = f"it hung in {self.function} and was stopped after {self.seconds:g} s"
            raise RunTimeout(f"did not finish within {self.seconds:g} s: {self.where}",
                             summary) from cause

    def _arm(self) -> None:
        delay, interval = signal.getitimer(signal.ITIMER_REAL)
        if delay and delay <= self.seconds:
            return  # an outer timer (pytest-timeout's) fires first and ends the run anyway
        handler = signal.signal(signal.SIGALRM, self._fire)
        self._restore = (handler, delay, interval, time.monotonic())
        signal.setitimer(signal.ITIMER_REAL, self.seconds, self.seconds)

    @staticmethod
    def _disarm(handler, delay: float, interval: float, started: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if delay:  # the outer timer keeps its own deadline
            left = delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), interval)

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        if self._done or self._firing or _in_own_code(frame):
            return  # the run has ended, is being located, or has not begun
        self._firing = True
        try:
            if self._hung is None:
                self._hung = _own_frame(frame) or frame
                self.where, self.function = locate(self._hung, frame)
            elif not _on_stack(self._hung, frame):
                return  # the first RunTimeout is unwinding the run: let Lightning tear down
        finally:
            self._firing = False
        raise RunTimeout

    def _watch(self, thread: int) -> None:
        wait = self.seconds
        while not self._wake.wait(wait):
            with self._lock:
                if self._done:
                    return
                frame = sys._current_frames().get(thread)
                if _in_own_code(frame):  # still entering the block: the run has not begun
                    wait = 0.01
                    continue
                hung = _own_frame(frame) or frame
                self.where, self.function = locate(hung, frame)
                self.where += _THREAD
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                                           ctypes.py_object(RunTimeout))
                return

    def _stop_watchdog(self, watchdog: threading.Thread) -> None:
        with self._lock:  # once we hold it, the watchdog has fired or never will
            self._wake.set()
        watchdog.join()  # it returns at once now: no thread outlives the block
        # one it fired that has not been raised yet would be raised after the block: drop it
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)


_OWN_CODE = {time_limit.__enter__.__code__, time_limit._arm.__code__,
             time_limit.__exit__.__code__, time_limit._disarm.__code__}


def _stack(frame: FrameType | None) -> Iterator[FrameType]:
    while frame is not None:
        yield frame
        frame = frame.f_back


def _in_own_code(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside this module's entering or leaving of a block."""
    return any(each.f_code in _OWN_CODE for each in _stack(frame))


def _on_stack(wanted: FrameType, frame: FrameType | None) -> bool:
    return any(each is wanted for each in _stack(frame))


def _own_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame of the module's own code (not a library's, nor the kit's)."""
    library = _library_code()
    return next((each for each in _stack(frame) if not library(each.f_code.co_filename)), None)


def locate(hung: FrameType | None, innermost: FrameType | None) -> tuple[str, str]:
    """``it hung in training_step at file.py:12 (`while True:`)`` and ``training_step``:
    where it hung (then the innermost frame, when that is elsewhere), and its function."""
    if hung is None or innermost is None:
        return "its stack could not be read", "an unknown place"
    text = f"it hung in {_frame(hung)}"
    if hung is not innermost:
        text += f", inside {_frame(innermost)}"
    return text, hung.f_code.co_name


def _frame(frame: FrameType) -> str:
    path, line, name = frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
    shown = os.path.relpath(path) if path.startswith(os.path.join(os.getcwd(), "")) else path
    source = linecache.getline(path, line).strip()
    return f"{name} at {shown}:{line}" + (f" (`{source}`)" if source else "")


def _library_code() -> Callable[[str], bool]:
    """Whether a file holds code that is not the module's: ``<frozen ...>`` and ``<string>``,
    the packages of _LIBRARIES, and the standard library but what is installed in it."""
    paths = sysconfig.get_paths()
    packages = ("<", *(os.path.join(folder, "")
                       for name in _LIBRARIES  # those imported: no other has a frame
                       for folder in getattr(sys.modules.get(name), "__path__", ())))
    standard = tuple(os.path.join(paths[key], "") for key in ("stdlib", "platstdlib"))
    # a venv's site-packages lies inside its platstdlib: what is installed there is not stdlib
    installed = tuple(os.path.join(paths[key], "") for key in ("purelib", "platlib"))
    return lambda path: path.startswith(packages) or (
        path.startswith(standard) and not path.startswith(installed))
