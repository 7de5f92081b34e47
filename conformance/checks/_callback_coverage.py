"""Which MOD checks ``ConformanceCallback`` decides from a watched run, and why not the others.

The callback sees one run as it happens. A check that needs more than that (a second fit, a
copy of the weights, a DDP launch, the module's source) stays with ``lightning-conformance
check``; the end of a watched fit says so in one line.
"""

from __future__ import annotations

__all__ = ["COVERED", "NOT_COVERED", "not_covered_line"]

# The MOD checks that the rules of _callback_rules and _callback_checkpoints decide.
COVERED = ("MOD-007", "MOD-008", "MOD-009", "MOD-014", "MOD-015", "MOD-017", "MOD-022", "MOD-023",
           "MOD-025", "MOD-026")
# (why the callback cannot decide them, clause IDs)
NOT_COVERED = (
    ("Lightning raises those errors itself", ("MOD-001", "MOD-002", "MOD-003", "MOD-004",
                                              "MOD-005", "MOD-006", "MOD-010", "MOD-011",
                                              "MOD-012", "MOD-013")),
    ("need copies of weights and modes", ("MOD-016", "MOD-018", "MOD-019")),
    ("need more fits", ("MOD-020", "MOD-021", "MOD-024")),
    ("need the source, CUDA", ("MOD-027", "MOD-028")),
    ("need DDP ranks", ("MOD-029", "MOD-030", "MOD-031", "MOD-032", "MOD-033", "MOD-034")),
)


def _spans(ids) -> str:
    """``MOD-001..006, MOD-010``: three or more consecutive IDs as one span."""
    spans: list[list[int]] = []
    for number in sorted(int(clause.split("-")[1]) for clause in ids):
        if spans and number == spans[-1][-1] + 1:
            spans[-1].append(number)
        else:
            spans.append([number])
    return ", ".join(f"MOD-{span[0]:03d}..{span[-1]:03d}" if len(span) > 2 else
                     ", ".join(f"MOD-{n:03d}" for n in span) for span in spans)


def not_covered_line() -> str:
    """The MOD checks the callback cannot decide, and why, in one line."""
    groups = "; ".join(f"{_spans(ids)} ({why})" for why, ids in NOT_COVERED)
    return (f"lightning-conformance: not seen by this callback: {groups}. "
            "`lightning-conformance check` runs them.")
