"""Session work of the plugin: select and mark items, record outcomes, summarise."""

from __future__ import annotations

import pytest
import torch

from lightning_conformance.adapters.base import kit_version
from lightning_conformance.reports.model import RUN_STATUSES
from lightning_conformance.session.results import device
from lightning_conformance.session.state import clause_id, item_target
from lightning_conformance.spec.clause import REGISTRY

__all__ = ["apply_selection", "header_line", "record", "summary_lines"]


def apply_selection(config, items, state) -> None:
    """Make each clause ID a keyword (``-k HOOK-007``); deselect other areas and clauses (an
    unknown ``--clause`` is a usage error); skip out-of-range or unsupported clauses; xfail
    deviations."""
    from lightning_conformance.adapters import load_deviations

    clauses = _selected_clauses(config)
    collector = state.collector
    deviations = {name: load_deviations(name, getattr(adapter, "deviations_path", None))
                  for name, adapter in collector.targets.items()}
    used = set()
    selected, deselected = [], []
    for item in items:
        identifier, adapter = clause_id(item), item_target(item)
        if identifier is None:
            selected.append(item)
            continue
        item.extra_keyword_matches.add(identifier)
        clause = REGISTRY[identifier]
        if not _wanted(clause, state.areas, clauses):
            deselected.append(item)
            continue
        selected.append(item)
        if adapter is None:
            continue
        contract_version = collector.contracts[adapter.name]
        _mark(item, clause, adapter, contract_version)
        for deviation in deviations[adapter.name]:
            if deviation.clause == identifier and deviation.matches(adapter.version):
                used.add((adapter.name, deviation))
                item.add_marker(pytest.mark.xfail(
                    reason=f"known deviation of {adapter.name} {adapter.version}: "
                           f"{deviation.reason} ({deviation.evidence})",
                    strict=False,
                ))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    _note_stale(collector, deviations)


def _wanted(clause, areas: set[str], clauses: set[str]) -> bool:
    """Whether ``--area`` and ``--clause`` (each empty: everything) select the clause."""
    return (not areas or clause.area in areas) and (not clauses or clause.id in clauses)


def _selected_clauses(config) -> set[str]:
    """The clause IDs of ``--clause`` (none: every clause); pytest.UsageError for an unknown one."""
    from lightning_conformance import load_registry

    selected = {value.upper() for value in config.getoption("lc_clauses") or ()}
    unknown = sorted(selected - set(load_registry())) if selected else []
    if unknown:
        raise pytest.UsageError(f"unknown clause {', '.join(unknown)}: "
                                "`lightning-conformance clauses` lists them")
    return selected


def _mark(item, clause, adapter, contract_version) -> None:
    if not clause.applies_to(contract_version):
        item.add_marker(pytest.mark.skip(
            reason=f"{clause.id} holds for Lightning {clause.versions}; "
                   f"the {adapter.name} contract checked is {contract_version}"
        ))
        return
    for marker in item.iter_markers("requires"):
        missing = [cap for cap in marker.args if cap not in adapter.capabilities]
        if missing:
            item.add_marker(pytest.mark.skip(reason=_missing_reason(clause, adapter, missing)))
            return


def _missing_reason(clause, adapter, missing) -> str:
    if "cuda" in missing and not torch.cuda.is_available():
        return f"{clause.id} needs a CUDA device; torch {torch.__version__} sees none here"
    return (f"{clause.id} needs {', '.join(missing)}, which target {adapter.name} "
            f"does not provide")


def _note_stale(collector, deviations) -> None:
    # every clause, not only the collected files' (``-k``, paths)
    from lightning_conformance import load_registry

    known = load_registry()
    for name, entries in deviations.items():
        for deviation in entries:
            if deviation.clause not in known:
                collector.stale[name].append(
                    f"{deviation.clause}: no such clause; remove the entry from the "
                    f"deviations file of {name}"
                )


def record(collector, report, properties) -> None:
    """Turn one pytest phase report into a clause case of the collector."""
    status = _status(report)
    if status is None:
        return
    target, identifier = properties["target"], properties["clause"]
    if status == "xpassed":
        collector.stale[target].append(
            f"{identifier}: listed as a known deviation but it passes; remove the entry from "
            f"the deviations file of {target}"
        )
    duration = report.duration if report.when == "call" else 0.0
    collector.add(target, identifier, report.nodeid, status, _message(report), duration)


def _status(report) -> str | None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "xpassed" if xfail else "passed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "failed"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    if report.failed:
        return "error"
    return None


def _message(report) -> str:
    if hasattr(report, "wasxfail"):
        return report.wasxfail
    if report.passed:
        return ""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, reason)
        return longrepr[2].removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    return crash.message if crash is not None else str(longrepr)


def header_line(collector) -> str:
    parts = [f"{name} {adapter.version} (contract {collector.contracts[name]})"
             for name, adapter in collector.targets.items()]
    return (f"lightning-conformance {kit_version()}: {'; '.join(parts)}; "
            f"torch {torch.__version__}; device {device()}")


def summary_lines(collector) -> list[str]:
    lines = []
    for name in collector.targets:
        counts = collector.counts(name)
        summary = ", ".join(f"{counts[key]} {key}" for key in RUN_STATUSES)
        lines.append(f"{name}: {counts['total']} clauses: {summary}")
        lines += [f"  stale deviation: {message}" for message in collector.stale[name]]
    return lines
