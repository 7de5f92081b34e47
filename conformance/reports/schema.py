"""The JSON report (``report.schema.json``, schema version 2): one file per subject.

``run`` writes one per target and ``check --json`` one for the module; ``report`` reads
both. A schema version 1 file (``run`` before the module subject existed) still reads: its
``target`` and ``target_version`` are the subject, and every field a result has in common
with version 2 has the same name.
"""

from __future__ import annotations

import json
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
    "document",
    "is_report",
    "parse",
    "read",
    "write",
]

SCHEMA_ID = "https://lightning-conformance.invalid/schema/report/2"
SCHEMA_VERSION = 2
_SCHEMA_1 = "https://lightning-conformance.invalid/schema/report/1"


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


def counts(results: Iterable[Result]) -> dict[str, int]:
    """How many results have each status, and ``total``."""
    found = dict.fromkeys(STATUSES, 0)
    for result in results:
        found[result.status] += 1
    return found | {"total": sum(found.values())}


def document(subject: Subject, contract: str, results: list[Result], *, device: str,
             stale: Iterable[str] = ()) -> dict:
    """The JSON report of ``results`` on ``subject``, checked against ``contract``."""
    import torch

    from lightning_conformance.adapters.base import kit_version

    return {
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


def write(path: Path, report: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def is_report(path: Path) -> bool:
    """Whether ``path`` holds a lightning-conformance report (of any schema version)."""
    try:
        return json.loads(path.read_text()).get("$schema") in (SCHEMA_ID, _SCHEMA_1)
    except (OSError, ValueError, AttributeError):
        return False  # other JSON files may live beside the reports


def read(path: Path) -> Report:
    """The report in ``path``; ReportError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: not a JSON report ({error})") from None
    return parse(data, str(path))


def parse(data, where: str) -> Report:
    """The report of a decoded JSON document; ``where`` names it in a ReportError."""
    schema = data.get("$schema") if isinstance(data, dict) else None
    if schema not in (SCHEMA_ID, _SCHEMA_1):
        raise ReportError(f"{where}: not a lightning-conformance report (no $schema "
                          f"{SCHEMA_ID})")
    try:
        subject = (Subject.from_dict(data["subject"]) if schema == SCHEMA_ID
                   else Subject("target", data["target"], data["target_version"]))
        contract = data["contract_version"]
        results = tuple(Result.from_dict(entry, subject, contract)
                        for entry in data["clauses"])
    except KeyError as error:
        raise ReportError(f"{where}: the report lacks the field {error}") from None
    except (TypeError, ValueError, AttributeError) as error:
        raise ReportError(f"{where}: a malformed report ({error})") from None
    return Report(subject, contract, data.get("created", ""), results,
                  tuple(data.get("stale_deviations", ())))
