"""From logged results to the Trainer's three dictionaries and to the loggers.

Lightning 2.6 ``trainer/connectors/logger_connector/logger_connector.py``:

- ``logged_metrics``: what is (or would be) sent to the loggers; forked names only.
- ``callback_metrics``: what callbacks and schedulers monitor; plain and forked names. In
  evaluation it holds epoch values only.
- ``progress_bar_metrics``: the ``prog_bar=True`` values as Python floats.

Loggers get training step values every ``log_every_n_steps`` batches that stepped, epoch values
at the epoch end (with the step index of the epoch's last batch), evaluation step values on every
batch (step = batches seen on that dataloader) and evaluation epoch values once per loop.
"""

from collections.abc import Iterable
from contextlib import contextmanager

import torch

from .errors import unsupported
from .results import ResultCollection

__all__ = ["LoggerConnector", "TrainerLogging", "as_floats", "configure_loggers"]


class LoggerConnector:
    """Moves values from the active loop's ``ResultCollection`` to the dictionaries and loggers."""

    def __init__(self, trainer):
        self.trainer = trainer
        self._logged_metrics, self._callback_metrics, self._progress_bar_metrics = {}, {}, {}
        self.current_fx = None
        # None: no batch running; True: the loop's first batch; False: a later batch
        self.first_loop_iter = None
        self.train_results = ResultCollection(training=True)  # the eval loops hold their own

    # ---- the three dictionaries ----

    @property
    def metrics(self):
        """Step values while a batch runs, epoch values otherwise."""
        return self.trainer._results.metrics(on_step=self.first_loop_iter is not None)

    def _merged(self, kind, store):
        if self.trainer._results is not None:
            store.update(self.metrics[kind])
        return store

    @property
    def logged_metrics(self):
        return self._merged("log", self._logged_metrics)

    @property
    def callback_metrics(self):
        return self._merged("callback", self._callback_metrics)

    @property
    def progress_bar_metrics(self):
        return self._merged("pbar", self._progress_bar_metrics)

    def _update_all(self):
        metrics = self.metrics
        self._progress_bar_metrics.update(metrics["pbar"])
        self._callback_metrics.update(metrics["callback"])
        self._logged_metrics.update(metrics["log"])
        return metrics

    def reset_metrics(self):
        self._logged_metrics, self._callback_metrics, self._progress_bar_metrics = {}, {}, {}

    def reset_results(self):
        results = self.trainer._results
        if results is not None:
            results.reset()
        self.first_loop_iter, self.current_fx = None, None

    def should_reset_tensors(self, fx):
        """A hook logging for the first time this epoch starts its values afresh."""
        return self.current_fx != fx and self.first_loop_iter in (None, True)

    # ---- batches and epochs ----

    def on_batch_start(self, batch, dataloader_idx=None):
        self.first_loop_iter = self.first_loop_iter is None
        results = self.trainer._results
        results.batch, results.batch_size, results.dataloader_idx = batch, None, dataloader_idx

    def on_batch_end(self):
        self._update_all()
        results = self.trainer._results
        results.batch, results.batch_size = None, None

    def epoch_end_reached(self):
        self.first_loop_iter = None

    def on_epoch_end(self):
        self._update_all()
        self.current_fx = None

    # ---- loggers ----

    def log_metrics(self, metrics, step=None):
        """Send ``metrics`` as floats to every logger; the step axis is explained above."""
        trainer = self.trainer
        if not trainer.loggers or not metrics:
            return
        self._logged_metrics.update(metrics)
        scalars = as_floats(metrics)
        if step is None:
            user_step = scalars.pop("step", None)
            if user_step is not None:
                step = int(user_step)
            else:
                scalars.setdefault("epoch", trainer.current_epoch)
                step = trainer.fit_loop.batches_that_stepped
        for logger in trainer.loggers:
            logger.log_metrics(metrics=scalars, step=step)
            logger.save()

    def on_train_batch_end(self):
        self.on_batch_end()
        self.update_train_step_metrics()

    def update_train_step_metrics(self):
        trainer = self.trainer
        if trainer.fit_loop.should_accumulate() and trainer.lightning_module.automatic_optimization:
            return
        if self.should_update_logs:
            self.log_metrics(self.metrics["log"])

    @property
    def should_update_logs(self):
        trainer = self.trainer
        if trainer.log_every_n_steps == 0:
            return False
        # `+ 1`: the batch that is ending has not been counted yet
        step = trainer.fit_loop.batches_that_stepped + 1
        return step % trainer.log_every_n_steps == 0 or trainer.should_stop

    @contextmanager
    def train_epoch_end(self):
        """Around the on_train_epoch_end hooks: then the epoch values go to dicts and loggers."""
        self.epoch_end_reached()
        yield
        self.on_epoch_end()
        self.update_train_epoch_metrics()

    def update_train_epoch_metrics(self):
        loop = self.trainer.fit_loop
        # epoch values go to the loggers at the step of the epoch's last batch
        loop.batches_that_stepped -= 1
        self.log_metrics(self.metrics["log"])
        loop.batches_that_stepped += 1
        self.reset_results()

    def update_eval_step_metrics(self, step):
        self.log_metrics(self.metrics["log"], step=step)

    def update_eval_epoch_metrics(self):
        """The epoch values of the dataloader that just finished (nothing in the sanity check)."""
        if self.trainer.sanity_checking:
            return {}
        return self._update_all()["log"]

    def log_eval_end_metrics(self, metrics):
        if not self.trainer.sanity_checking:
            self.log_metrics(metrics)

    def teardown(self):
        def cpu(store):
            return {key: _to_cpu(value) for key, value in store.items()}

        self._logged_metrics = cpu(self._logged_metrics)
        self._callback_metrics = cpu(self._callback_metrics)


def as_floats(metrics):
    """``metrics`` with every tensor turned into a Python number."""
    return {name: _scalar(value) for name, value in metrics.items()}


def _scalar(value):
    return value.item() if isinstance(value, torch.Tensor) else value


def _to_cpu(value):
    return value.cpu() if isinstance(value, torch.Tensor) else value


def configure_loggers(logger):
    """The Trainer's loggers for its ``logger`` argument: a Logger, several, or none."""
    # Note: Lightning's default (None, True) creates a TensorBoard or CSV logger; the reference
    # treats None as "no logger" and does not provide those loggers.
    if logger is None or logger is False:
        return []
    if logger is True:
        raise unsupported("`Trainer(logger=True)`", "it has no TensorBoard or CSV logger")
    if isinstance(logger, Iterable):
        return list(logger)
    return [logger]


class TrainerLogging:
    """The logging properties mixed into ``Trainer``."""

    @property
    def logger(self):
        """The first logger, or None."""
        return self.loggers[0] if self.loggers else None

    @logger.setter
    def logger(self, logger):
        self.loggers = [logger] if logger else []

    @property
    def loggers(self):
        return self._loggers

    @loggers.setter
    def loggers(self, loggers):
        self._loggers = list(loggers) if loggers else []

    @property
    def callback_metrics(self):
        """What callbacks and schedulers monitor (tensors; evaluation step values left out)."""
        return self._logger_connector.callback_metrics

    @property
    def logged_metrics(self):
        """What was sent to the loggers (forked ``_step``/``_epoch`` names)."""
        return self._logger_connector.logged_metrics

    @property
    def progress_bar_metrics(self):
        """The ``prog_bar=True`` values, as floats."""
        return self._logger_connector.progress_bar_metrics

    @property
    def _results(self):
        """The result collection of the running loop; None outside loops and in predict."""
        stage = self.state.stage
        if stage == "train":
            return self._logger_connector.train_results
        if stage == "sanity_check" or (stage == "validate" and self.state.fn == "fit"):
            return self.fit_loop.val_loop._results
        if stage == "validate":
            return self.validate_loop._results
        if stage == "test":
            return self.test_loop._results
        return None
