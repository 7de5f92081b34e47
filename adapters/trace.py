"""Record every hook call of a module, its callbacks and its datamodule, on any target.

Hooks are wrapped on the instance, in call-entry order, with their nesting depth. The
wrapper keeps the original function under ``__wrapped__`` and its signature under
``__signature__``, so Lightning's ``is_overridden`` and argument inspection see the
original method and the run behaves exactly as it would unrecorded.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable, Container, Iterable
from dataclasses import asdict, dataclass
from enum import Enum
from types import MethodType
from typing import Any, SupportsIndex, overload

import torch

__all__ = ["Event", "HookSequence", "Recorder", "Trace", "diff_lines", "summarise"]

_SKIPPED_ARGS = frozenset({"trainer", "pl_module"})
_MAX_ITEMS = 8


@dataclass(frozen=True)
class Event:
    """One hook call: who was called, with what (summarised), how deeply nested."""

    owner: str
    hook: str
    args: dict[str, Any]  # summarised: JSON values
    depth: int

    @property
    def name(self) -> str:
        return f"{self.owner}.{self.hook}"

    def render(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"{'  ' * self.depth}{self.name}({args})"


class HookSequence(list[str]):
    """A list of ``Owner.hook`` names; the pytest plugin renders a diff when two differ."""

    @overload
    def __getitem__(self, index: SupportsIndex) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> HookSequence: ...

    def __getitem__(self, index: SupportsIndex | slice) -> str | HookSequence:
        if isinstance(index, slice):
            return HookSequence(super().__getitem__(index))
        return super().__getitem__(index)


class Trace:
    """The events of one run, serialisable to JSON."""

    def __init__(self, events: Iterable[Event] | None = None) -> None:
        self.events: list[Event] = list(events or ())

    def names(self, *owners: str, hooks: Container[str] | None = None) -> HookSequence:
        """``Owner.hook`` names in entry order, optionally only these owners or hooks."""
        return HookSequence(
            event.name
            for event in self.events
            if (not owners or event.owner in owners) and (hooks is None or event.hook in hooks)
        )

    def calls(self, hook: str, owner: str = "Module") -> list[Event]:
        return [e for e in self.events if e.hook == hook and e.owner == owner]

    def index(self, name: str, start: int = 0) -> int:
        """Position of the first event named ``Owner.hook`` at or after ``start``."""
        for position in range(start, len(self.events)):
            if self.events[position].name == name:
                return position
        raise ValueError(f"{name} was never called (after event {start})")

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(event) for event in self.events]

    @classmethod
    def from_json(cls, data: Iterable[dict[str, Any]]) -> Trace:
        return cls(Event(**event) for event in data)

    def dumps(self) -> str:
        return json.dumps(self.to_json())

    def render(self) -> list[str]:
        return [event.render() for event in self.events]


class Recorder:
    """Wraps the hooks of objects so that each call is appended to ``self.trace``."""

    def __init__(self) -> None:
        self.trace = Trace()
        self._depth = 0

    def watch(self, obj: Any, owner: str, hooks: Iterable[str]) -> None:
        for name in hooks:
            method = getattr(obj, name, None)
            if isinstance(method, MethodType) and method.__self__ is obj:
                # a second run on the same object: record the original, not the last wrapper
                original: MethodType = getattr(method.__func__, "_lc_original", method)
                setattr(obj, name, MethodType(self._recorded(owner, name, original), obj))

    def _recorded(self, owner: str, name: str, method: MethodType) -> Callable[..., Any]:
        recorder = self
        signature = inspect.signature(method)

        def recorded(_self: Any, *args: Any, **kwargs: Any) -> Any:
            recorder.trace.events.append(
                Event(owner, name, _bind(signature, args, kwargs), recorder._depth)
            )
            recorder._depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                recorder._depth -= 1

        # function attributes: the original (for a second watch), and what inspect reads
        vars(recorded).update(_lc_original=method, __wrapped__=method.__func__,
                              __signature__=inspect.signature(method.__func__))
        recorded.__name__ = name
        recorded.__qualname__ = method.__func__.__qualname__
        return recorded


def _bind(signature: inspect.Signature, args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        bound = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        bound = {f"arg{i}": value for i, value in enumerate(args)} | kwargs
    return {key: summarise(value) for key, value in bound.items() if key not in _SKIPPED_ARGS}


def summarise(value: Any, depth: int = 0) -> Any:
    """A short, JSON-friendly description of a hook argument (nested dicts by their keys)."""
    if isinstance(value, Enum):  # e.g. Lightning's TrainerFn("fit") stage argument
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return f"Tensor{list(value.shape)}"
    if isinstance(value, torch.optim.Optimizer):
        return f"optimizer:{_torch_class_name(value, 'torch.optim')}"
    if isinstance(value, torch.device):
        return f"device:{value.type}"
    if isinstance(value, dict) and depth >= 1:
        return f"dict[{', '.join(sorted(map(str, value)))}]"
    if isinstance(value, dict):
        return {str(key): summarise(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [summarise(item, depth + 1) for item in value[:_MAX_ITEMS]]
    if callable(value):
        return "callable"
    return f"<{type(value).__name__}>"


def _torch_class_name(value: object, package: str) -> str:
    # LightningOptimizer subclasses the user's optimizer: report the torch class itself.
    for cls in type(value).__mro__:
        if cls.__module__.startswith(package):
            return cls.__name__
    return type(value).__name__


def diff_lines(expected: Iterable[object], actual: Iterable[object]) -> list[str]:
    """A unified diff of two sequences of lines, for failure messages."""
    return list(
        difflib.unified_diff(
            [str(line) for line in expected],
            [str(line) for line in actual],
            fromfile="expected",
            tofile="actual",
            lineterm="",
            n=3,
        )
    )
