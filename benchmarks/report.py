"""DESIGN.md's performance targets checked against a benchmark run, and the table it prints."""

from __future__ import annotations

from lightning_conformance.spec.clause import AREAS

__all__ = [
    "MATRIX_LIMIT_S",
    "OVERHEAD_LIMIT",
    "SUITE_LIMIT_S",
    "check_targets",
    "render",
]

OVERHEAD_LIMIT = 1.2  # the reference's wall time per step, as a multiple of the raw loop's
SUITE_LIMIT_S = 60  # the whole CPU suite against one target
MATRIX_LIMIT_S = 600  # every supported Lightning version


def check_targets(results) -> list[dict]:
    """One entry per target that this run measured: its value, its limit and whether it is met."""
    checks = []
    ratio = results.get("overhead", {}).get("ratios", {}).get("reference")
    if ratio is not None:
        checks.append(_check("reference step overhead", ratio["wall"], OVERHEAD_LIMIT, "x"))
    for target, suite in results.get("suite", {}).items():
        if "skipped" in suite:
            continue
        # a suite that did not finish misses its target by an unknown margin
        wall = suite.get("wall_s")
        checks.append(_check(f"CPU suite on {target}", wall, SUITE_LIMIT_S, " s"))
    matrix = results.get("matrix", {}).get("wall_s")
    if matrix is not None:
        checks.append(_check("version matrix", matrix, MATRIX_LIMIT_S, " s"))
    return checks


def _check(name, value, limit, unit) -> dict:
    met = value is not None and value <= limit
    if value is None:
        message = f"MISSED {name}: it did not finish (limit {limit}{unit})"
    elif met:
        message = f"met    {name}: {value:g}{unit} <= {limit}{unit}"
    else:
        message = (f"MISSED {name}: {value:g}{unit} > {limit}{unit} "
                   f"(over by {value - limit:.2f}{unit}, {100 * (value / limit - 1):.0f}%)")
    return {"name": name, "value": value, "limit": limit, "met": met, "message": message}


def render(results) -> str:
    """The whole run as text: overhead table, suite table, matrix, targets."""
    lines = []
    if "overhead" in results:
        lines += _overhead_lines(results["overhead"]) + [""]
    if "suite" in results:
        lines += _suite_lines(results["suite"]) + [""]
    if "matrix" in results:
        lines += [_matrix_line(results["matrix"]), ""]
    machine = results.get("machine", {})
    if machine:
        lines.append(f"machine: {machine['cpus']} CPUs, load average {machine['load_before']} "
                     f"before, {machine['load_after']} after")
    lines += [check["message"] for check in results.get("targets", [])]
    return "\n".join(lines)


def _overhead_lines(overhead) -> list[str]:
    settings = overhead["settings"]
    lines = [
        f"per-step overhead: {settings['model']}, batch {settings['batch_size']}, "
        f"{settings['steps']} steps, median of {settings['repeats']} repeats, "
        f"torch {settings['torch']} ({settings['torch_threads']} thread(s))",
        f"{'variant':<16}{'µs/step':>9}{'min':>9}{'max':>9}{'spread':>8}"
        f"{'x raw':>8}{'x raw CPU':>11}",
    ]
    for name, stats in overhead["variants"].items():
        ratio = overhead["ratios"].get(name, {"wall": 1.0, "cpu": 1.0})
        lines.append(
            f"{name:<16}{stats['median_us']:>9.0f}{stats['min_us']:>9.0f}{stats['max_us']:>9.0f}"
            f"{stats['spread_pct']:>7.0f}%{ratio['wall']:>8.2f}{ratio['cpu']:>11.2f}"
        )
    lines += [f"{name}: not measured ({why})" for name, why in overhead["unavailable"].items()]
    return lines


def _suite_lines(suite) -> list[str]:
    columns = "".join(f"{area:>6}" for area in AREAS)
    lines = [f"{'suite (s)':<18}{'wall':>7}{'CPU':>7}{'start':>7}{columns}  clauses"]
    for target, result in suite.items():
        if "skipped" in result or "areas_s" not in result:
            lines.append(f"{target:<18}{result.get('skipped') or result.get('error')}")
            continue
        areas = result["areas_s"]
        cells = "".join(f"{areas.get(area, 0):>6.1f}" for area in AREAS)
        counts = result.get("counts", {})
        summary = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "skipped")
                            if counts.get(k))
        lines.append(f"{target:<18}{result['wall_s']:>7.1f}{result.get('cpu_s', 0):>7.1f}"
                     f"{result['startup_s']:>7.1f}{cells}  {summary}")
    return lines


def _matrix_line(matrix) -> str:
    if matrix.get("wall_s") is None:
        return f"version matrix: {matrix.get('note')}"
    return f"version matrix: {matrix['wall_s']:.0f} s ({matrix.get('source', '')})"
