"""Benchmarks of the kit against the performance targets of DESIGN.md (``python -m benchmarks``).

- ``overhead``: per-step wall time of a hand-written PyTorch loop, the reference Trainer and
  Lightning's Trainer on the same tiny model, as ratios to the hand-written loop.
- ``suite``: wall time of the whole CPU suite per target, split by area, and the version
  matrix's time read from its report directory.

Targets are checked by this benchmark, never by timed tests.
"""

__all__ = ["overhead", "suite"]
