"""LOG: the Trainer's loggers and the step axis of what they receive."""

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._logging import train_logging, training_step_logging

CONNECTOR = "lightning/pytorch/trainer/connectors/logger_connector/logger_connector.py"
LOGGER_TESTS = "tests/tests_pytorch/trainer/logging_/test_logger_connector.py"
EVAL_LOGGING = "tests/tests_pytorch/trainer/logging_/test_eval_loop_logging.py"


def _log_step(self, batch_idx):
    self.log("x", float(batch_idx))


def _fit_with_logger(target, log=_log_step, **kwargs):
    logger = target.logger()
    train_logging(target, training_step_logging(target.pl, log), logger=logger, **kwargs)
    return logger


@clause("LOG-041", "trainer.loggers lists the Logger objects given; trainer.logger is the first.",
        source="lightning/pytorch/trainer/trainer.py::Trainer.loggers")
@requires("logging")
def test_trainer_loggers(target):
    first, second = target.logger(), target.logger()
    one = target.pl.Trainer(logger=first, **_quiet(target))
    two = target.pl.Trainer(logger=[first, second], **_quiet(target))
    none = target.pl.Trainer(logger=False, **_quiet(target))

    assert ([first], first, [first, second], first, [], None) == (
        one.loggers, one.logger, two.loggers, two.logger, none.loggers, none.logger)


def _quiet(target):
    settings = target.adapter.trainer_settings(str(target.root))
    return {k: v for k, v in settings.items() if k != "logger"}


@clause("LOG-042", "Training step values go to loggers every log_every_n_steps optimizer steps.",
        source=f"{CONNECTOR}::_LoggerConnector.should_update_logs")
@requires("logging")
def test_log_every_n_steps(target):
    logger = _fit_with_logger(target, limit_train_batches=5, log_every_n_steps=2)

    assert [1, 3] == [step for metrics, step in logger.calls if "x" in metrics]


@clause("LOG-043", "Loggers get an 'epoch' key with every call; logged_metrics does not.",
        source=f"{CONNECTOR}::_LoggerConnector.log_metrics")
@requires("logging")
def test_epoch_key_added_for_loggers(target):
    logger = target.logger()
    run = train_logging(target, training_step_logging(target.pl, _log_step), logger=logger,
                        log_every_n_steps=1)

    assert ([0.0, 0.0], False) == ([m["epoch"] for m, _ in logger.floats()],
                                   "epoch" in run.trainer.logged_metrics)


@clause("LOG-044", "Epoch values are sent at the step of the epoch's last batch.",
        source=f"{LOGGER_TESTS}::test_log_metrics_epoch_step_values")
@requires("logging")
def test_epoch_values_use_last_step(target):
    def log(self, batch_idx):
        self.log("foo", 0.0, on_step=True, on_epoch=True)

    logger = _fit_with_logger(target, log, max_epochs=2, log_every_n_steps=1)

    assert [
        ({"foo_step": 0.0, "epoch": 0.0}, 0), ({"foo_step": 0.0, "epoch": 0.0}, 1),
        ({"foo_epoch": 0.0, "epoch": 0.0}, 1), ({"foo_step": 0.0, "epoch": 1.0}, 2),
        ({"foo_step": 0.0, "epoch": 1.0}, 3), ({"foo_epoch": 0.0, "epoch": 1.0}, 3),
    ] == logger.floats()


@clause("LOG-045", "Eval step values are sent on every batch, counted across fit; epoch ones once.",
        source=f"{EVAL_LOGGING}::test_validation_step_log_with_tensorboard")
@requires("logging")
def test_eval_step_axis(target):
    def validation_step(self, batch, batch_idx):
        self.log("v", 1.0, on_step=True, on_epoch=True)

    logger = target.logger()
    module = target.module(overrides={"validation_step": validation_step})
    target.fit(module, max_epochs=2, limit_train_batches=2, limit_val_batches=2,
               num_sanity_val_steps=0, log_every_n_steps=50, logger=logger)

    assert [
        ({"v_step": 1.0}, 0), ({"v_step": 1.0}, 1), ({"v_epoch": 1.0, "epoch": 0.0}, 1),
        ({"v_step": 1.0}, 2), ({"v_step": 1.0}, 3), ({"v_epoch": 1.0, "epoch": 1.0}, 3),
    ] == logger.floats()


@clause("LOG-046", "Loggers are finalized with 'success' after a run, with 'failed' after an error.",
        source="lightning/pytorch/trainer/call.py::_call_teardown_hook")
@requires("logging")
def test_loggers_finalized(target):
    def fail(self, batch_idx):
        raise RuntimeError("boom")

    done = _fit_with_logger(target)
    failed = target.logger()
    with pytest.raises(RuntimeError, match="boom"):
        train_logging(target, training_step_logging(target.pl, fail), logger=failed)

    assert (["success"], ["failed"]) == (done.statuses, failed.statuses)


@clause("LOG-047", "A logged 'step' value becomes the logger step and is not sent as a metric.",
        source=f"{CONNECTOR}::_LoggerConnector.log_metrics")
@requires("logging")
def test_logged_step_is_the_step(target):
    def log(self, batch_idx):
        self.log("x", 1.0)
        self.log("step", float(10 * (batch_idx + 1)))

    logger = _fit_with_logger(target, log, log_every_n_steps=1)

    assert [({"x": 1.0}, 10), ({"x": 1.0}, 20)] == logger.floats()


@clause("LOG-048", "log_every_n_steps=0 sends no step values; epoch values are still sent.",
        source=f"{CONNECTOR}::_LoggerConnector.should_update_logs",
        changes=("log_every_n_steps_zero_disables_step_logs",))
@requires("logging")
def test_log_every_n_steps_zero(target, contract):
    def log(self, batch_idx):
        self.log("x", 1.0, on_step=True, on_epoch=True)

    if contract.has("log_every_n_steps_zero_disables_step_logs"):
        logger = _fit_with_logger(target, log, log_every_n_steps=0)
        assert [({"x_epoch": 1.0, "epoch": 0.0}, 1)] == logger.floats()
    else:
        with pytest.raises(ZeroDivisionError):
            _fit_with_logger(target, log, log_every_n_steps=0)


@clause("LOG-049", "Batches that only accumulate gradients send no step values to loggers.",
        source=f"{CONNECTOR}::_LoggerConnector.update_train_step_metrics")
@requires("logging")
def test_no_step_logs_while_accumulating(target):
    logger = _fit_with_logger(target, limit_train_batches=4, accumulate_grad_batches=2,
                              log_every_n_steps=1)

    assert [({"x": 1.0, "epoch": 0.0}, 0), ({"x": 3.0, "epoch": 0.0}, 1)] == logger.floats()


@clause("LOG-050", "Loggers receive Python numbers, never tensors.",
        source=f"{CONNECTOR}::_LoggerConnector.log_metrics")
@requires("logging")
def test_loggers_receive_numbers(target):
    logger = _fit_with_logger(target, log_every_n_steps=1)

    assert {float, int} >= {type(v) for metrics, _ in logger.calls for v in metrics.values()}
