"""Load a mutated copy of ``reference/`` as its own package and present it as a target."""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference"


class MutantError(Exception):
    """A mutant no longer matches the reference source it is meant to change."""


@dataclass(frozen=True)
class Mutant:
    """One deliberate break of the reference: replace ``old`` with ``new`` in ``file``.

    ``kills`` is the exact set of clause IDs that must fail on this mutant (and no other).
    """

    id: str
    kills: frozenset
    file: str
    old: str
    new: str

    @property
    def package(self) -> str:
        return "lc_mutant_" + self.id.replace("-", "_")

    @property
    def target_name(self) -> str:
        return f"mutant-{self.id}"

    def mutated_source(self) -> str:
        source = (REFERENCE_DIR / self.file).read_text()
        count = source.count(self.old)
        if count != 1:
            raise MutantError(f"mutant {self.id}: the text to replace occurs {count} times in "
                              f"reference/{self.file}; it must occur exactly once")
        return source.replace(self.old, self.new)


def mutant(id: str, kills: str, file: str, old: str, new: str) -> Mutant:
    """A mutant from the catalogue's short form: ``kills`` is a space-separated list of IDs."""
    return Mutant(id, frozenset(kills.split()), file, old, new)


def load_mutant(mutant: Mutant) -> str:
    """Copy the reference, apply the mutant, import it; return the package name."""
    if mutant.package in sys.modules:
        return mutant.package
    root = Path(tempfile.mkdtemp(prefix="lc-mutant-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    package_dir = root / mutant.package
    shutil.copytree(REFERENCE_DIR, package_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (package_dir / mutant.file).write_text(mutant.mutated_source())
    spec = importlib.util.spec_from_file_location(
        mutant.package, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[mutant.package] = module
    spec.loader.exec_module(module)
    return mutant.package


def mutant_target(mutant: Mutant):
    from lightning_conformance.adapters.reference import ReferenceTarget

    return ReferenceTarget(package=load_mutant(mutant), name=mutant.target_name)
