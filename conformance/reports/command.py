"""``lightning-conformance report``: gather JSON reports and write the chosen renderings."""

from __future__ import annotations

import sys
from pathlib import Path

from lightning_conformance.reports.schema import ReportError, write_text
from lightning_conformance.session.interrupts import Interrupted

__all__ = ["OUTPUTS", "REPORT_DESC", "add_report_parser", "write_reports"]

REPORT_DESC = ("Render JSON reports of `run` and `check --json` (files, or directories "
               "searched recursively) as a Markdown matrix, a single-file HTML page and JUnit "
               "XML; a module's checks are one more column.")
OUTPUTS = {
    "markdown": "write the Markdown matrix to FILE ('-': stdout; the default when no output "
                "is named)",
    "html": "write the single-file HTML page to FILE",
    "junit": "write JUnit XML (one testsuite per column: target/version or module) to FILE",
}


def add_report_parser(commands, handler) -> None:
    report = commands.add_parser("report", help=REPORT_DESC, description=REPORT_DESC)
    report.add_argument("paths", nargs="+", metavar="PATH",
                        help="a report file, or a directory holding reports at any depth")
    for name, help_text in OUTPUTS.items():
        report.add_argument(f"--{name}", metavar="FILE", help=help_text)
    report.set_defaults(handler=handler)


def write_reports(args) -> int:
    """Load the matrix of ``args.paths`` and write each rendering asked for; 0 when done, 1
    when a report comes from an interrupted run (every rendering marks its column).

    Every file that is no readable report is named on stderr with the reason, and the rest
    are read; ReportError when none is left.
    """
    from lightning_conformance.reports.html import html_page
    from lightning_conformance.reports.junit import junit_xml
    from lightning_conformance.reports.markdown import markdown
    from lightning_conformance.reports.matrix import load_matrix

    unreadable: list[ReportError] = []
    try:
        matrix = load_matrix(args.paths, unreadable=unreadable)
    finally:
        _tell([f"lightning-conformance: cannot read {error}" for error in unreadable])
    renderers = {"markdown": markdown, "html": html_page, "junit": junit_xml}
    wanted = {name: getattr(args, name) for name in renderers if getattr(args, name)}
    written: list[str] = []
    try:
        for name, destination in (wanted or {"markdown": "-"}).items():
            _write(renderers[name](matrix), destination)
            written.append(destination)
    except Interrupted as stop:  # each output is whole or absent (write_text)
        stop.finished = written
        stop.detail = f"wrote {', '.join(written)}" if written else "nothing written"
        raise
    written = [path for path in written if path != "-"]
    _tell([f"{len(matrix.columns)} report(s), {len(matrix.rows)} clauses"
           + (f": wrote {', '.join(written)}" if written else ""), *matrix.incomplete])
    return 1 if matrix.incomplete else 0


def _tell(lines: list[str]) -> None:
    """Lines for the reader on stderr (stdout may be the Markdown), wrapped to the terminal."""
    from lightning_conformance.reports.terminal import width, wrap

    for line in lines:
        print("\n".join(wrap(line, width(), "    ")), file=sys.stderr)


def _write(text: str, destination: str) -> None:
    if destination == "-":
        sys.stdout.write(text)
        return
    path = Path(destination)
    try:  # checked before reading; writing may still fail (a full disk)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    except OSError as error:
        raise ReportError(f"could not write {destination}: {error.strerror}") from None
