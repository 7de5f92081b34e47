"""Text renderings for the CLI and the callback: the run's per-area table with its failures
and skips, a line per result of a module's checks, the clause list.

What the CLI prints is wrapped to the terminal's width (80 columns when the output is not a
terminal): only a word longer than a line, a path say, may overrun it.
"""

from __future__ import annotations

import platform
import shutil
import textwrap
from collections import Counter

from lightning_conformance.reports.model import RUN_STATUSES, Result, Subject

__all__ = [
    "check_header",
    "check_summary",
    "clauses_markdown",
    "clauses_text",
    "result_lines",
    "run_summary",
    "stage_line",
    "width",
    "wrap",
]

_COLUMNS = RUN_STATUSES
# In the order the count line of ``check`` lists them.
_MARKS = {"passed": "passed", "failed": "FAILED", "error": "ERROR", "warned": "WARNED",
          "skipped": "skipped", "xfailed": "xfailed", "xpassed": "XPASSED"}
_BULLETS = {"skipped": "-", "warned": "!"}  # before the why of a result; "x" for the others
_INDENT = " " * 10
_SENTENCE_INDENT = " " * 18  # under the sentence of ``MOD-014  FAILED   sentence``
_NARROWEST = 40  # columns: a narrower terminal is read as this wide


def width() -> int:
    """The terminal's width in columns (its ``COLUMNS`` variable first; 80 when not a tty)."""
    return max(shutil.get_terminal_size((80, 24)).columns, _NARROWEST)


def wrap(line: str, columns: int, indent: str = "  ") -> list[str]:
    """``line`` in lines of at most ``columns``, each continuation under its own leading spaces
    plus ``indent``. A word longer than that (a path, a node id) is never broken."""
    if len(line) <= columns:
        return [line]
    lead = line[:len(line) - len(line.lstrip())]
    return textwrap.wrap(line.strip(), columns, initial_indent=lead,
                         subsequent_indent=lead + indent, break_long_words=False,
                         break_on_hyphens=False)


def run_summary(collector, paths, elapsed: float, columns: int | None = None) -> str:
    import torch

    from lightning_conformance.adapters.base import kit_version
    from lightning_conformance.session.results import device

    columns = columns or width()
    header = [f"lightning-conformance {kit_version()} · torch {torch.__version__} · "
              f"python {platform.python_version()} · {device()}", ""]
    lines = _details(collector, "failed", "FAILED") + _details(collector, "error", "ERROR")
    lines += _details(collector, "skipped", "SKIPPED")
    lines += [f"STALE deviation of {name}: {message}"
              for name in collector.targets for message in collector.stale[name]]
    lines += [f"COLLECTION ERROR {error}" for error in collector.collection_errors]
    total = {key: sum(collector.counts(n)[key] for n in collector.targets) for key in _COLUMNS}
    lines += ["", f"{sum(total.values())} clause runs on {len(collector.targets)} target(s): "
              + ", ".join(f"{total[key]} {key}" for key in _COLUMNS if total[key])
              + f" in {elapsed:.1f}s",
              "reports: " + ", ".join(str(path) for path in paths)]
    # the table is laid out to fit; every other line is wrapped (a message line by line)
    return "\n".join([*_wrapped(header, columns), *_table(collector, columns),
                      *_wrapped(lines, columns)])


def _wrapped(lines: list[str], columns: int) -> list[str]:
    return [part for line in lines for text in line.split("\n") for part in wrap(text, columns)]


def _table(collector, columns: int) -> list[str]:
    """The counts per area and target; a table too wide for ``columns`` drops the columns of
    statuses that no row has (a long target name may still overrun it)."""
    areas = sorted({clause_id.split("-")[0] for cases in collector.cases.values()
                    for clause_id in cases})
    labels = {name: f"{name} {adapter.version}" for name, adapter in collector.targets.items()}
    counts = {(area, name): collector.counts(name, area) for area in areas for name in labels}
    label_width = max([len(label) for label in labels.values()] + [6])
    shown = list(_COLUMNS)
    if 6 + label_width + 8 * len(shown) > columns:
        shown = [c for c in _COLUMNS if c in ("passed", "failed")
                 or any(count[c] for count in counts.values())]
    lines = [f"{'area':<5} {'target':<{label_width}} " + " ".join(f"{c:>7}" for c in shown)]
    for area in areas:
        for name, label in labels.items():
            lines.append(f"{area:<5} {label:<{label_width}} "
                         + " ".join(f"{counts[area, name][c]:>7}" for c in shown))
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


def result_lines(result: Result, script=None, columns: int | None = None) -> list[str]:
    """A result as ``MOD-014  FAILED   sentence``, with its why (and its script) below.

    ``columns``: wrap every line to that width (the why alone is wrapped, at 100, without it).
    """
    head = f"{result.clause}  {_MARKS[result.status]:<8} {result.sentence}".rstrip()
    lines = wrap(head, columns, _SENTENCE_INDENT) if columns else [head]
    if result.status != "passed" and result.message:
        why = f"{_INDENT}{_BULLETS.get(result.status, 'x')} {result.message.strip()}"
        lines += wrap(why.replace("\n", " "), columns or 100)
    if script is not None:  # a command to copy: whole, however long
        lines.append(f"{_INDENT}  reproduce: python {script}")
    return lines


def check_header(spec: str, subject: Subject | None) -> str:
    """The first line of ``check``: the module, and the Lightning it runs on."""
    runs_on = subject.runs_on if subject is not None else None
    return f"lightning-conformance check {spec}" + (f" on {runs_on.label}" if runs_on else "")


def stage_line(index: int, total: int, stage: str, results: list[Result]) -> str:
    """``[3/8] fit, validate, test and predict runs: 3 passed, 1 skipped in 2.1s``."""
    elapsed = sum(r.duration for r in results)
    return f"[{index}/{total}] {stage}: {_counted(results)} in {elapsed:.1f}s"


def _counted(results: list[Result]) -> str:
    """``24 passed, 10 skipped``: how many results have each status, in ``_MARKS`` order."""
    counts = Counter(r.status for r in results)
    return ", ".join(f"{counts[status]} {status}" for status in _MARKS if counts[status])


def check_summary(results: list[Result], scripts: dict, elapsed: float,
                  columns: int | None = None) -> list[str]:
    """The report of ``check`` (below its header): a line per check, the why under it, and a
    count line, wrapped to ``columns`` (default: the terminal's width)."""
    columns = columns or width()
    lines = []
    for result in results:
        lines += result_lines(result, scripts.get(result.clause), columns)
    lines += wrap(f"{len(results)} checks: {_counted(results)} in {elapsed:.1f}s", columns)
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
