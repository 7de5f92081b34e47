"""The installed kit cannot be shadowed: its wheel beside packages named like its folders.

The kit installs one import package, ``lightning_conformance``. Here its wheel goes into a fresh
virtual environment beside two other distributions whose import names are ``adapters`` (as
AdapterHub's) and ``reference``, and both commands run from a user's project whose
``adapters/``, ``reference.py`` and ``conformance.py`` raise on import: the kit must take nothing
from either. The fresh environment reuses this one's torch and Lightning through a ``.pth`` file
instead of installing them again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from lightning_conformance.ddp.launch import Topology, launch
from tests.conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# Import names of other distributions; the kit's folders were once installed under them.
RIVALS = ("adapters", "reference")
# The project's files that raise on import, by the name they would shadow: the kit's folders'
# old names, and a module of Python that Lightning imports first when the user's module
# imports Lightning (so, after the kit has put the project on sys.path).
SHADOWS = {"adapters": "adapters/__init__.py", "reference": "reference.py",
           "conformance": "conformance.py", "secrets": "secrets.py"}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE_DIRS = PROJECT["tool"]["setuptools"]["package-dir"]  # import package -> source folder
TIMEOUT = 600  # seconds: a hung command fails the test instead of hanging the suite

RIVAL_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "1.0"

[tool.setuptools]
packages = ["{name}"]
"""

GOOD_MODULE = '''\
"""A user's small LightningModule: every check passes or does not apply."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)
'''


@dataclass(frozen=True)
class FreshEnvironment:
    """A virtual environment holding the kit's wheel and the rivals, and a project to run in."""

    root: Path
    wheel: Path
    python: Path
    scripts: Path
    site: Path
    project: Path

    def run(self, *command: str, cwd: Path) -> subprocess.CompletedProcess:
        # this environment's PYTHONPATH (nox, coverage) would put its own entries first
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _project(folder: Path) -> Path:
    """A user's project: a module to check beside files that must not be imported."""
    for relative in SHADOWS.values():
        _write(folder / relative, f"raise RuntimeError('{relative} of the project was imported')\n")
    _write(folder / "good.py", GOOD_MODULE)
    return folder


def _rival(folder: Path, name: str) -> Path:
    _write(folder / "pyproject.toml", RIVAL_PYPROJECT.format(name=name))
    _write(folder / name / "__init__.py", f"RIVAL = {name!r}\n")
    return folder


def _source(folder: Path) -> Path:
    """What the kit's wheel is built from, copied so that the build leaves nothing here."""
    for name in ("pyproject.toml", PROJECT["project"]["readme"]):
        _write(folder / name, (ROOT / name).read_text())
    for source in PACKAGE_DIRS.values():
        shutil.copytree(ROOT / source, folder / source,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _pip(*args: str) -> None:
    # --no-index and --no-build-isolation: nothing is downloaded, setuptools is this one's
    result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args,
                             "--no-deps", "--no-index"], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert 0 == result.returncode, result.stdout + result.stderr


def _paths(python: Path) -> dict[str, str]:
    code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    assert 0 == result.returncode, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> FreshEnvironment:
    venv = pytest.importorskip("venv", reason="this Python has no venv module")
    root = tmp_path_factory.mktemp("isolation")
    sources = [_source(root / "kit"), *(_rival(root / name, name) for name in RIVALS)]
    _pip("wheel", "--no-build-isolation", "--wheel-dir", str(root / "wheels"), *map(str, sources))
    venv.create(root / "venv", with_pip=False, symlinks=True)
    python = root / "venv" / "bin" / "python"
    paths = _paths(python)
    wheels = sorted((root / "wheels").glob("*.whl"))
    # pip --python installs into the fresh environment, which sees nothing of this one yet
    _pip("--python", str(python), "install", *map(str, wheels))
    # Then this environment's packages (torch, Lightning) go after the fresh one's own. The
    # .pth files of this environment are not read from there: its editable kit stays out.
    _write(Path(paths["purelib"]) / "_this_environment.pth", "\n".join(site.getsitepackages()))
    wheel = next(w for w in wheels if w.name.startswith("lightning_conformance-"))
    return FreshEnvironment(root / "venv", wheel, python, Path(paths["scripts"]),
                            Path(paths["purelib"]), _project(root / "project"))


def _files(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_installs_one_top_level_package(fresh):
    with zipfile.ZipFile(fresh.wheel) as wheel:
        tops = {name.split("/")[0] for name in wheel.namelist()}

    assert {"lightning_conformance"} == {top for top in tops if not top.endswith(".dist-info")}


def test_the_installed_package_holds_every_file_of_its_source_folders(fresh):
    expected = {Path(*package.split(".")) / path
                for package, source in PACKAGE_DIRS.items() for path in _files(ROOT / source)}
    installed = {Path("lightning_conformance") / path
                 for path in _files(fresh.site / "lightning_conformance")}

    assert sorted(expected) == sorted(installed)


def test_the_kit_and_the_rivals_each_import_as_themselves(fresh):
    code = ("import json, lightning_conformance, adapters, reference; print(json.dumps("
            "[lightning_conformance.__file__, adapters.RIVAL, reference.RIVAL]))")
    result = fresh.run(str(fresh.python), "-c", code, cwd=fresh.root)
    kit, *rivals = json.loads(result.stdout)

    assert 0 == result.returncode, result.stderr
    assert Path(kit).is_relative_to(fresh.site), "the kit is not the fresh environment's own"
    assert list(RIVALS) == rivals


def test_check_runs_from_a_project_named_like_the_rivals(fresh):
    result = fresh.run(str(fresh.scripts / "lightning-conformance"), "check", "good.py:Model",
                       cwd=fresh.project)

    assert 0 == result.returncode, result.stdout + result.stderr
    assert "MOD-010  passed" in result.stdout  # the module was fitted
    assert "was imported" not in result.stdout + result.stderr


@pytest.mark.parametrize("spec", ["reference.py:Model", "reference:Model"])
def test_a_project_module_named_like_an_installed_one_is_refused_in_one_line(fresh, spec):
    result = fresh.run(str(fresh.scripts / "lightning-conformance"), "check", spec,
                       cwd=fresh.project)
    lines = result.stderr.strip().splitlines()

    assert 2 == result.returncode
    assert 1 == len(lines), result.stderr
    assert lines[0].startswith(f"lightning-conformance: error: SPEC {spec!r}: 'reference' is "
                               f"already the name of {fresh.site / 'reference'}")


def test_run_from_a_project_named_like_the_rivals_finds_the_shipped_data(fresh, tmp_path):
    result = fresh.run(str(fresh.scripts / "lightning-conformance"), "run", "--target",
                       "reference", "--area", "CKPT", "--report-dir", str(tmp_path),
                       cwd=fresh.project)
    report = json.loads((tmp_path / "reference.json").read_text())
    # the cross-version clauses load the checkpoints shipped in the wheel
    shipped = [c for c in report["clauses"]
               if c["cases"][0]["nodeid"].startswith("test_checkpoint_versions.py")]

    assert 0 == result.returncode, result.stdout + result.stderr
    assert report["counts"]["total"] == report["counts"]["passed"]
    assert shipped and all("passed" == c["status"] for c in shipped)


def record_origins(ctx):
    """A DDP scenario: where this rank would import each name of SHADOWS from."""
    ctx.record["origins"] = {name: _origin(name) for name in SHADOWS}


def _origin(name: str) -> str | None:
    found = importlib.util.find_spec(name)  # finds, does not import: the project's files raise
    return found and found.origin


def test_a_rank_started_in_a_project_imports_what_its_parent_imports(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path / "project"))
    run = launch(f"{__name__}:record_origins", "reference", topology=Topology(devices=1),
                 root=tmp_path / "ranks")

    assert {name: _origin(name) for name in SHADOWS} == run.ranks[0]["origins"]
