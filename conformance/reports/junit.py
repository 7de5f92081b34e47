"""JUnit XML of ``report`` and ``check --junit``: what CI test-result viewers read.

One ``<testsuite>`` per column of the matrix (a target at a version, or a module on a
target), one ``<testcase>`` per clause with ``classname`` = area and ``name`` = "ID [column]".
Failures carry the message, skips and known deviations a ``<skipped>`` with the reason, as
pytest's own junitxml does; a warning goes to ``<system-out>``. The suite of a run that a
signal stopped has one more test case, in error, that says so: a CI viewer must not show
an interrupted run as a green one. Every text passes through
``_clean``: a message may hold anything a user's exception holds (ANSI colour escapes,
control characters), and XML 1.0 cannot hold those at all, not even escaped.
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
            totals[key] += int(suite.get(key, "0"))
        duration += float(suite.get("time", "0"))
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{duration:.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _suite(matrix: Matrix, index: int, column) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(column.label), timestamp=_clean(column.created))
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(column):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    duration = 0.0
    for row in matrix.rows:
        cell = row.cells[index]
        if cell.kind == "missing":
            continue  # the clause was not selected for this target: no test case
        result = column.results[row.id]
        duration += result.duration
        suite.append(_case(row, column, cell, result))
        counts["tests"] += 1
        key = {"failed": "errors" if cell.status == "error" else "failures",
               "skipped": "skipped", "deviation": "skipped"}.get(cell.kind)
        if key:
            counts[key] += 1
    if column.interrupted:
        suite.append(_incomplete(column))
        counts["tests"] += 1
        counts["errors"] += 1
    for name, count in counts.items():
        suite.set(name, str(count))
    suite.set("time", f"{duration:.3f}")
    return suite


def _properties(column) -> list[tuple[str, str]]:
    subject = column.subject
    found = [("subject_kind", subject.kind), ("subject", subject.name)]
    if subject.version is not None:
        found.append(("subject_version", subject.version))
    if subject.runs_on is not None:
        found.append(("runs_on", subject.runs_on.label))
    found += [("contract_version", column.contract),
              ("reports", " ".join(map(str, column.paths)))]
    return found + ([("interrupted", "true")] if column.interrupted else [])


def _incomplete(column) -> ET.Element:
    case = ET.Element("testcase", classname="lightning-conformance",
                      name=_clean(f"complete run [{column.label}]"), time="0.000")
    ET.SubElement(case, "error", message=_clean(column.incomplete),
                  type="interrupted").text = _clean(column.incomplete)
    return case


def _case(row, column, cell, result) -> ET.Element:
    case = ET.Element("testcase", classname=_clean(row.area),
                      name=_clean(f"{row.id} [{column.label}]"), time=f"{result.duration:.3f}")
    message = _clean(cell.message)
    first = message.strip().splitlines()[0] if message.strip() else ""
    if cell.kind == "failed":
        tag = "error" if cell.status == "error" else "failure"
        element = ET.SubElement(case, tag, message=first, type=cell.status)
        element.text = f"{row.id}: {_clean(row.sentence)}\n{message}"
        if result.reproduction:  # a failed check of a module: the script that shows it
            element.text += f"\n\nreproduce it with:\n{_clean(result.reproduction)}"
    elif cell.kind == "skipped":
        ET.SubElement(case, "skipped", message=first, type="pytest.skip")
    elif cell.kind == "deviation":
        ET.SubElement(case, "skipped", message=first, type="pytest.xfail")
    elif cell.kind == "warned":
        ET.SubElement(case, "system-out").text = f"warning: {message}"
    elif cell.kind in ("variant", "stale"):
        ET.SubElement(case, "system-out").text = message
    return case


def _clean(text) -> str:
    return _NOT_XML.sub("?", str(text))
