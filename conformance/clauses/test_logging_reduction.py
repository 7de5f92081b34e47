"""LOG: how logged values are reduced: per step the last value, per epoch mean/sum/max/min."""

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses import _models
from lightning_conformance.clauses._logging import train_logging, training_step_logging

RESULT = "lightning/pytorch/trainer/connectors/logger_connector/result.py"
LOOP_LOGGING = "tests/tests_pytorch/trainer/logging_/test_train_loop_logging.py"


def _epoch_value(target, log, batches=3, **kwargs):
    """The epoch value of "x" after one epoch whose training_step calls ``log(self, batch_idx)``."""
    module = training_step_logging(target.pl, log, **kwargs)
    run = train_logging(target, module, limit_train_batches=batches)
    return run.trainer.callback_metrics["x"].item()


@clause("LOG-024", "The epoch mean is weighted by the batch_size given to self.log.",
        source=f"{RESULT}::_ResultMetric.update")
@requires("logging")
def test_mean_weighted_by_given_batch_size(target):
    def log(self, batch_idx):
        self.log("x", float(batch_idx), on_step=False, on_epoch=True, batch_size=batch_idx + 1)

    assert pytest.approx((0 * 1 + 1 * 2 + 2 * 3) / 6) == _epoch_value(target, log)


@clause("LOG-025", "Without batch_size the mean is weighted by the batch's size (a smaller last batch).",
        source=f"{RESULT}::_ResultCollection._extract_batch_size")
@requires("logging")
def test_mean_weighted_by_inferred_batch_size(target):
    def log(self, batch_idx):
        self.log("x", float(batch_idx), on_step=False, on_epoch=True)

    five_samples = {"train_dataloader": lambda self: _models.loader(length=5)}  # 2, 2, 1
    value = _epoch_value(target, log, batches=1.0, overrides=five_samples)

    assert pytest.approx((0 * 2 + 1 * 2 + 2 * 1) / 5) == value


@clause("LOG-026", "reduce_fx='sum' adds the epoch's values without weighting them.",
        source=f"{RESULT}::_ResultMetric.update")
@requires("logging")
def test_sum_reduction(target):
    def log(self, batch_idx):
        self.log("x", float(batch_idx), on_step=False, on_epoch=True, reduce_fx="sum",
                 batch_size=10)

    assert 3.0 == _epoch_value(target, log)


@pytest.mark.parametrize(("reduce_fx", "expected"), [("max", 2.0), ("min", 0.0)])
@clause("LOG-027", "reduce_fx='max' and 'min' keep the epoch's largest and smallest value.",
        source=f"{RESULT}::_ResultMetric.update")
@requires("logging")
def test_max_min_reduction(target, reduce_fx, expected):
    def log(self, batch_idx):
        self.log("x", float((batch_idx + 1) % 3), on_step=False, on_epoch=True,
                 reduce_fx=reduce_fx)

    assert expected == _epoch_value(target, log)


@pytest.mark.parametrize(("reduce_fx", "expected"), [
    ("avg", 2.0), ("SUM", 10.0), ("Max", 4.0), (torch.max, 4.0), (min, 0.0), (sum, 10.0),
    (torch.mean, 2.0),
], ids=["avg", "SUM", "Max", "torch.max", "min", "sum", "torch.mean"])
@clause("LOG-028", "reduce_fx takes the names in any case, 'avg', and torch or builtin min/max/sum.",
        source=f"{LOOP_LOGGING}::test__training_step__log_max_reduce_fx")
@requires("logging")
def test_reduce_fx_aliases(target, reduce_fx, expected):
    def log(self, batch_idx):
        self.log("x", float(batch_idx), on_step=False, on_epoch=True, reduce_fx=reduce_fx)

    assert expected == _epoch_value(target, log, batches=5)


@clause("LOG-029", "The on_step value of a key is the last value logged for it in that step.",
        source=f"{RESULT}::_ResultMetric.update")
@requires("logging")
def test_step_value_is_last_of_step(target):
    def log(self, batch_idx):
        self.log("x", 1.0)
        self.log("x", float(10 * batch_idx))

    logger = target.logger()
    train_logging(target, training_step_logging(target.pl, log), logger=logger,
                  limit_train_batches=3, log_every_n_steps=1)

    assert [0.0, 10.0, 20.0] == [m["x"] for m, _ in logger.floats() if "x" in m]


@clause("LOG-030", "Epoch reduction starts afresh every epoch.",
        source=f"{RESULT}::_ResultCollection.reset")
@requires("logging")
def test_epoch_reduction_resets(target):
    def log(self, batch_idx):
        self.log("x", 1.0, on_step=False, on_epoch=True, reduce_fx="sum")

    logger = target.logger()
    train_logging(target, training_step_logging(target.pl, log), logger=logger, max_epochs=3)

    assert [2.0, 2.0, 2.0] == [m["x"] for m, _ in logger.floats() if "x" in m]


@clause("LOG-031", "A value logged in on_train_start is sent with the first epoch's values only.",
        source=f"{LOOP_LOGGING}::test_log_on_train_start")
@requires("logging")
def test_on_train_start_value_in_first_epoch_only(target):
    logger = target.logger()
    module = target.module(overrides={"on_train_start": lambda self: self.log("foo", 123.0)})
    train_logging(target, module, logger=logger, max_epochs=2, log_every_n_steps=10)

    assert [({"foo": 123.0, "epoch": 0.0}, 1)] == logger.floats()
