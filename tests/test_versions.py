"""The version matrix is one list, conformance/spec/versions.py, and noxfile.py runs all of it."""

import importlib.util
import subprocess
import sys

import pytest
from packaging.version import Version

from lightning_conformance.adapters import BUILTIN_TARGETS
from lightning_conformance.spec.versions import LATEST, MATRIX, Release
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def noxfile():
    """noxfile.py imported by path, as nox imports it."""
    pytest.importorskip("nox")
    spec = importlib.util.spec_from_file_location("lck_noxfile", ROOT / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_release_has_its_own_id():
    ids = [release.id for release in MATRIX]

    assert sorted(set(ids)) == sorted(ids)


def test_every_release_is_an_exact_version_of_a_lightning_target():
    for release in MATRIX:
        assert release.target in set(BUILTIN_TARGETS) - {"reference"}
        assert f"{release.target}=={Version(release.version)}" == release.requirements[0]


def test_releases_are_listed_oldest_first():
    versions = [Version(release.version) for release in MATRIX]

    assert sorted(versions) == versions


def test_latest_is_the_newest_release_of_the_matrix():
    assert LATEST in MATRIX
    assert max(Version(release.version) for release in MATRIX) == Version(LATEST.version)


def test_noxfile_reads_the_same_list(noxfile):
    assert [tuple(release) for release in MATRIX] == [tuple(release) for release in noxfile.MATRIX]


def test_noxfile_has_one_conformance_session_per_release(noxfile):
    params = noxfile.conformance.parametrize

    assert [release.id for release in MATRIX] == [param.id for param in params]
    assert [tuple(release) for release in MATRIX] == [tuple(param.args[0]) for param in params]


def test_versions_module_imports_nothing_heavy():
    path = str(ROOT / "conformance" / "spec" / "versions.py")
    code = ("import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('v', {path!r}); "
            "module = importlib.util.module_from_spec(spec); sys.modules['v'] = module; "
            "spec.loader.exec_module(module); "
            "print(sorted({'torch', 'pytest', 'lightning', 'conformance'} & set(sys.modules)))")

    assert "[]" == subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, timeout=60).stdout.strip()


def test_release_is_a_plain_record():
    release = Release("lightning", "2.4.0")

    assert ("lightning-2.4.0", ["lightning==2.4.0"]) == (release.id, release.requirements)


def test_the_example_workflow_runs_the_kit_and_the_nox_matrix():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github-actions.yml").read_text())
    steps = {name: "\n".join(step.get("run", "") for step in job["steps"])
             for name, job in workflow["jobs"].items()}

    assert "lightning-conformance run --target lightning" in steps["conformance"]
    assert 'lightning-conformance check "$MODULE"' in steps["conformance"]
    assert "nox -s matrix" in steps["lightning-matrix"]
