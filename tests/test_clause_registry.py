"""The clause registry: every conformance test is exactly one clause with a unique ID."""

import inspect

import pytest
from packaging.version import Version

import lightning_conformance as conformance
from lightning_conformance import AREAS, ClauseError, Contract, clause, load_registry
from lightning_conformance.reports.terminal import clauses_markdown
from lightning_conformance.spec.contract import UndeclaredChangeError
from tests.conftest import ROOT


def _conformance_tests():
    load_registry()
    for name in sorted(p.stem for p in (ROOT / "conformance" / "clauses").glob("test_*.py")):
        module = __import__(f"lightning_conformance.clauses.{name}", fromlist=["_"])
        for attr, value in vars(module).items():
            if attr.startswith("test_") and inspect.isfunction(value):
                yield f"{name}::{attr}", value


def test_every_conformance_test_has_exactly_one_clause():
    for name, test in _conformance_tests():
        marks = [m for m in getattr(test, "pytestmark", []) if m.name == "clause"]

        assert 1 == len(marks), f"{name} has {len(marks)} clause marks"


def test_clause_ids_are_unique_and_well_formed():
    registry = load_registry()
    tests = [c.test for c in registry.values()]

    assert len(tests) == len(set(tests))
    assert all(c.area in AREAS for c in registry.values())
    assert all(len(c.sentence) <= 100 and c.source for c in registry.values())


def test_every_registered_clause_is_a_collected_test():
    registry = load_registry()
    names = {f"lightning_conformance.clauses.{name}" for name, _ in _conformance_tests()}

    assert set() == {c.test for c in registry.values()} - names


def test_at_least_thirty_hook_clauses():
    assert len([c for c in load_registry() if c.startswith("HOOK-")]) >= 30


def test_a_reused_id_is_rejected():
    existing = next(iter(load_registry().values()))

    with pytest.raises(ClauseError, match="is used by"):
        clause(existing.id, "Another sentence.", source="x")(lambda: None)


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
