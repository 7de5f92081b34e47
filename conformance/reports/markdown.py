"""The Markdown matrix of ``lightning-conformance report``: fit for a CI job summary.

At 300+ clauses a flat table is unreadable, so the page is: a legend, the counts per column,
one collapsed table per area (opened when it has a failure), the failures with their
messages, the numbered skip, warning and deviation reasons, and what changed between the
contract versions of the matrix. A module's checks (``check --json``) are one more column.
"""

from __future__ import annotations

import re

from lightning_conformance.reports.matrix import KINDS, Matrix, grouped
from lightning_conformance.spec.contract import CHANGES

__all__ = ["SYMBOLS", "WORDS", "markdown", "short_reason", "verdict"]

SYMBOLS = {"passed": "✅", "variant": "◐", "warned": "△", "failed": "❌", "skipped": "⏭",
           "deviation": "⚠", "stale": "❗", "missing": "—"}
WORDS = {"passed": "passed", "variant": "variant (passed an older expectation)",
         "warned": "warned (passed, with a risk)", "failed": "FAILED", "skipped": "skipped",
         "deviation": "known deviation (xfail)",
         "stale": "passed, but listed as a known deviation", "missing": "not run"}
# Cells whose reason is numbered under the tables.
_REASONED = ("warned", "skipped", "deviation")
MAX_MESSAGE_LINES = 40  # a job summary must stay short; the HTML page shows everything


def markdown(matrix: Matrix) -> str:
    """The whole Markdown page for ``matrix``."""
    reasons: dict[str, int] = {}  # reason text -> its number, in order of first use
    title = f"# Lightning conformance: {len(matrix.rows)} clauses × {matrix.subjects}"
    lines = [title + (" (INCOMPLETE)" if matrix.incomplete else ""), ""]
    lines += [f"> ⚠ **{_text(mark)}**" for mark in matrix.incomplete]  # counts of a part only
    lines += [""] if matrix.incomplete else []
    lines += ["Legend: " + " · ".join(f"{SYMBOLS[k]} {WORDS[k]}" for k in KINDS), ""]
    lines += _counts(matrix) + [""]
    for area in matrix.areas:
        lines += _area(matrix, area, reasons) + [""]
    lines += _failures(matrix) + _reasons(reasons) + _changes(matrix)
    return "\n".join(lines).rstrip() + "\n"


def _header(matrix: Matrix, first: str) -> list[str]:
    labels = [f"{_text(c.heading[0])}<br>{_text(c.heading[1])}"
              + (f"<br><sub>contract {_text(c.contract)}</sub>" if c.names_contract else "")
              + ("<br>**INCOMPLETE**" if c.interrupted else "")
              for c in matrix.columns]
    return [f"| {first} | " + " | ".join(labels) + " |",
            "|---|" + "---:|" * len(labels)]


def _counts(matrix: Matrix) -> list[str]:
    counts = [matrix.counts(i) for i in range(len(matrix.columns))]
    lines = _header(matrix, "")
    for kind in KINDS:
        if any(column[kind] for column in counts) or kind in ("passed", "failed"):
            lines.append(f"| {SYMBOLS[kind]} {WORDS[kind].split(' (')[0]} | "
                         + " | ".join(str(column[kind]) for column in counts) + " |")
    return lines


def _area(matrix: Matrix, area: str, reasons: dict) -> list[str]:
    rows = [row for row in matrix.rows if row.area == area]
    tally = {kind: sum(cell.kind == kind for row in rows for cell in row.cells)
             for kind in ("failed", "stale", "variant", "warned", "skipped", "deviation")}
    summary = " · ".join(f"{SYMBOLS[k]} {n}" for k, n in tally.items() if n)
    if all(cell.kind in ("passed", "missing") for row in rows for cell in row.cells):
        summary = "all passed"
    opened = " open" if tally["failed"] or tally["stale"] else ""
    lines = [f"<details{opened}><summary><b>{area}</b>: {len(rows)} clauses"
             + (f" · {summary}" if summary else "") + "</summary>", ""]
    lines += _header(matrix, "Clause")
    for row in rows:
        cells = [_symbol(row.id, cell, reasons) for cell in row.cells]
        lines.append(f"| **{row.id}** {_text(row.sentence)} | " + " | ".join(cells) + " |")
    return lines + ["", "</details>"]


def _symbol(clause_id: str, cell, reasons: dict) -> str:
    symbol = SYMBOLS[cell.kind]
    if cell.kind in _REASONED:
        reason = short_reason(clause_id, cell.message)
        number = reasons.setdefault(reason, len(reasons) + 1)
        return f"{symbol}<sup>{number}</sup>"
    return symbol


def short_reason(clause_id: str, message: str) -> str:
    """The reason without the clause ID it starts with, so equal reasons share a number."""
    reason = message.strip().splitlines()[0] if message.strip() else "no reason given"
    return reason.removeprefix(f"{clause_id} ").removeprefix(f"{clause_id}: ")


def _failures(matrix: Matrix) -> list[str]:
    failures = list(matrix.cells_of("failed", "stale"))
    if not failures:
        return []
    lines = [f"## Failures ({len(failures)})", ""]
    for row, column, cell in failures:
        lines += [f"**{row.id}** {verdict(cell)} on {_text(column.label)} "
                  f"(contract {column.contract}): {_text(row.sentence)}", ""]
        lines += _code(cell.message) + [""]
    return lines


def verdict(cell) -> str:
    """The word that heads a failure: FAILED, ERROR, or STALE DEVIATION for an xpass."""
    if cell.kind == "stale":
        return "STALE DEVIATION (passes, but is listed as a known deviation)"
    return "ERROR" if cell.status == "error" else "FAILED"


def _code(message: str) -> list[str]:
    text = message.rstrip().splitlines() or ["(no message)"]
    if len(text) > MAX_MESSAGE_LINES:
        more = len(text) - MAX_MESSAGE_LINES
        text = text[:MAX_MESSAGE_LINES] + [f"... {more} more lines (see the JSON or HTML report)"]
    longest = max((len(run) for run in re.findall(r"`+", message)), default=0)
    fence = "`" * max(3, longest + 1)  # a fence the message itself cannot close
    return [fence] + text + [fence]


def _reasons(reasons: dict) -> list[str]:
    if not reasons:
        return []
    lines = ["## Reasons (skips, warnings, known deviations)", ""]
    lines += [f"{number}. {_text(_shorten(reason))}" for reason, number in reasons.items()]
    return lines + [""]


def _shorten(reason: str, limit: int = 200) -> str:
    return reason if len(reason) <= limit else reason[:limit - 1].rstrip() + "…"


def _changes(matrix: Matrix) -> list[str]:
    if not matrix.changes:
        return []
    lines = ["## Changed between versions", "",
             "Clauses whose expectation differs between consecutive contract versions of this "
             "matrix (as `lightning-conformance diff OLD NEW` lists them).", ""]
    for old, new, found in matrix.changes:
        ids = len({d.clause.id for d in found})
        lines += [f"<details><summary><b>{old} → {new}</b>: {ids} clause(s)</summary>", ""]
        for group in grouped(found):
            lines.append(_group_title(group))
            if group[0].change:
                lines += [f"  - {old}: {_text(group[0].old)}", f"  - {new}: {_text(group[0].new)}"]
        lines += ["", "</details>", ""]
    return lines


def _group_title(group) -> str:
    first = group[0]
    if not first.change:
        return (f"- **{first.clause.id}** {first.kind} (holds for Lightning "
                f"{_text(first.clause.versions)}): {_text(first.clause.sentence)}")
    ids = ", ".join(d.clause.id for d in group)
    return (f"- `{first.change}` (since {CHANGES[first.change].since}), "
            f"{len(group)} clause(s): {ids}")


def _text(text: str) -> str:
    """Text for a Markdown line or table cell: no HTML, no table breaks, no emphasis."""
    text = " ".join(str(text).split())
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"),
                          ("*", "\\*")):
        text = text.replace(char, escaped)
    return text
