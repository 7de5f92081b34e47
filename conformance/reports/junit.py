"""JUnit XML of ``lightning-conformance report``: what CI test-result viewers read.

One ``<testsuite>`` per report (target/version), one ``<testcase>`` per clause with
``classname`` = area and ``name`` = "ID [target version]". Failures carry the message,
skips and known deviations a ``<skipped>`` with the reason, as pytest's own junitxml does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lightning_conformance.reports.matrix import Matrix

__all__ = ["junit_xml"]

# Characters XML 1.0 cannot hold (ANSI escapes in a message would make the file unreadable).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def junit_xml(matrix: Matrix) -> str:
    """The JUnit XML document for ``matrix``, one suite per column."""
    suites = ET.Element("testsuites", name="lightning-conformance")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    duration = 0.0
    for index, column in enumerate(matrix.columns):
        suite = _suite(matrix, index, column)
        suites.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
        duration += float(suite.get("time"))
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{duration:.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _suite(matrix: Matrix, index: int, column) -> ET.Element:
    suite = ET.Element("testsuite", name=column.label, timestamp=column.created)
    properties = ET.SubElement(suite, "properties")
    reports = " ".join(map(str, column.paths))
    for name, value in (("target", column.target), ("target_version", column.version),
                        ("contract_version", column.contract), ("reports", reports)):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    duration = 0.0
    for row in matrix.rows:
        cell = row.cells[index]
        if cell.kind == "missing":
            continue  # the clause was not selected for this target: no test case
        clause = column.clauses[row.id]
        duration += clause.get("duration", 0.0)
        suite.append(_case(row, column, cell, clause.get("duration", 0.0)))
        counts["tests"] += 1
        key = {"failed": "errors" if cell.status == "error" else "failures",
               "skipped": "skipped", "deviation": "skipped"}.get(cell.kind)
        if key:
            counts[key] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{duration:.3f}")
    return suite


def _case(row, column, cell, duration: float) -> ET.Element:
    case = ET.Element("testcase", classname=row.area, name=f"{row.id} [{column.label}]",
                      time=f"{duration:.3f}")
    message = _clean(cell.message)
    first = message.strip().splitlines()[0] if message.strip() else ""
    if cell.kind == "failed":
        tag = "error" if cell.status == "error" else "failure"
        element = ET.SubElement(case, tag, message=first, type=cell.status)
        element.text = f"{row.id}: {_clean(row.sentence)}\n{message}"
    elif cell.kind == "skipped":
        ET.SubElement(case, "skipped", message=first, type="pytest.skip")
    elif cell.kind == "deviation":
        ET.SubElement(case, "skipped", message=first, type="pytest.xfail")
    elif cell.kind in ("variant", "stale"):
        ET.SubElement(case, "system-out").text = message
    return case


def _clean(text) -> str:
    return _NOT_XML.sub("?", str(text))
