"""The JSON report (``report.schema.json``, schema version 2): one file per subject.

``run`` writes one per target and ``check --json`` one for the module; ``report`` reads
both. A schema version 1 file (``run`` before the module subject existed) still reads: its
``target`` and ``target_version`` are the subject, and every field a result has in common
with version 2 has the same name.

``read`` is the one reader: a file it cannot use (not JSON, a schema version it does not know,
a field missing or of the wrong type) raises ReportError naming the file and the reason.

A report of a run that a signal stopped carries ``"interrupted": true``: its results are real
verdicts, but the clauses that had not run yet are missing. The field is optional (absent:
false), so every report written before it still reads and validates, and a reader that knows
only the older schema rejects an interrupted report rather than take it for a complete one.
Such a report never takes the name of a complete one (``destination``), and every report is
written to a temporary name in its folder and renamed into place (``write_text``), so that a
complete report is never replaced by a partial or half-written file.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lightning_conformance.reports.model import STATUSES, Result, Subject

__all__ = [
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "Report",
    "ReportError",
    "counts",
    "destination",
    "document",
    "may_be_report",
    "parse",
    "place",
    "read",
    "write",
    "write_text",
]

SCHEMA_ID = "https://lightning-conformance.invalid/schema/report/2"
SCHEMA_VERSION = 2
_SCHEMA_1 = "https://lightning-conformance.invalid/schema/report/1"
_SCHEMA_VERSIONS = {SCHEMA_ID: SCHEMA_VERSION, _SCHEMA_1: 1}  # $schema -> its schema_version
_SCHEMA_PREFIX = SCHEMA_ID.rpartition("/")[0]  # of every version's $schema
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


class ReportError(ValueError):
    """A path given to ``report`` is not a readable lightning-conformance report."""


@dataclass(frozen=True)
class Report:
    """A report as read back: its subject, contract version and results."""

    subject: Subject
    contract: str
    created: str
    results: tuple[Result, ...]
    stale: tuple[str, ...] = ()
    interrupted: bool = False  # a signal stopped the run: clauses are missing


def counts(results: Iterable[Result]) -> dict[str, int]:
    """How many results have each status, and ``total``."""
    found = dict.fromkeys(STATUSES, 0)
    for result in results:
        found[result.status] += 1
    return found | {"total": sum(found.values())}


def document(subject: Subject, contract: str, results: list[Result], *, device: str,
             stale: Iterable[str] = (), interrupted: bool = False) -> dict:
    """The JSON report of ``results`` on ``subject``, checked against ``contract``;
    ``interrupted``: a signal stopped the run before every clause ran."""
    import torch

    from lightning_conformance.adapters.base import kit_version

    report = {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "kit_version": kit_version(),
        "subject": subject.as_dict(),
        "contract_version": str(contract),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "device": device,
        "platform": platform.platform(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": counts(results),
        "stale_deviations": list(stale),
        "clauses": [result.as_dict() for result in results],
    }
    if interrupted:  # only then: a complete report stays what every version 2 reader knows
        report["interrupted"] = True
    return report


def destination(path: Path, interrupted: bool) -> Path:
    """Where a report meant for ``path`` goes: ``NAME.interrupted.json`` for an interrupted
    run, so that it never replaces the complete report of an earlier run."""
    return path.with_name(f"{path.stem}.interrupted{path.suffix}") if interrupted else path


def write(path: Path, report: dict) -> Path:
    """Write ``report`` for ``path`` (``place``); return where it went."""
    return place(path, json.dumps(report, indent=2) + "\n", bool(report.get("interrupted")))


def place(path: Path, text: str, interrupted: bool) -> Path:
    """Write the report ``text`` meant for ``path`` at its ``destination``; return where it
    went. A complete report removes the interrupted one of an earlier run beside it, which it
    supersedes (else every later ``report`` of the folder would show that run as well)."""
    written = write_text(destination(path, interrupted), text)
    if not interrupted:
        destination(path, True).unlink(missing_ok=True)
    return written


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place: a reader
    (and a run stopped halfway) sees the old file or the new one, never a part of either."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # same folder: rename is atomic
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def may_be_report(path: Path) -> bool:
    """Whether ``report`` must read ``path``, found in a folder, or say why it cannot: a report
    of any schema version, or a file that does not decode (it may be a damaged report). Other
    JSON files may live beside the reports, and are passed over."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return True
    return isinstance(data, dict) and ("schema_version" in data or str(
        data.get("$schema", "")).startswith(_SCHEMA_PREFIX))


def read(path: Path) -> Report:
    """The report in ``path``; ReportError naming the file and the reason when it is none."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror})") from None
    except ValueError as error:
        raise ReportError(f"{path}: not valid JSON ({error})") from None
    return parse(data, str(path))


def parse(data, where: str) -> Report:
    """The report of a decoded JSON document; ``where`` names it in a ReportError."""
    try:
        return _parse(data)
    except ReportError as error:
        raise ReportError(f"{where}: {error}") from None


def _parse(data) -> Report:
    schema = data.get("$schema") if isinstance(data, dict) else None
    if schema not in _SCHEMA_VERSIONS:
        if str(schema).startswith(_SCHEMA_PREFIX):
            raise ReportError(f"$schema {schema} is not one this kit reads (a newer kit's?)")
        raise ReportError(f"not a lightning-conformance report (no $schema {SCHEMA_ID})")
    version = _field(data, "schema_version", object)
    if version != _SCHEMA_VERSIONS[schema]:
        raise ReportError(f"schema_version {version!r} is not one this kit reads (it reads "
                          f"{', '.join(map(str, sorted(_SCHEMA_VERSIONS.values())))}; its "
                          f"$schema is version {_SCHEMA_VERSIONS[schema]})")
    subject = (_subject(_field(data, "subject", dict), "the subject") if schema == SCHEMA_ID
               else Subject("target", _field(data, "target", str),
                            _field(data, "target_version", str)))
    contract = _field(data, "contract_version", str)
    results = tuple(_result(entry, index, subject, contract)
                    for index, entry in enumerate(_field(data, "clauses", list), 1))
    interrupted = data.get("interrupted", False)
    if not isinstance(interrupted, bool):
        raise ReportError(f"'interrupted' is {interrupted!r}, not true or false")
    return Report(subject, contract, data.get("created", ""), results,
                  tuple(data.get("stale_deviations") or ()), interrupted)


def _field(data: dict, name: str, kind: type, what: str = "the report"):
    """``data[name]``; ReportError when it is missing or not of ``kind``."""
    if name not in data:
        raise ReportError(f"{what} lacks the field {name!r}")
    value = data[name]
    if not isinstance(value, kind):
        raise ReportError(f"{what}'s field {name!r} is {_JSON_TYPES.get(type(value), '?')}, "
                          f"not {_JSON_TYPES[kind]}")
    return value


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise ReportError(f"{what} is {_JSON_TYPES.get(type(value), '?')}, not an object")
    return value


def _subject(data: dict, what: str) -> Subject:
    kind, name = _field(data, "kind", str, what), _field(data, "name", str, what)
    runs_on = data.get("runs_on")
    if runs_on is not None:
        runs_on = _subject(_object(runs_on, f"{what}'s runs_on"), f"{what}'s runs_on")
    try:
        return Subject(kind, name, data.get("version"), runs_on)
    except ValueError as error:  # a kind of no subject
        raise ReportError(f"{what}: {error}") from None


def _result(entry, index: int, subject: Subject, contract: str) -> Result:
    what = f"clause entry {index}"
    clause = _field(_object(entry, what), "id", str, what)
    what = f"clause entry {index} ({clause})"
    _field(entry, "status", str, what)
    cases = _field(entry, "cases", list, what) if "cases" in entry else []
    for number, case in enumerate(cases, 1):
        where = f"{what}'s case {number}"
        for name in ("nodeid", "status"):
            _field(_object(case, where), name, str, where)
    try:
        return Result.from_dict(entry, subject, contract)
    except (TypeError, ValueError, AttributeError) as error:  # a status of no known kind, ...
        raise ReportError(f"{what} is malformed ({error})") from None
