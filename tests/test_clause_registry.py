"""The clause registry: every conformance test is exactly one clause with a unique ID."""

import inspect

import pytest
from packaging.version import Version

import lightning_conformance as conformance
from lightning_conformance import AREAS, ClauseError, Contract, clause, load_registry
from lightning_conformance.checks import CHECKS, by_id
from lightning_conformance.checks._base import CLAUSE_TEST, check
from lightning_conformance.reports.terminal import clauses_markdown
from lightning_conformance.spec.contract import UndeclaredChangeError
from tests.conftest import ROOT


def _conformance_tests():
    load_registry()
    for name in sorted(p.stem for p in (ROOT / "conformance" / "clauses").glob("test_*.py")):
        module = __import__(f"lightning_conformance.clauses.{name}", fromlist=["_"])
        for attr, value in vars(module).items():
            if attr.startswith("test_") and inspect.isfunction(value):
                yield f"lightning_conformance.clauses.{name}::{attr}", value


def _clause_ids(marks) -> list[str]:
    return [mark.args[0] for mark in marks if mark.name == "clause"]


def _table(mark) -> bool:
    """Whether ``mark`` parametrizes a test from a table of clauses (params with clause marks)."""
    return mark.name == "parametrize" and any(
        _clause_ids(getattr(value, "marks", ())) for value in mark.args[1])


def _test_items():
    """(name, clause IDs) per test item: a test is one item (its own params share its clause),
    but a test parametrized from a table of clauses is one item per param, ``test[param id]``."""
    for name, test in _conformance_tests():
        marks = getattr(test, "pytestmark", [])
        params = [value for mark in marks if _table(mark) for value in mark.args[1]]
        if not params:
            yield name, _clause_ids(marks)
        for param in params:
            param_marks = getattr(param, "marks", ())
            yield f"{name}[{getattr(param, 'id', None)}]", _clause_ids([*marks, *param_marks])


def test_every_conformance_test_item_has_exactly_one_clause():
    for name, clause_ids in _test_items():
        assert 1 == len(clause_ids), f"{name} has {len(clause_ids)} clause marks"


def test_clause_ids_are_unique_and_well_formed():
    registry = load_registry()
    tests = [c.test for c in registry.values()]

    assert len(tests) == len(set(tests))
    assert all(c.area in AREAS for c in registry.values())
    assert all(len(c.sentence) <= 100 and c.source for c in registry.values())


def test_every_registered_clause_is_exactly_one_collected_test_item():
    registry = load_registry()
    items = sorted((clause_ids[0], name) for name, clause_ids in _test_items() if clause_ids)

    assert sorted((c.id, c.test) for c in registry.values()) == items


def test_every_check_is_the_param_of_its_clause_id_in_the_mod_clause_test():
    params = {name: ids for name, ids in _test_items() if name.startswith(f"{CLAUSE_TEST}[")}

    assert {f"{CLAUSE_TEST}[{c.id}]": [c.id] for c in CHECKS} == params
    assert {c for c in load_registry() if c.startswith("MOD-")} == {c.id for c in CHECKS}


def test_at_least_thirty_hook_clauses():
    assert len([c for c in load_registry() if c.startswith("HOOK-")]) >= 30


def test_a_reused_id_is_rejected():
    existing = next(iter(load_registry().values()))

    with pytest.raises(ClauseError, match="is used by"):
        clause(existing.id, "Another sentence.", source="x")(lambda: None)


def _another_check(ctx):
    """A second declaration of an ID already in use."""


@pytest.mark.parametrize("declare", [
    lambda: check("MOD-001", "Another sentence.", source="x")(_another_check),
    lambda: clause("MOD-001", "Another sentence.", source="x")(_another_check),
], ids=["check", "clause"])
def test_a_mod_id_declared_twice_names_both_places(declare):
    known = by_id("MOD-001")
    first = f"{known.function.__module__}::{known.function.__qualname__}"

    with pytest.raises(ClauseError, match=f"MOD-001 is used by {first} and {__name__}::_another"):
        declare()
    assert known.clause is load_registry()["MOD-001"]


def test_a_check_decides_a_mod_clause():
    with pytest.raises(ClauseError, match="MOD-NNN"):
        check("HOOK-999", "A sentence.", source="x")


@pytest.mark.parametrize("kwargs, message", [
    ({"id": "HOOK-1", "sentence": "s", "source": "x"}, "AREA-NNN"),
    ({"id": "NOPE-001", "sentence": "s", "source": "x"}, "AREA-NNN"),
    ({"id": "HOOK-999", "sentence": "s" * 101, "source": "x"}, "sentence"),
    ({"id": "HOOK-999", "sentence": "s", "source": ""}, "source"),
    ({"id": "HOOK-999", "sentence": "s", "source": "x", "changes": ("nope",)}, "unknown"),
])
def test_malformed_clauses_are_rejected(kwargs, message):
    with pytest.raises(ClauseError, match=message):
        clause(kwargs.pop("id"), kwargs.pop("sentence"), **kwargs)


def test_clauses_md_is_fresh():
    expected = clauses_markdown(load_registry().values())

    assert expected == (ROOT / "conformance" / "CLAUSES.md").read_text(), \
        "run `lightning-conformance clauses --markdown > conformance/CLAUSES.md`"


def test_public_names_are_exported():
    assert sorted(conformance.__all__) == conformance.__all__
    assert all(hasattr(conformance, name) for name in conformance.__all__)


def test_contract_rejects_undeclared_change():
    contract = Contract(Version("2.6.6"), frozenset())

    with pytest.raises(UndeclaredChangeError, match="does not list"):
        contract.has("run_stage_zero_grad")


@pytest.mark.parametrize("version, expected", [("2.0.9", False), ("2.1.0", True),
                                                ("2.6.6", True)])
def test_contract_answers_by_version(version, expected):
    assert expected == Contract(Version(version)).has("run_stage_zero_grad")
