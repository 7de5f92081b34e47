"""The imports between the kit's folders run one way: entry points -> machinery -> spec.

adapters/ (the target side) is covered by tests/test_adapters.py. Here: the contract metadata
(spec/) imports nothing else of the kit, and no machinery imports the entry points (the pytest
plugin, the CLI), which is how the plugin and its session plumbing once imported each other.
"""

from pathlib import Path

import pytest

import lightning_conformance
from tests.test_adapters import _kit_imports

KIT = Path(lightning_conformance.__file__).parent
ENTRY_POINTS = ("lightning_conformance.plugin", "lightning_conformance.cli")
MACHINERY = ("checks", "clauses", "crossversion", "ddp", "reports", "session", "spec")


def _files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (KIT / folder).glob("*.py"))


@pytest.mark.parametrize("path", _files(*MACHINERY), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_machinery_never_imports_an_entry_point(path):
    assert [] == [name for name in _kit_imports(path) if name.startswith(ENTRY_POINTS)]


@pytest.mark.parametrize("path", _files("spec"), ids=lambda p: p.name)
def test_contract_metadata_imports_only_itself(path):
    assert [] == [name for name in _kit_imports(path)
                  if not name.startswith("lightning_conformance.spec.")]
