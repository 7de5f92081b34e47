"""The single-file HTML matrix of ``lightning-conformance report``.

Everything is inline (style, script, no web fonts, no CDN), so the page can be archived as
a CI artifact and opened offline. Every text from a report is escaped with ``html.escape``.
Rows carry ``data-area``, ``data-kinds`` and ``data-text``; the script in
``_report_html_assets`` filters on them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from html import escape

from lightning_conformance.reports.html_assets import SCRIPT, STYLE
from lightning_conformance.reports.markdown import WORDS, verdict
from lightning_conformance.reports.matrix import KINDS, Matrix, grouped
from lightning_conformance.spec.contract import CHANGES

__all__ = ["html_page"]

_TITLE = "Lightning conformance matrix"
# Symbols every common font has (no colour emoji needed); \ufe0e asks for the text form.
SYMBOLS = {"passed": "✓", "variant": "◐", "warned": "△", "failed": "✗", "skipped": "↷",
           "deviation": "⚠\ufe0e", "stale": "!", "missing": "·"}


def html_page(matrix: Matrix) -> str:
    """The whole HTML page for ``matrix``."""
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_TITLE}</title><style>{STYLE}</style></head><body>",
        '<header class="bar">',
        f"<h1>{_TITLE}</h1><span class=\"meta\">{len(matrix.rows)} clauses × "
        f"{escape(matrix.subjects)} · generated {created}</span>",
        _filters(matrix),
        "</header><main>",
        *(f'<p class="k-failed">⚠\ufe0e {escape(mark)}</p>' for mark in matrix.incomplete),
        _legend(),
        _table(matrix),
        _changes(matrix),
        _footer(matrix),
        f"</main><script>{SCRIPT}</script></body></html>",
    ]) + "\n"


def _filters(matrix: Matrix) -> str:
    per_area = Counter(row.area for row in matrix.rows)
    present = Counter(cell.kind for row in matrix.rows for cell in row.cells)
    hidden = "" if present["failed"] or present["stale"] else " hidden"
    areas = "".join(_chip("area", area, f"{area} <small>{per_area[area]}</small>")
                    for area in matrix.areas)
    kinds = "".join(_chip("status", kind, f"{SYMBOLS[kind]} {_word(kind)}")
                    for kind in KINDS if present[kind])
    return ('<form id="filters" autocomplete="off">'
            f'<div class="group"><b>Area</b>{areas}'
            '<button type="button" class="all" data-name="area">all/none</button></div>'
            f'<div class="group"><b>Status</b>{kinds}'
            '<button type="button" class="all" data-name="status">all/none</button></div>'
            '<input type="search" name="q" placeholder="Filter by clause ID or words">'
            f'<button type="button" id="open-failures"{hidden}>open all failures</button>'
            '<span id="shown"></span></form>')


def _chip(name: str, value: str, label: str) -> str:
    return (f'<label class="chip"><input type="checkbox" name="{name}" '
            f'value="{escape(value)}" checked>{label}</label>')


def _word(kind: str) -> str:
    return WORDS[kind].split(" (")[0].split(",")[0].lower()


def _legend() -> str:
    spans = "".join(f'<span class="k-{kind}">{SYMBOLS[kind]} {escape(WORDS[kind])}</span>'
                    for kind in KINDS)
    return (f'<p class="legend meta">{spans} Hover a cell for its reason; open a '
            "clause's failures below its sentence.</p>")


def _table(matrix: Matrix) -> str:
    parts = ['<table class="matrix"><thead><tr><th class="clause">Clause</th>']
    for index, column in enumerate(matrix.columns):
        parts.append(_column_header(column, matrix.counts(index)))
    parts.append("</tr></thead><tbody>")
    for area in matrix.areas:
        rows = [row for row in matrix.rows if row.area == area]
        parts.append(f'<tr class="area-row" data-area="{escape(area)}">'
                     f'<th colspan="{len(matrix.columns) + 1}">{escape(area)}'
                     f"<small>{len(rows)} clause{'s' if len(rows) != 1 else ''}</small></th></tr>")
        parts += [_row(row, matrix.columns) for row in rows]
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _column_header(column, counts: dict) -> str:
    contract = (f'<span class="contract">contract {escape(column.contract)}</span>'
                if column.names_contract else "")
    if column.interrupted:  # its counts are those of a part of the run
        contract += '<span class="contract k-failed">INCOMPLETE</span>'

    name, detail = column.heading
    tally = " ".join(f'<span class="k-{kind}" title="{_word(kind)}">{SYMBOLS[kind]}&nbsp;'
                     f"{count}</span>" for kind, count in counts.items() if count)
    paths = " ".join(map(str, column.paths))
    return (f'<th title="{escape(paths)}"><span class="target">'
            f'{escape(name)}</span><span class="version">{escape(detail)}'
            f'</span>{contract}<span class="counts">{tally}</span></th>')


def _row(row, columns) -> str:
    kinds = " ".join(sorted({cell.kind for cell in row.cells}))
    text = f"{row.id} {row.sentence}".lower()
    cells = "".join(_cell(cell, column) for cell, column in zip(row.cells, columns, strict=True))
    return (f'<tr class="clause-row" id="{escape(row.id)}" data-area="{escape(row.area)}" '
            f'data-kinds="{kinds}" data-text="{escape(text)}"><th class="clause">'
            f'<span class="id">{escape(row.id)}</span>{escape(row.sentence)}'
            f"{_failures(row, columns)}</th>{cells}</tr>")


def _cell(cell, column) -> str:
    title = f"{column.label}: {WORDS[cell.kind]}"
    if cell.message.strip():  # a failure's first line; its whole text is under the sentence
        title += "\n" + (cell.message.strip().splitlines()[0] if cell.kind == "failed"
                         else cell.message)
    return (f'<td class="c k-{cell.kind}" data-kind="{cell.kind}" '
            f'title="{escape(title)}">{SYMBOLS[cell.kind]}</td>')


def _failures(row, columns) -> str:
    failed = [(column, cell) for column, cell in zip(columns, row.cells, strict=True)
              if cell.kind in ("failed", "stale")]
    if not failed:
        return ""
    where = ", ".join(column.label for column, _ in failed)
    body = "".join(f'<div class="where">{escape(verdict(cell))} '
                   f"on {escape(column.label)} (contract {escape(column.contract)})</div>"
                   f"<pre>{escape(cell.message.rstrip() or '(no message)')}</pre>"
                   for column, cell in failed)
    return (f'<details class="fail"><summary>{len(failed)} failure(s): {escape(where)}'
            f"</summary>{body}</details>")


def _changes(matrix: Matrix) -> str:
    if not matrix.changes:
        return ""
    parts = ['<section id="changes"><h2>Changed between versions</h2><p class="meta">'
             "Clauses whose expectation differs between consecutive contract versions of "
             "this matrix (as <code>lightning-conformance diff OLD NEW</code> lists them).</p>"]
    for old, new, found in matrix.changes:
        ids = len({d.clause.id for d in found})
        rows = "".join(_change_row(group) for group in grouped(found))
        table = (f'<table class="diff"><tr><th>Change</th><th>Clauses</th>'
                 f"<th>Under {escape(str(old))}</th><th>Under {escape(str(new))}</th></tr>"
                 f"{rows}</table>" if found else "")
        parts.append(f'<details class="change"><summary>{escape(str(old))} → '
                     f"{escape(str(new))}: {ids} clause(s)</summary>{table}</details>")
    return "\n".join(parts) + "</section>"


def _change_row(group) -> str:
    first = group[0]
    links = ", ".join(f'<a href="#{escape(d.clause.id)}" class="ref">{escape(d.clause.id)}</a>'
                      for d in group)
    if not first.change:  # a clause added to or removed from the contract
        return (f"<tr><td>{escape(first.kind)}<br><small>Lightning "
                f"{escape(first.clause.versions)}</small></td><td>{links} "
                f"{escape(first.clause.sentence)}</td><td>{escape(first.old)}</td>"
                f"<td>{escape(first.new)}</td></tr>")
    since = CHANGES[first.change].since
    return (f"<tr><td><code>{escape(first.change)}</code><br><small>since {escape(since)}"
            f"</small></td><td>{links}</td><td>{escape(first.old)}</td>"
            f"<td>{escape(first.new)}</td></tr>")


def _footer(matrix: Matrix) -> str:
    items = "".join(f"<li>{escape(column.label)}, contract {escape(column.contract)}: "
                    f"<code>{escape(' '.join(map(str, column.paths)))}</code> "
                    f"({escape(column.created)})</li>"
                    for column in matrix.columns)
    return f"<footer><b>Reports</b><ul>{items}</ul></footer>"
