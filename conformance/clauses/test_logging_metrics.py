"""LOG: which names land in logged_metrics, callback_metrics and progress_bar_metrics, and what
validate/test return."""

from lightning_conformance import clause, requires
from lightning_conformance.clauses import _models
from lightning_conformance.clauses._logging import train_logging, training_step_logging

RESULT = "lightning/pytorch/trainer/connectors/logger_connector/result.py"
CONNECTOR = "lightning/pytorch/trainer/connectors/logger_connector/logger_connector.py"
LOOP_LOGGING = "tests/tests_pytorch/trainer/logging_/test_train_loop_logging.py"
EVAL_LOGGING = "tests/tests_pytorch/trainer/logging_/test_eval_loop_logging.py"


def _log_matrix(self, batch_idx):
    """test__training_step__log: every combination of levels, for the logger and the bar."""
    self.log("default", 1.0)
    self.log("l_e", 1.0, on_step=False, on_epoch=True)
    self.log("l_s", 1.0, on_step=True, on_epoch=False)
    self.log("l_se", 1.0, on_step=True, on_epoch=True)
    self.log("p_e", 1.0, on_step=False, on_epoch=True, prog_bar=True, logger=False)
    self.log("p_s", 1.0, on_step=True, on_epoch=False, prog_bar=True, logger=False)
    self.log("p_se", 1.0, on_step=True, on_epoch=True, prog_bar=True, logger=False)


def _fit_matrix(target):
    return train_logging(target, training_step_logging(target.pl, _log_matrix), max_epochs=2)


def _validation_logging(target, **features):
    def validation_step(self, batch, batch_idx):
        self.log("a", float(batch_idx))
        self.log("b", float(batch_idx), on_step=True, on_epoch=True)
        self.log("c", float(batch_idx), on_step=True, on_epoch=False)
        self.log("hidden", 1.0, logger=False)

    def on_validation_epoch_end(self):
        self.log("e", 5.0)

    overrides = {"validation_step": validation_step,
                 "on_validation_epoch_end": on_validation_epoch_end,
                 **features.pop("overrides", {})}
    return target.module(overrides=overrides, **features)


@clause("LOG-032", "Logging at both levels forks the name into name_step and name_epoch for loggers.",
        source=f"{RESULT}::_Metadata.forked_name")
@requires("logging")
def test_forked_names(target):
    def log(self, batch_idx):
        self.log("x", 1.0, on_step=True, on_epoch=True)

    run = train_logging(target, training_step_logging(target.pl, log))

    assert ({"x_step", "x_epoch"}, {"x", "x_step", "x_epoch"}) == (
        set(run.trainer.logged_metrics), set(run.trainer.callback_metrics))


@clause("LOG-033", "After fit the three dicts hold the logger, bar and plain/forked names as tested.",
        source=f"{LOOP_LOGGING}::test__training_step__log")
@requires("logging")
def test_training_metric_dicts(target):
    trainer = _fit_matrix(target).trainer
    logged = {"default", "l_e", "l_s", "l_se_step", "l_se_epoch"}
    bar = {"p_e", "p_s", "p_se_step", "p_se_epoch"}

    assert (logged, bar, logged | bar | {"p_se", "l_se"}) == (
        set(trainer.logged_metrics), set(trainer.progress_bar_metrics),
        set(trainer.callback_metrics))


@clause("LOG-034", "progress_bar_metrics holds Python floats; callback_metrics holds tensors.",
        source=f"{RESULT}::_ResultCollection.metrics")
@requires("logging")
def test_progress_bar_values_are_floats(target):
    trainer = _fit_matrix(target).trainer

    assert ({float}, {"Tensor"}) == (
        {type(v) for v in trainer.progress_bar_metrics.values()},
        {type(v).__name__ for v in trainer.callback_metrics.values()})


@clause("LOG-035", "After validation, callback_metrics has epoch values only, no step values.",
        source=f"{EVAL_LOGGING}::test__validation_step__log")
@requires("logging")
def test_eval_step_values_not_in_callback_metrics(target):
    trainer = target.validate(_validation_logging(target), limit_val_batches=2).trainer

    assert ({"a", "b", "b_epoch", "e", "hidden"}, {"a", "b_step", "b_epoch", "c", "e"}) == (
        set(trainer.callback_metrics), set(trainer.logged_metrics))


@clause("LOG-036", "Values logged during the sanity check are discarded before training starts.",
        source="tests/tests_pytorch/trainer/logging_/test_logger_connector.py"
        "::test_sanity_metrics_are_reset")
@requires("logging")
def test_sanity_check_logs_discarded(target):
    seen = []

    def on_train_start(self):
        trainer = self.trainer
        seen.append((dict(trainer.callback_metrics), dict(trainer.logged_metrics),
                     dict(trainer.progress_bar_metrics), list(trainer.logger.calls)))

    module = _validation_logging(target, overrides={"on_train_start": on_train_start})
    target.fit(module, max_epochs=1, limit_train_batches=1, limit_val_batches=2,
               num_sanity_val_steps=2, logger=target.logger())

    assert [({}, {}, {}, [])] == seen


@clause("LOG-037", "validate returns per dataloader a dict of epoch values, epoch-end ones included.",
        source=f"{EVAL_LOGGING}::test_eval_epoch_only_logging")
@requires("logging")
def test_validate_returns_epoch_values(target):
    result = target.validate(_validation_logging(target), limit_val_batches=2).result

    assert ([{"a": 0.5, "b_epoch": 0.5, "e": 5.0}], {float}) == (
        result, {type(value) for value in result[0].values()})


def _two_test_loaders(self):
    return [_models.loader(seed=3), _models.loader(seed=5)]


def _test_step(self, batch, batch_idx, dataloader_idx=0):
    self.log("x", float(dataloader_idx))


@clause("LOG-038", "With several eval dataloaders keys get '/dataloader_idx_N'; one dict per loader.",
        source=f"{EVAL_LOGGING}::test_multi_dataloaders_add_suffix_properly")
@requires("logging")
def test_dataloader_idx_suffix(target):
    module = target.module(overrides={"test_dataloader": _two_test_loaders,
                                      "test_step": _test_step,
                                      "on_test_epoch_end": lambda self: self.log("e", 5.0)})
    result = target.test(module, limit_test_batches=2).result

    assert [{"x/dataloader_idx_0": 0.0, "e": 5.0}, {"x/dataloader_idx_1": 1.0, "e": 5.0}] == result


@clause("LOG-039", "logger=False keeps a key out of logged_metrics but not out of callback_metrics.",
        source=f"{RESULT}::_ResultCollection.metrics")
@requires("logging")
def test_logger_false_key(target):
    def log(self, batch_idx):
        self.log("x", 1.0, logger=False)

    trainer = train_logging(target, training_step_logging(target.pl, log)).trainer

    assert ("x" in trainer.logged_metrics, "x" in trainer.callback_metrics) == (False, True)


@clause("LOG-040", "During training, callback_metrics already holds the current step's values.",
        source=f"{CONNECTOR}::_LoggerConnector.callback_metrics")
@requires("logging")
def test_callback_metrics_mid_epoch(target):
    seen = []

    def log(self, batch_idx):
        self.log("x", float(batch_idx))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        seen.append(trainer.callback_metrics["x"].item())

    callback = target.callback(overrides={"on_train_batch_end": on_train_batch_end})
    train_logging(target, training_step_logging(target.pl, log), callbacks=[callback],
                  limit_train_batches=3)

    assert [0.0, 1.0, 2.0] == seen
