"""``lightning-conformance diff``: the registry's answer to "what changes if I upgrade"."""

import json

from packaging.version import Version

from lightning_conformance import CHANGES, load_registry
from lightning_conformance.spec.diff import differences, render


def _by_id(old: str, new: str) -> dict:
    found = differences(load_registry(), Version(old), Version(new))
    return {(d.clause.id, d.change): d for d in found}


def test_a_declared_change_between_the_versions_is_listed_with_both_expectations():
    found = _by_id("2.0", "2.6")
    change = CHANGES["run_stage_zero_grad"]
    listed = [d for (_, name), d in found.items() if name == "run_stage_zero_grad"]

    assert listed, "no clause declares run_stage_zero_grad"
    assert all((d.kind, d.old, d.new) == ("changed", change.before, change.after) for d in listed)


def test_a_downgrade_swaps_the_expectations():
    upgrade, downgrade = _by_id("2.0", "2.6"), _by_id("2.6", "2.0")

    assert upgrade.keys() == downgrade.keys()
    for key, difference in upgrade.items():
        assert (downgrade[key].old, downgrade[key].new) == (difference.new, difference.old)


def test_a_version_range_makes_a_clause_added_or_removed():
    found = _by_id("2.2", "2.3")
    added = found[("DDP-031", "")]

    assert added.kind == "added" and added.new == added.clause.sentence
    assert "not part of the 2.2 contract" in added.old
    assert _by_id("2.3", "2.2")[("DDP-031", "")].kind == "removed"


def test_changes_outside_the_interval_are_not_listed():
    assert _by_id("2.6", "2.6.6") == {}
    assert all(CHANGES[name].since_version > Version("2.2")
               for _, name in _by_id("2.2", "2.6") if name)


def test_cli_prints_json_and_rejects_bad_versions(cli):
    result = cli("diff", "2.4", "2.6", "--json")
    bad = cli("diff", "two", "2.6")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["old"], report["new"]) == ("2.4", "2.6")
    assert {"id", "kind", "old", "new", "change", "evidence"} <= set(report["differences"][0])
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def _rendered(old: str, new: str) -> list[str]:
    return render(differences(load_registry(), Version(old), Version(new)), Version(old),
                  Version(new))


def test_the_text_form_shows_each_change_by_its_release_and_counts_the_clauses():
    lines = _rendered("2.0", "2.6")
    change = CHANGES["run_stage_zero_grad"]
    block = lines.index(f"  before {change.since}: {change.before}")

    assert f"  from {change.since}: {change.after}" == lines[block + 1]
    assert f"  change run_stage_zero_grad: {change.evidence}" == lines[block + 2]
    assert lines[-1].endswith("clause(s) differ between the 2.0 and 2.6 contracts")


def test_the_text_form_of_a_downgrade_lists_the_newer_side_first():
    change = CHANGES["run_stage_zero_grad"]
    lines = _rendered("2.6", "2.0")
    block = lines.index(f"  from {change.since}: {change.after}")

    assert f"  before {change.since}: {change.before}" == lines[block + 1]


def test_an_added_clause_shows_both_contracts():
    lines = _rendered("2.2", "2.3")
    header = next(i for i, line in enumerate(lines) if line.startswith("DDP-031"))

    assert "added" in lines[header]
    assert lines[header + 1].startswith("  2.2: ") and lines[header + 2].startswith("  2.3: ")

