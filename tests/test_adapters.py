"""Targets: selection by name, entry point or module:factory; the Protocol; deviations."""

import pytest

import lightning_conformance.adapters as adapters
from lightning_conformance.adapters import TargetError, load_deviations, load_target


@pytest.mark.parametrize("name", adapters.installed_targets())
def test_installed_targets_satisfy_the_protocol(name):
    target = load_target(name)

    assert isinstance(target, adapters.Target)
    assert name == target.name
    assert target.capabilities <= adapters.CAPABILITIES
    assert all(hasattr(target.pl, attr) for attr in adapters.PL_NAMES)


def test_lightning_namespace_is_the_exact_distribution():
    target = load_target("lightning")

    assert target.pl.Trainer.__module__.startswith("lightning.pytorch")


def test_module_factory_spec_is_accepted():
    target = load_target("lightning_conformance.adapters.reference:ReferenceTarget")

    assert "reference" == target.name


@pytest.mark.parametrize("spec, message", [
    ("no_such_target", "unknown target 'no_such_target'"),
    ("no_such_module:factory", "could not be imported"),
    ("tests.fixtures.broken_target:missing", "has no 'missing'"),
    ("tests.fixtures.broken_target:import_fails", "could not be imported"),
    ("tests.fixtures.broken_target:not_a_target", "does not satisfy the Target protocol"),
])
def test_bad_targets_raise_one_clear_error(spec, message):
    with pytest.raises(TargetError, match=message):
        load_target(spec)


def test_builtin_deviation_files_parse_and_reference_has_none():
    assert [] == load_deviations("reference")
    for name in ("lightning", "pytorch_lightning"):
        assert isinstance(load_deviations(name), list)


def test_deviation_entries_need_reason_and_evidence(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[[deviation]]\nclause = "HOOK-001"\nversions = ">=2.0"\n')

    with pytest.raises(ValueError, match="lacks"):
        load_deviations("t", path)


def test_public_names_are_exported():
    assert sorted(adapters.__all__) == adapters.__all__
    assert all(hasattr(adapters, name) for name in adapters.__all__)


def test_cuda_capability_follows_the_machine():
    import torch

    from lightning_conformance.session.items import _missing_reason
    from lightning_conformance.spec.clause import Clause

    target = adapters.load_target("lightning")
    assert ("cuda" in target.capabilities) == torch.cuda.is_available()
    if not torch.cuda.is_available():
        reason = _missing_reason(Clause("DEV-001", "x", "y"), target, ["cuda"])
        assert "needs a CUDA device" in reason
