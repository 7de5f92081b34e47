"""Text renderings for the CLI and the callback: the run's per-area table with its failures
and skips, a line per result of a module's checks, the clause list."""

from __future__ import annotations

import platform
import textwrap
from collections import Counter

from lightning_conformance.reports.model import RUN_STATUSES, Result

__all__ = ["check_lines", "check_summary", "clauses_markdown", "clauses_text", "result_lines",
           "run_summary"]

_COLUMNS = RUN_STATUSES
# In the order the count line of ``check`` lists them.
_MARKS = {"passed": "passed", "failed": "FAILED", "error": "ERROR", "warned": "WARNED",
          "skipped": "skipped", "xfailed": "xfailed", "xpassed": "XPASSED"}
_BULLETS = {"skipped": "-", "warned": "!"}  # before the why of a result; "x" for the others
_INDENT = " " * 10


def run_summary(collector, paths, elapsed: float) -> str:
    import torch

    from lightning_conformance.adapters.base import kit_version
    from lightning_conformance.session.results import device

    lines = [f"lightning-conformance {kit_version()} · torch {torch.__version__} · "
             f"python {platform.python_version()} · "
             f"{device()}", ""]
    lines += _table(collector)
    lines += _details(collector, "failed", "FAILED") + _details(collector, "error", "ERROR")
    lines += _details(collector, "skipped", "SKIPPED")
    lines += [f"STALE deviation of {name}: {message}"
              for name in collector.targets for message in collector.stale[name]]
    lines += [f"COLLECTION ERROR {error}" for error in collector.collection_errors]
    total = {key: sum(collector.counts(n)[key] for n in collector.targets) for key in _COLUMNS}
    lines += ["", f"{sum(total.values())} clause runs on {len(collector.targets)} target(s): "
              + ", ".join(f"{total[key]} {key}" for key in _COLUMNS if total[key])
              + f" in {elapsed:.1f}s",
              "reports: " + ", ".join(str(path) for path in paths)]
    return "\n".join(lines)


def _table(collector) -> list[str]:
    areas = sorted({clause_id.split("-")[0] for cases in collector.cases.values()
                    for clause_id in cases})
    labels = {name: f"{name} {adapter.version}" for name, adapter in collector.targets.items()}
    width = max([len(label) for label in labels.values()] + [6])
    header = f"{'area':<5} {'target':<{width}} " + " ".join(f"{c:>7}" for c in _COLUMNS)
    lines = [header]
    for area in areas:
        for name, label in labels.items():
            counts = collector.counts(name, area)
            lines.append(f"{area:<5} {label:<{width}} "
                         + " ".join(f"{counts[c]:>7}" for c in _COLUMNS))
    return lines


def _details(collector, status: str, word: str) -> list[str]:
    lines = []
    for name in collector.targets:
        version = collector.targets[name].version
        for result in collector.results(name):
            if result.status != status:
                continue
            case = result.first(status)
            if status == "skipped":
                lines.append(f"SKIPPED {result.clause} on {name} {version}: {case.message}")
                continue
            lines += ["", f"{word} {result.clause} on {name} {version}: {result.sentence}",
                      f"  source: {result.source or '?'}",
                      f"  test: {case.nodeid}",
                      textwrap.indent(case.message.rstrip(), "  ")]
    return lines


def result_lines(result: Result, script=None) -> list[str]:
    """A result as ``MOD-014  FAILED   sentence``, with its why (and its script) below."""
    lines = [f"{result.clause}  {_MARKS[result.status]:<8} {result.sentence}".rstrip()]
    if result.status != "passed" and result.message:
        lines += textwrap.wrap(result.message, 100,
                               initial_indent=f"{_INDENT}{_BULLETS.get(result.status, 'x')} ",
                               subsequent_indent=f"{_INDENT}  ")
    if script is not None:
        lines.append(f"{_INDENT}  reproduce: python {script}")
    return lines


def check_lines(spec: str, results: list[Result], scripts: dict) -> list[str]:
    """The header of ``check`` and a line per check (with the why under it): all that an
    interrupted ``check`` shows before its one line."""
    lines = [f"lightning-conformance check {spec}"]
    for result in results:
        lines += result_lines(result, scripts.get(result.clause))
    return lines


def check_summary(spec: str, results: list[Result], scripts: dict, elapsed: float) -> list[str]:
    """The report of ``check``: a line per check (with the why under it) and a count line."""
    lines = check_lines(spec, results, scripts)
    counts = Counter(r.status for r in results)
    parts = ", ".join(f"{counts[status]} {status}" for status in _MARKS if counts[status])
    lines.append(f"{len(results)} checks: {parts} in {elapsed:.1f}s")
    return lines


def clauses_text(clauses) -> str:
    return "\n".join(f"{c.id:<9} {c.versions or 'any':<8} {c.sentence}" for c in clauses) + \
        f"\n{len(clauses)} clauses"


def clauses_markdown(clauses) -> str:
    lines = [
        "# Clauses",
        "",
        "Generated by `lightning-conformance clauses --markdown`; do not edit by hand.",
        "",
        "| ID | Versions | Clause | Source | Test |",
        "|---|---|---|---|---|",
    ]
    for c in clauses:
        lines.append(f"| {c.id} | {c.versions or 'any'} | {c.sentence.replace('|', '/')} | "
                     f"`{c.source}` | `{c.test}` |")
    return "\n".join(lines) + f"\n\n{len(clauses)} clauses.\n"
