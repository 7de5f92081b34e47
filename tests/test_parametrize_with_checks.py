"""parametrize_with_checks turns each check into a test of a user's suite."""

import re
import shutil
import subprocess
import sys

import pytest

from lightning_conformance import parametrize_with_checks
from lightning_conformance.checks import CHECKS
from tests.conftest import ROOT

pytest_plugins = ["pytester"]

MODULES = """
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_conformance import parametrize_with_checks


class Tiny(pl.LightningModule):
    def __init__(self, width: int = 4):
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(8, width)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        return self.layer(x).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        data = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(data), batch_size=4)


class NanLoss(Tiny):
    def training_step(self, batch, batch_idx):
        return super().training_step(batch, batch_idx) * torch.nan


def make_tiny():
    return Tiny(width=2)
"""


SUITE = MODULES + """

@parametrize_with_checks([Tiny, make_tiny])
def test_clean(factory, check):
    check(factory)


@parametrize_with_checks([NanLoss])
def test_broken(factory, check):
    check(factory)


@parametrize_with_checks([NanLoss], expected_failures={"MOD-014": "NaN on purpose"})
def test_expected(factory, check):
    check(factory)


@parametrize_with_checks([Tiny], expected_failures={Tiny: {"MOD-014": "fixed since"}})
def test_stale(factory, check):
    check(factory)
"""


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """One pytest run of a user's suite (a subprocess: Lightning imports once per process)."""
    root = tmp_path_factory.mktemp("user-suite")
    (root / "test_contract.py").write_text(SUITE)
    command = [sys.executable, "-m", "pytest", "-v", "-rA", "-p", "no:cacheprovider",
               "-p", "no:randomly", "-k", "test_clean or MOD-014 or MOD-013"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600)
    statuses = dict(re.findall(r"^test_contract\.py::(\S+) (PASSED|FAILED|SKIPPED|XFAIL|XPASS)",
                               result.stdout, re.MULTILINE))
    return statuses, result.stdout


def test_ids_name_the_factory_the_clause_and_the_check(outcome):
    statuses, _ = outcome
    clean = [name for name in statuses if name.startswith("test_clean[")]

    assert "test_clean[Tiny-MOD-014-loss-is-finite-scalar]" in clean
    assert "test_clean[make_tiny-MOD-001-training-step-defined]" in clean
    assert 2 * len(CHECKS) == len(clean)


def test_a_conforming_module_passes_or_skips_every_check(outcome):
    statuses, _ = outcome
    clean = {status for name, status in statuses.items() if name.startswith("test_clean[")}

    assert {"PASSED", "SKIPPED"} == clean


def test_a_failing_check_fails_with_its_clause_id(outcome):
    statuses, stdout = outcome

    assert "FAILED" == statuses["test_broken[NanLoss-MOD-014-loss-is-finite-scalar]"]
    assert re.search(r"ConformanceError: 1 conformance check\(s\) failed:\nE +MOD-014", stdout)


def test_a_check_that_does_not_apply_is_skipped_with_its_reason(outcome):
    statuses, stdout = outcome

    assert "SKIPPED" == statuses["test_clean[Tiny-MOD-013-predict-runs]"]
    assert re.search(r"SKIPPED .*MOD-013: .*predict", stdout)


def test_an_expected_failure_is_an_xfail_with_its_reason(outcome):
    statuses, stdout = outcome

    assert "XFAIL" == statuses["test_expected[NanLoss-MOD-014-loss-is-finite-scalar]"]
    assert "NaN on purpose" in stdout


def test_an_expected_failure_that_passes_fails_the_suite(outcome):
    statuses, stdout = outcome

    assert "FAILED" == statuses["test_stale[Tiny-MOD-014-loss-is-finite-scalar]"]
    assert re.search(r"XPASS\(strict\).*fixed since", stdout)


def test_an_instance_is_refused():
    with pytest.raises(TypeError, match="pass the class or a zero-argument factory"):
        parametrize_with_checks([__import__("torch").nn.Linear(1, 1)])


def test_an_unknown_clause_in_expected_failures_is_refused():
    with pytest.raises(ValueError, match="MOD-999"):
        parametrize_with_checks([object], expected_failures={"MOD-999": "typo"})


def test_an_unknown_option_is_refused():
    with pytest.raises(TypeError, match="datamodule, target, ddp, device"):
        parametrize_with_checks([object], gpus=1)


def _readme_block(marker: str) -> str:
    """The README's python code block that contains ``marker``, as written there."""
    blocks = re.findall(r"^```python\n(.*?)^```$", (ROOT / "README.md").read_text(), re.M | re.S)
    (block,) = [block for block in blocks if marker in block]
    return block


def test_the_readme_example_passes_as_written(pytester):
    for name in ("_data.py", "gan.py", "mnist_classifier.py"):  # where the example says it is
        shutil.copy(ROOT / "examples" / name, pytester.path / name)
    pytester.makepyfile(test_contract=_readme_block("@parametrize_with_checks"))
    result = pytester.runpytest_subprocess("-v", "-p", "no:randomly", "-p", "no:cacheprovider",
                                           timeout=600)
    outcomes = result.parseoutcomes()

    assert {"passed", "skipped"} >= set(outcomes) - {"warnings"}, result.stdout.str()[-3000:]
    assert 2 * len(CHECKS) == outcomes["passed"] + outcomes["skipped"]
    result.stdout.fnmatch_lines(
        ["*::test_lightning_contract[[]MNISTClassifier-MOD-014-loss-is-finite-scalar[]] PASSED*"])
