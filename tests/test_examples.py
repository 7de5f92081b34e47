"""The tutorial examples in examples/ import, stay small and train a few batches on CPU."""

import importlib.util
import sys

import pytest
import torch

from lightning_conformance import check_module
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
# file -> the LightningModule class that `lightning-conformance check` is pointed at
MODULES = {"mnist_classifier": "MNISTClassifier", "lenet": "LeNet", "autoencoder": "LitAutoEncoder",
           "gan": "GAN", "callbacks": "Classifier"}
FEW_BATCHES = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 2,
               "limit_test_batches": 2, "limit_predict_batches": 2, "num_sanity_val_steps": 0,
               "accelerator": "cpu", "devices": 1, "logger": False, "enable_progress_bar": False,
               "enable_model_summary": False}


@pytest.fixture
def example(monkeypatch):
    """Import ``examples/<name>.py`` by path, as `python examples/<name>.py` would run it."""
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the examples import their sibling _data

    def load(name):
        path = EXAMPLES / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"lck_example_{name}", path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.mark.parametrize("name", MODULES)
def test_example_is_small_and_saves_its_hyperparameters(example, name):
    model = getattr(example(name), MODULES[name])()

    assert 5_000 <= sum(p.numel() for p in model.parameters()) <= 100_000
    assert dict(model.hparams)  # load_from_checkpoint needs no init arguments


@pytest.mark.parametrize("name", ["mnist_classifier", "lenet", "autoencoder", "gan"])
def test_example_main_trains_a_few_batches(example, name, tmp_path):
    trainer = example(name).main(default_root_dir=tmp_path, **FEW_BATCHES)

    assert trainer.state.finished
    assert 0 < trainer.global_step


@pytest.mark.parametrize("name", MODULES)
def test_example_passes_every_check(example, name):
    module = example(name)
    datamodule = getattr(module, "MNISTDataModule", None)

    results = check_module(getattr(module, MODULES[name]), datamodule=datamodule, on_fail=None)

    assert [] == [(r.clause, r.message) for r in results if r.status in ("failed", "warned")]


def test_gan_steps_both_optimizers_every_batch(example, tmp_path):
    trainer = example("gan").main(default_root_dir=tmp_path, **FEW_BATCHES)

    assert 2 * 2 == trainer.global_step  # two batches, two optimizer steps each
    assert ["Adam", "Adam"] == [type(opt).__name__ for opt in trainer.optimizers]


def test_callbacks_main_checkpoints_and_records_history(example, tmp_path):
    settings = FEW_BATCHES | {"max_epochs": 3}
    trainer = example("callbacks").main(default_root_dir=tmp_path, **settings)
    history, checkpoint = trainer.callbacks[0], trainer.checkpoint_callback
    saved = sorted(path.name for path in (tmp_path / "checkpoints").iterdir())

    assert 3 == len(history.history)
    assert "last.ckpt" in saved and 3 == len(saved)  # the two best by val_loss, and last
    assert checkpoint.best_model_path.endswith(".ckpt")
    assert history.history == torch.load(checkpoint.last_model_path, weights_only=True)[
        "callbacks"]["MetricHistory"]["history"]


def test_autoencoder_datamodule_serves_every_stage(example):
    data = example("autoencoder").MNISTDataModule()
    for stage in ("fit", "test", "predict"):
        data.setup(stage)
    images, labels = next(iter(data.train_dataloader()))

    assert ((32, 1, 28, 28), (32,)) == (tuple(images.shape), tuple(labels.shape))
    assert (256, 64, 64, 64) == (len(data.train_set), len(data.val_set), len(data.test_set),
                                 len(data.predict_set))


def test_data_is_the_same_on_every_call(example):
    data = example("_data")
    first, second = data.mnist_like("val"), data.mnist_like("val")

    for index in range(4):
        assert torch.equal(first[index][0], second[index][0])
        assert int(first[index][1]) == int(second[index][1])
