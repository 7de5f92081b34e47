"""Misuse that no clause covers: the reference rejects it exactly as Lightning 2.6.6 does.

Each case makes one mistake (a bad Trainer flag, a bad seed, a limit that leaves no batch)
on both namespaces and compares what comes out: the exception's type name and message, or
the warnings. The reference promises Lightning's messages, so that a clause's ``match=``
works on both; these cases hold it to that where no clause looks yet.
"""

import tempfile
import warnings

import pytest
import torch

from lightning_conformance.adapters import load_target
from lightning_conformance.crossversion.generate import tiny_module_class

REFERENCE, LIGHTNING = load_target("reference").pl, load_target("lightning").pl
QUIET = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
         "enable_model_summary": False}


class _Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        return iter(torch.ones(4, 4))


def _fit(pl, loader=None, **flags):
    with tempfile.TemporaryDirectory() as root:
        trainer = pl.Trainer(default_root_dir=root, max_epochs=1, **QUIET, **flags)
        trainer.fit(tiny_module_class(pl)(), train_dataloaders=loader)


def _stream():
    return torch.utils.data.DataLoader(_Stream(), batch_size=2)


MISTAKES = {
    "limit-neither-fraction-nor-int": lambda pl: pl.Trainer(limit_train_batches=1.5, **QUIET),
    "check-val-every-float": lambda pl: pl.Trainer(check_val_every_n_epoch=1.5, **QUIET),
    "float-interval-without-epochs": lambda pl: pl.Trainer(
        val_check_interval=0.5, check_val_every_n_epoch=None, **QUIET),
    "negative-reload": lambda pl: pl.Trainer(reload_dataloaders_every_n_epochs=-1, **QUIET),
    "clip-value-a-string": lambda pl: pl.Trainer(gradient_clip_val="1", **QUIET),
    "unknown-clip-algorithm": lambda pl: pl.Trainer(gradient_clip_algorithm="max", **QUIET),
    "barebones-with-logger": lambda pl: pl.Trainer(barebones=True, logger=True),
    "barebones-with-summary": lambda pl: pl.Trainer(barebones=True, enable_model_summary=True),
    "barebones-with-anomaly": lambda pl: pl.Trainer(barebones=True, detect_anomaly=True),
    "seed-above-uint32": lambda pl: pl.seed_everything(2**32),
    "negative-seed": lambda pl: pl.seed_everything(-1),
    "fraction-below-one-batch": lambda pl: _fit(pl, limit_train_batches=0.1),
    "fraction-of-a-stream": lambda pl: _fit(pl, _stream(), limit_train_batches=0.5),
    "float-interval-on-a-stream": lambda pl: _fit(pl, _stream(), val_check_interval=0.5),
    "interval-beyond-the-epoch": lambda pl: _fit(pl, val_check_interval=5),
    "loader-not-iterable": lambda pl: _fit(pl, 42),
}


def _outcome(mistake, pl) -> tuple:
    """(exception type name, message), or None and the warnings when nothing was raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mistake(pl)
        except Exception as error:
            return type(error).__name__, str(error)
    return None, sorted({str(w.message) for w in caught if "deterministic" in str(w.message)})


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_the_reference_fails_as_lightning_does(mistake):
    expected = _outcome(mistake, LIGHTNING)

    assert expected[0] is not None, "the case must make Lightning fail"
    assert expected == _outcome(mistake, REFERENCE)


def test_deterministic_with_benchmark_warns_as_lightning_does(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)  # both set it: undone after

    def mistake(pl):
        return pl.Trainer(deterministic=True, benchmark=True, **QUIET)

    try:
        expected = _outcome(mistake, LIGHTNING)
        assert 1 == len(expected[1])
        assert expected == _outcome(mistake, REFERENCE)
    finally:
        torch.use_deterministic_algorithms(False)  # both Trainers turned it on, process-wide
        torch.backends.cudnn.benchmark = False


@pytest.mark.parametrize("value", ["abc", "7"])
def test_the_seed_from_the_environment_is_read_as_lightning_reads_it(monkeypatch, value):
    monkeypatch.setenv("PL_GLOBAL_SEED", value)
    expected = _outcome(lambda pl: pl.seed_everything(), LIGHTNING)
    lightning_seed = None if expected[0] else LIGHTNING.seed_everything()
    monkeypatch.setenv("PL_GLOBAL_SEED", value)

    assert expected == _outcome(lambda pl: pl.seed_everything(), REFERENCE)
    assert lightning_seed == (None if expected[0] else REFERENCE.seed_everything())
