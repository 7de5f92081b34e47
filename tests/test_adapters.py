"""Targets: selection by name, entry point or module:factory; the Protocol; deviations."""

import ast
from pathlib import Path

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


ADAPTER_FILES = sorted(Path(adapters.__file__).parent.glob("*.py"))


def _kit_imports(path: Path) -> list[str]:
    """The kit modules ``path`` imports (absolute names; relative imports resolved)."""
    package = "lightning_conformance.adapters"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}".rstrip(".")
            found += [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in found if name.split(".")[0] == "lightning_conformance"]


def test_adapter_files_are_found():
    assert {"base.py", "stage.py", "trace.py"} <= {path.name for path in ADAPTER_FILES}


@pytest.mark.parametrize("path", ADAPTER_FILES, ids=lambda path: path.name)
def test_target_side_imports_only_itself(path):
    """adapters/ imports nothing of the clause side (one-way: conformance -> adapters)."""
    outside = [name for name in _kit_imports(path)
               if not name.startswith("lightning_conformance.adapters.")]

    assert [] == outside


def test_import_check_sees_clause_side_imports(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("from lightning_conformance.spec.clause import REGISTRY\n"
                    "from .. import plugin\nimport lightning_conformance.ddp\n")

    assert ["lightning_conformance.spec.clause.REGISTRY", "lightning_conformance.plugin",
            "lightning_conformance.ddp"] == _kit_imports(path)


def test_callbacks_are_recorded_by_trace_owner_or_class_name(tmp_path):
    target = load_target("reference")
    named = type("Named", (target.pl.Callback,), {"trace_owner": "Watcher"})()
    plain = type("Plain", (target.pl.Callback,), {})()

    run = target.run("validate", _module(target.pl), root_dir=str(tmp_path),
                     callbacks=[named, plain], limit_val_batches=1)

    assert {"Module", "Watcher", "Plain"} == {event.owner for event in run.trace.events}


def _module(pl):
    import torch

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def validation_step(self, batch, batch_idx):
            return self.layer(batch).sum()

        def val_dataloader(self):
            return torch.utils.data.DataLoader(torch.ones(2, 2), batch_size=1)

    return Module()
