"""The fit loop: epochs, training batches, scheduler stepping, and where in-fit validation runs.

Hook order (Lightning 2.6 ``loops/fit_loop.py`` and ``loops/training_epoch_loop.py``)::

    train_dataloader, [val_dataloader when the sanity check did not load it], on_train_start
    for each epoch:
        on_train_epoch_start
        for each batch:
            on_before_batch_transfer, transfer_batch_to_device, on_after_batch_transfer
            on_train_batch_start                    # the module returning -1 ends the epoch here
            <automatic optimization, see optimization.py>
            lr_scheduler_step                       # "step" ones; "epoch" ones at the last batch
            on_train_batch_end
            on_validation_model_zero_grad, <validation loop>   # when validation is due
        on_train_epoch_end                          # callbacks, module, then Checkpoint callbacks
    on_train_end
"""

import warnings

import torch

from .data import (
    INF,
    DataSource,
    check_iterable,
    flatten_loaders,
    loader_length,
    parse_num_batches,
    release_workers,
    set_sampler_epoch,
    val_check_batch,
)
from .distributed_data import distributed_dataloaders
from .errors import MisconfigurationException
from .evaluation_loop import EvaluationLoop
from .fetching import Fetcher, SingleLoader
from .manual import ManualOptimization
from .optimization import AutomaticOptimization
from .restart import begin_epoch, continue_epoch, first_iteration, start_fit
from .schedulers import step_lr_schedulers

__all__ = ["FitLoop"]


class FitLoop:
    """Counts epochs and optimizer steps, and runs the training epochs of ``Trainer.fit``."""

    # what a checkpoint's progress needs besides the counters below (see progress.py, restart.py)
    epochs_started = batches_completed = epoch_start_steps = batches_skipped = 0
    skipped_at = None  # total_batches_ready when on_train_batch_start last returned -1
    restart = None  # a restored checkpoint's Restart, until the first epoch after it ends
    resuming = False  # until the first epoch after a restored checkpoint has started

    def __init__(self, trainer, min_epochs, max_epochs, min_steps, max_steps):
        if isinstance(max_epochs, int) and max_epochs < -1:
            raise MisconfigurationException(
                f"`max_epochs` must be a non-negative integer or -1. You passed in {max_epochs}."
            )
        if max_steps < -1:
            raise MisconfigurationException(
                "`max_steps` must be a non-negative integer or -1 (infinite steps). You passed in"
                f" {max_steps}."
            )
        self.trainer = trainer
        self.min_epochs, self.max_epochs = min_epochs, max_epochs  # max_epochs is resolved by fit
        self.min_steps, self.max_steps = min_steps, max_steps
        self.optimization = AutomaticOptimization(trainer)
        self.manual_optimization = ManualOptimization(trainer)
        self.val_loop = EvaluationLoop(trainer, "fit", inference_mode=False)
        self.source = DataSource(None, "train_dataloader")
        self.loader, self.fetcher = None, None
        self.max_batches = INF  # batches per epoch, known once the train dataloader is loaded
        self.epochs_processed = self.epochs_completed = 0  # current_epoch is epochs_completed
        self.optimizer_steps = 0  # global_step
        self.batches_ready = self.total_batches_ready = 0  # in this epoch / since fit started
        self.batches_that_stepped = 0
        self.is_last_batch = False
        self._last_reload_epoch = -INF

    def reset_data(self):
        """Forget the loaded train dataloader (a new entry point attaches new data)."""
        self.loader, self.fetcher = None, None

    @property
    def batch_idx(self):
        return self.batches_ready - 1

    @property
    def total_batch_idx(self):
        return self.total_batches_ready - 1

    def run(self):
        """Train for as many epochs as the limits allow."""
        trainer = self.trainer
        self.setup_data()  # calls train_dataloader
        if self.done or trainer.limit_train_batches == 0:
            return
        start_fit(self)  # after a restored checkpoint: the epoch it resumes or restarts in
        torch.set_grad_enabled(True)
        if self.should_check_val_epoch() and self.val_loop.loaders is None:
            # without a sanity check, the val dataloader is loaded here, before on_train_start
            trainer.validating = True
            self.val_loop.setup_data()
            trainer.training = True
        trainer._call("on_train_start")
        while not self.done:
            self.run_epoch()
        trainer._call("on_train_end")

    @property
    def restarting(self):
        """Whether fit restarts inside a restored checkpoint's epoch (see restart.py)."""
        return self.restart is not None and self.restart.restarting

    @property
    def done(self):
        """Whether fit stops before the next epoch (no batches, limits reached, should_stop)."""
        if self.max_batches == 0 or self._max_steps_reached():
            return True
        if self.max_epochs != -1 and self.epochs_processed >= self.max_epochs:
            self.epochs_completed = self.epochs_processed
            return True
        return self.trainer.should_stop and self._can_stop_early()

    def run_epoch(self):
        """One training epoch; the epoch counter moves after on_train_epoch_end, as in Lightning."""
        trainer = self.trainer
        # reloads the train dataloader when reload_dataloaders_every_n_epochs says so
        self.setup_data()
        set_sampler_epoch(self.loader, self.epochs_processed)
        if begin_epoch(self):  # False when a checkpoint restarts inside this epoch
            trainer._call("on_train_epoch_start")
        self.run_batches()
        self.epochs_processed += 1
        with trainer._logger_connector.train_epoch_end():  # epoch values: dicts, then loggers
            trainer._call("on_train_epoch_end")
        if self._num_ready_batches_reached():  # not after a max_steps stop in mid-epoch
            # plateau "epoch" schedulers step after on_train_epoch_end: metrics may be logged there
            self.update_lr_schedulers("epoch", plateau=True)
        self.epochs_completed += 1
        self.restart = None

    def run_batches(self):
        if self.trainer.current_epoch > 0 and not self.resuming:
            # a new iterator per epoch; the first one (also the first after a resume) was made
            # when the data was loaded (Lightning: _TrainingEpochLoop.on_run_start)
            self.fetcher.restart()
        self.resuming = False
        continue_epoch(self)
        first = first_iteration(self)  # None, or how a restarted epoch's first one goes
        if first == "no batch":
            self.after_batch(validate=False)
        while first == "batch" or not self._epoch_done():
            first = None
            try:
                self.run_batch()
            except StopIteration:  # data exhausted, or on_train_batch_start returned -1
                break
            self.after_batch()

    def run_batch(self):
        """Fetch, move and train on one batch (Lightning's ``_TrainingEpochLoop.advance``)."""
        trainer = self.trainer
        batch, _, _ = next(self.fetcher)
        batch_idx = self.batches_ready
        self.is_last_batch = self.fetcher.done
        batch = trainer._transfer_batch(batch, dataloader_idx=0)
        self.batches_ready += 1
        self.total_batches_ready += 1
        trainer._logger_connector.on_batch_start(batch)
        outputs, skip_rest_of_epoch = None, False
        if batch is None:
            warnings.warn(
                "train_dataloader yielded None. If this was on purpose, ignore this warning...",
                stacklevel=2,
            )
        else:
            # callbacks' return values are ignored; only the module's counts
            response = trainer._call("on_train_batch_start", batch, batch_idx)
            skip_rest_of_epoch = response == -1
            if skip_rest_of_epoch:
                self.is_last_batch = True
                self.batches_skipped += 1  # ready and processed, never started (progress.py)
                self.skipped_at = self.total_batches_ready
            elif trainer.lightning_module.automatic_optimization:
                outputs = self.optimization.run(batch, batch_idx)
            else:
                outputs = self.manual_optimization.run(batch, batch_idx)
        self.update_lr_schedulers("step", plateau=False)
        if self._num_ready_batches_reached():
            self.update_lr_schedulers("epoch", plateau=False)
        if skip_rest_of_epoch:
            # raised after the scheduler update: the skipped epoch still counts for schedulers
            raise StopIteration
        trainer._call("on_train_batch_end", outputs, batch, batch_idx)
        self.batches_completed = self.batches_ready
        trainer._logger_connector.on_train_batch_end()

    def after_batch(self, validate=True):
        """Validate when due, then step plateau schedulers (Lightning's ``on_advance_end``)."""
        trainer = self.trainer
        if validate and self._should_check_val():
            trainer.validating = True
            if not self.should_accumulate():  # gradients would hold memory during validation
                trainer._call_module("on_validation_model_zero_grad")
            self.val_loop.run()
            trainer.training = True
        # plateau schedulers step after validation, so their monitored metrics exist
        self.update_lr_schedulers("step", plateau=True)
        if not self.should_accumulate():
            self.batches_that_stepped += 1

    def update_lr_schedulers(self, interval, plateau):
        """Step due schedulers; "step" ones never while gradients are still being accumulated."""
        if not self.trainer.lr_scheduler_configs:
            return
        if interval == "step" and self.should_accumulate():
            return
        if interval == "epoch" and plateau and self.restarting:
            return  # the metrics a restarted epoch's plateau schedulers monitor were not saved
        if not self.trainer.lightning_module.automatic_optimization:
            return  # manual optimization steps its own schedulers
        step_lr_schedulers(self.trainer, interval, plateau, self.batch_idx)

    def should_accumulate(self):
        """Whether this batch only accumulates gradients (window open, not the last batch)."""
        window_closed = self.batches_ready % self.trainer.accumulate_grad_batches == 0
        return not window_closed and not self._num_ready_batches_reached()

    def should_check_val_epoch(self):
        cve = self.trainer.check_val_every_n_epoch
        return self.trainer.enable_validation and (
            cve is None or (self.trainer.current_epoch + 1) % cve == 0
        )

    def _should_check_val(self):
        """Whether validation runs after this batch, per val_check_interval and its epoch rule."""
        trainer = self.trainer
        if not self.should_check_val_epoch():
            return False
        is_infinite = trainer.val_check_batch == INF
        if self.is_last_batch and is_infinite:
            return True
        if trainer.should_stop and self._can_stop_early():
            return True
        if isinstance(trainer.limit_train_batches, int) and is_infinite:
            return (self.batch_idx + 1) % trainer.limit_train_batches == 0
        if not is_infinite:
            # Note: as in Lightning, a batch-based interval replaces the end-of-epoch check
            every_epoch = trainer.check_val_every_n_epoch is not None
            current = self.batch_idx if every_epoch else self.total_batch_idx
            return (current + 1) % trainer.val_check_batch == 0
        return self.is_last_batch

    def _epoch_done(self):
        if self._max_steps_reached() or self._num_ready_batches_reached():
            return True
        return self.trainer.should_stop and self._can_stop_early()

    def _num_ready_batches_reached(self):
        return self.batches_ready == self.trainer.num_training_batches or self.is_last_batch

    def _max_steps_reached(self):
        return self.max_steps != -1 and self.optimizer_steps >= self.max_steps

    def _can_stop_early(self):
        met_min_epochs = self.epochs_processed >= self.min_epochs if self.min_epochs else True
        met_min_steps = self.optimizer_steps >= self.min_steps if self.min_steps else True
        return met_min_epochs and met_min_steps

    def setup_data(self):
        """Load the train dataloader (once, or again when reloading is due) and size the epoch."""
        trainer = self.trainer
        if self.loader is not None and not self._should_reload():
            return
        if trainer.limit_train_batches == 0:
            return
        (loader,) = flatten_loaders(self.source.request(), allow_collection=False)
        check_iterable(loader, self.source, "fit")
        loader = distributed_dataloaders(trainer, loader, "train")  # DDP: this rank's shard
        length = loader_length(loader)
        self.max_batches = parse_num_batches("train", length, trainer.limit_train_batches)
        self.loader, self.fetcher = loader, Fetcher(SingleLoader(loader), self.max_batches)
        if self.max_batches == 0:
            return
        self._last_reload_epoch = trainer.current_epoch
        trainer.val_check_batch = val_check_batch(trainer, self.max_batches, length != INF)

    def _should_reload(self):
        every = self.trainer.reload_dataloaders_every_n_epochs
        return bool(every) and self.trainer.current_epoch - self._last_reload_epoch >= every

    def teardown(self):
        """Drop the batch iterator and its workers; the loaded dataloader stays for inspection."""
        if self.loader is not None:
            release_workers(self.loader)
        self.fetcher = None
        self.val_loop.teardown()
