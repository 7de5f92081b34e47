"""How ``check`` reports: one line per check for people, JUnit XML for CI."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections import Counter

__all__ = ["junit_xml", "summary_lines"]

_MARKS = {"passed": "passed", "failed": "FAILED", "warned": "WARNED", "skipped": "skipped"}
_INDENT = " " * 10


def _wrapped(text: str, prefix: str) -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=f"{_INDENT}{prefix} ",
                         subsequent_indent=f"{_INDENT}  ")


def summary_lines(spec: str, results, scripts: dict, elapsed: float) -> list[str]:
    """The human report: a line per check (with the why under it) and a count line."""
    lines = [f"lightning-conformance check {spec}"]
    for result in results:
        lines.append(f"{result.clause}  {_MARKS[result.status]:<8} {result.sentence}")
        if result.status != "passed":
            lines += _wrapped(result.message, {"skipped": "-", "warned": "!"}.get(result.status,
                                                                                  "x"))
        if result.clause in scripts:
            lines.append(f"{_INDENT}  reproduce: python {scripts[result.clause]}")
    counts = Counter(r.status for r in results)
    parts = ", ".join(f"{counts[status]} {status}" for status in _MARKS if counts[status])
    lines.append(f"{len(results)} checks: {parts} in {elapsed:.1f}s")
    return lines


def junit_xml(spec: str, results) -> str:
    """A JUnit XML document: one testcase per check, failure and skipped elements."""
    counts = Counter(r.status for r in results)
    suite = ET.Element("testsuite", name="lightning-conformance check", tests=str(len(results)),
                       failures=str(counts["failed"]), skipped=str(counts["skipped"]),
                       errors="0")
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=spec,
                             name=f"{result.clause} {result.sentence}")
        if result.status == "failed":
            failure = ET.SubElement(case, "failure", message=result.message)
            failure.text = result.reproduction
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
        elif result.status == "warned":
            ET.SubElement(case, "system-out").text = f"warning: {result.message}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
