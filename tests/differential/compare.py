"""Compare two event lists: the first divergent event, with context, or None."""

from __future__ import annotations

import json
import math

__all__ = ["first_divergence", "same"]

REL, ABS = 1e-4, 1e-6
_CONTEXT = 6


def same(a, b) -> bool:
    """Equal, with floats equal within a tolerance (both targets start from the same seed)."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return math.isclose(a, b, rel_tol=REL, abs_tol=ABS) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def where(a, b, path="") -> str:
    """The path of the first difference inside two payloads, with both values."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for key in a:
            if not same(a[key], b[key]):
                return where(a[key], b[key], f"{path}.{key}")
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if not same(x, y):
                return where(x, y, f"{path}[{index}]")
    return f"{path or '<payload>'}: reference {a!r}, lightning {b!r}"


def _same_event(ref, other) -> bool:
    if ref[1] == other[1] == "raised":  # the same stage fails with the same exception type
        return ref[0] == other[0] and ref[2]["type"] == other[2]["type"]
    return same(ref, other)


def render(event) -> str:
    if event is None:
        return "<no event>"
    stage, kind, payload = event
    return f"{stage} {kind} {json.dumps(payload, default=str)}"


def first_divergence(reference: list, other: list, other_name: str = "lightning") -> str | None:
    """A report of the first event where ``other`` differs from ``reference``, else None."""
    for index in range(max(len(reference), len(other))):
        ref = reference[index] if index < len(reference) else None
        got = other[index] if index < len(other) else None
        if ref is not None and got is not None and _same_event(ref, got):
            continue
        context = [f"    {render(event)}" for event in reference[max(0, index - _CONTEXT):index]]
        return "\n".join([
            f"first divergent event #{index} (of {len(reference)} reference and "
            f"{len(other)} {other_name} events)",
            "  events before it (identical on both):", *context,
            f"  reference: {render(ref)}",
            f"  {other_name}: {render(got)}",
            *([f"  differs at {where(ref[2], got[2])}"]
              if ref is not None and got is not None and ref[:2] == got[:2] else []),
        ])
    return None
