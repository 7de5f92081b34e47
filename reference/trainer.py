"""The Trainer: settings, the four entry points, and ``_run``: hooks in Lightning 2.6's order.

configure_callbacks, <configuration checks>, prepare_data (datamodule, module)
setup (datamodule, callbacks, module), configure_model
fit only: configure_optimizers, on_fit_start
zero_grad, then: fit -> sanity check + fit loop | validate/test -> evaluation loop | predict ->
predict loop
fit only: on_fit_end
teardown (datamodule, callbacks, module)
"""

import os

import torch

from . import precision as precision_connector
from . import settings
from .callback_list import attach_model_callbacks, init_callbacks
from .calls import HookCalls
from .checkpoint import save_checkpoint
from .configuration import verify_configuration
from .connection import DataConnection, checked_module
from .data import INF, is_overridden
from .datamodule import LightningDataModule
from .distributed import parallel_strategy
from .errors import MisconfigurationException, unsupported
from .evaluation_loop import EvaluationLoop
from .fit_loop import FitLoop
from .logger_connector import LoggerConnector, TrainerLogging, as_floats, configure_loggers
from .module import LightningModule
from .optimizers import parse_optimizers
from .prediction_loop import PredictionLoop
from .properties import SingleDeviceStrategy, TrainerProperties, TrainerState
from .restore import CheckpointConnector
from .seed import isolate_rng

__all__ = ["Trainer"]


class Trainer(TrainerLogging, HookCalls, DataConnection, TrainerProperties):
    """Runs a LightningModule on one device (CPU or cuda:0), calling hooks where Lightning 2.6 does.

    The arguments are Lightning's, with its defaults; values the reference cannot honour raise
    ``UnsupportedByReference`` (see ``settings.py`` and ``KNOWN_GAPS.txt``). With
    ``strategy="ddp"`` it runs on ranks launched by torchrun, one per device (``distributed.py``).
    """

    # Lightning 2.6's arguments, in its order, with its defaults (kept compact on purpose)
    def __init__(
        self, *, accelerator="auto", strategy="auto", devices="auto", num_nodes=1, precision=None,
        logger=None, callbacks=None, fast_dev_run=False, max_epochs=None, min_epochs=None,
        max_steps=-1, min_steps=None, max_time=None, limit_train_batches=None,
        limit_val_batches=None, limit_test_batches=None, limit_predict_batches=None,
        overfit_batches=0.0, val_check_interval=None, check_val_every_n_epoch=1,
        num_sanity_val_steps=None,
        log_every_n_steps=None, enable_checkpointing=None, enable_progress_bar=None,
        enable_model_summary=None, accumulate_grad_batches=1, gradient_clip_val=None,
        gradient_clip_algorithm=None, deterministic=None, benchmark=None, inference_mode=True,
        use_distributed_sampler=True, profiler=None, detect_anomaly=False, barebones=False,
        plugins=None, sync_batchnorm=False, reload_dataloaders_every_n_epochs=0,
        default_root_dir=None, enable_autolog_hparams=True, model_registry=None,
    ):  # fmt: skip
        arguments = {name: value for name, value in locals().items() if name != "self"}
        flags = settings.resolve_opt_outs(arguments)  # barebones, and Lightning's opt-out defaults
        settings.reject_unsupported(arguments)  # features outside the reference
        settings.set_torch_flags(deterministic, benchmark)
        self._init_loops(min_epochs, max_epochs, min_steps, max_steps, inference_mode)
        self.strategy = parallel_strategy(strategy, devices, num_nodes) or self.strategy  # DDP
        precision_connector.connect(self.strategy, accelerator, precision)  # root device, plugin
        self._default_root_dir = os.fspath(default_root_dir) if default_root_dir else os.getcwd()
        self.callbacks = init_callbacks(callbacks, flags["enable_checkpointing"])
        self._init_validation(arguments)
        self._init_optimization(accumulate_grad_batches, gradient_clip_val, gradient_clip_algorithm)
        self._init_limits(arguments)
        self._init_flags(flags, arguments)

    def _init_loops(self, min_epochs, max_epochs, min_steps, max_steps, inference_mode):
        self.state, self.strategy, self.datamodule = TrainerState(), SingleDeviceStrategy(), None
        self.fit_loop = FitLoop(self, min_epochs, max_epochs, min_steps, max_steps)
        self.validate_loop = EvaluationLoop(self, "validate", inference_mode)
        self.test_loop = EvaluationLoop(self, "test", inference_mode)
        self.predict_loop = PredictionLoop(self, inference_mode)
        self._datahook_datamodule = None
        self._checkpoint_connector = CheckpointConnector(self)
        self._logger_connector = LoggerConnector(self)  # self.log -> metrics dicts and loggers

    def _init_validation(self, arguments):
        interval = arguments["val_check_interval"]
        every_n_epochs = arguments["check_val_every_n_epoch"]
        reload_every = arguments["reload_dataloaders_every_n_epochs"]
        settings.check_validation_flags(interval, every_n_epochs, reload_every)
        self.val_check_interval = settings.batch_limit(interval, "val_check_interval")
        self.val_check_batch = None  # known once the train dataloader is loaded
        self.check_val_every_n_epoch = every_n_epochs
        self.reload_dataloaders_every_n_epochs = reload_every

    def _init_optimization(self, accumulate, clip_val, clip_algorithm):
        self.accumulate_grad_batches = accumulate
        clipping = settings.check_clipping(clip_val, clip_algorithm)
        self.gradient_clip_val, self.gradient_clip_algorithm = clipping
        self._optimizers, self._lightning_optimizers, self._lr_scheduler_configs = [], [], []

    def _init_flags(self, flags, arguments):
        sanity_steps = flags["num_sanity_val_steps"]
        self.num_sanity_val_steps = INF if sanity_steps == -1 else sanity_steps  # -1 means all
        self.log_every_n_steps, self.should_stop = flags["log_every_n_steps"], False
        self.loggers = configure_loggers(arguments["logger"])
        self.barebones, self.inference_mode = arguments["barebones"], arguments["inference_mode"]
        self.use_distributed_sampler = arguments["use_distributed_sampler"]
        self.enable_autolog_hparams = arguments["enable_autolog_hparams"]
        self._detect_anomaly = arguments["detect_anomaly"]

    def _init_limits(self, arguments):
        for stage in ("train", "val", "test", "predict"):
            name = f"limit_{stage}_batches"
            setattr(self, name, settings.batch_limit(arguments[name], name))

    # ---- entry points ----

    def fit(self, model, train_dataloaders=None, val_dataloaders=None, datamodule=None,
            ckpt_path=None, weights_only=None):  # fmt: skip
        """Train ``model``: a sanity check, then epochs of training with validation when due."""
        self._checkpoint_connector.request("fit", ckpt_path, weights_only, model_provided=True)
        self.strategy.lightning_module = checked_module(model)
        self._start("fit", "train")
        self.should_stop = False
        data = (train_dataloaders, val_dataloaders, datamodule)
        launch = getattr(self.strategy, "launch", None)  # ddp_fork: fit runs on forked ranks
        if launch is not None:
            return launch(self, self._call_and_handle_interrupt, self._fit_impl, model, *data)
        self._call_and_handle_interrupt(self._fit_impl, model, *data)

    def _fit_impl(self, model, train_dataloaders, val_dataloaders, datamodule):
        if isinstance(train_dataloaders, LightningDataModule):
            datamodule, train_dataloaders = train_dataloaders, None
        given = train_dataloaders is not None or val_dataloaders is not None
        if given and datamodule is not None:
            raise MisconfigurationException(
                "You cannot pass `train_dataloader` or `val_dataloaders` to"
                " `trainer.fit(datamodule=...)`"
            )
        self._attach_data(model, datamodule, train=train_dataloaders, val=val_dataloaders)
        self._checkpoint_connector.select()  # "best", "last" or a path -> a file or None
        self._run(model)

    def validate(self, model=None, dataloaders=None, ckpt_path=None, verbose=True, datamodule=None,
                 weights_only=None):  # fmt: skip
        """Run one validation epoch; return one metrics dict per dataloader."""
        # Note: `verbose` prints Lightning's results table; the reference has no metrics to print
        # yet.
        return self._evaluate("validate", model, dataloaders, ckpt_path, datamodule)

    def test(self, model=None, dataloaders=None, ckpt_path=None, verbose=True, datamodule=None,
             weights_only=None):  # fmt: skip
        """Run one test epoch; return one metrics dict per dataloader."""
        return self._evaluate("test", model, dataloaders, ckpt_path, datamodule)

    def predict(self, model=None, dataloaders=None, datamodule=None, return_predictions=None,
                ckpt_path=None, weights_only=None):  # fmt: skip
        """Run ``predict_step`` over the predict dataloaders; return the predictions."""
        # with a single process, predictions can always be returned
        returns = True if return_predictions is None else return_predictions
        self.predict_loop.return_predictions = returns
        return self._evaluate("predict", model, dataloaders, ckpt_path, datamodule)

    def _evaluate(self, fn, model, dataloaders, ckpt_path, datamodule):
        # Note: the evaluation entry points load with torch's default `weights_only`
        self._checkpoint_connector.request(fn, ckpt_path, None, model_provided=model is not None)
        self.strategy.lightning_module = self._select_model(fn, model)
        self._start(fn, fn)
        return self._call_and_handle_interrupt(self._evaluate_impl, fn, dataloaders, datamodule)

    def _evaluate_impl(self, fn, dataloaders, datamodule):
        if isinstance(dataloaders, LightningDataModule):
            datamodule, dataloaders = dataloaders, None
        if dataloaders is not None and datamodule:
            raise MisconfigurationException(
                f"You cannot pass both `trainer.{fn}(dataloaders=..., datamodule=...)`"
            )
        stage = {"validate": "val", "test": "test", "predict": "predict"}[fn]
        self._attach_data(self.lightning_module, datamodule, **{stage: dataloaders})
        self._checkpoint_connector.select()
        results = self._run(self.lightning_module)
        # validate and test return floats, one dict per dataloader
        return results if fn == "predict" else [as_floats(r) for r in results]

    def save_checkpoint(self, filepath, weights_only=None, storage_options=None):
        """Write a checkpoint of the current state (hooks: see ``checkpoint.dump_checkpoint``)."""
        if storage_options is not None:
            raise unsupported("`save_checkpoint(storage_options=...)`", "it has no CheckpointIO")
        save_checkpoint(self, filepath, weights_only)

    # ---- the run ----

    def _run(self, model):
        """Lightning's ``Trainer._run``: every setup hook, the stage, every teardown hook."""
        fit = self.state.fn == "fit"
        if fit:
            loop = self.fit_loop
            loop.min_epochs, loop.max_epochs = settings.parse_loop_limits(
                loop.min_steps, loop.max_steps, loop.min_epochs, loop.max_epochs
            )
        self.strategy.setup_environment()  # DDP: this rank joins the process group
        attach_model_callbacks(self)  # configure_callbacks
        verify_configuration(self, model)  # HOOK-040 ... HOOK-046
        self._prepare_data()
        self._call_setup_hooks()
        if is_overridden("configure_model", model, LightningModule):
            self._call_module("configure_model")
        self._checkpoint_connector.restore_modules_and_callbacks()  # CKPT-009
        self.precision_plugin.convert_module(model).to(self.strategy.root_device)
        self._reset_logged_metrics()
        self.strategy.setup(self)  # DDP: wrap the module for fit, else copy rank 0's weights
        if fit:
            conf = self._call_module("configure_optimizers")
            custom_step = is_overridden("lr_scheduler_step", model, LightningModule)
            self.optimizers, self._lr_scheduler_configs = parse_optimizers(conf, model, custom_step)
            self._call("on_fit_start")
        self._checkpoint_connector.restore_training_state()  # after on_fit_start (CKPT-010)
        results = self._run_stage()
        self._teardown()
        if fit:
            self._call("on_fit_end")
        self._call_teardown_hooks()
        self.state.status, self.state.stage = "finished", None
        return results

    def _run_stage(self):
        self.strategy.barrier("run-stage")
        self.lightning_module.zero_grad()
        if self.state.fn == "validate":
            return self.validate_loop.run()
        if self.state.fn == "test":
            return self.test_loop.run()
        if self.state.fn == "predict":
            return self.predict_loop.run()
        with isolate_rng():  # the sanity check must not change the training's random numbers
            self._run_sanity_check()
        with torch.autograd.set_detect_anomaly(self._detect_anomaly):
            self.fit_loop.run()
        return None

    def _run_sanity_check(self):
        """A few validation batches before training, between the sanity-check callback hooks."""
        if not (self.enable_validation and self.num_sanity_val_steps > 0):
            return
        if self.fit_loop.restarting:  # it would disturb the restored state (restart.py)
            return
        stage = self.state.stage
        self.sanity_checking = True
        self._reset_logged_metrics()
        self._call_callbacks("on_sanity_check_start")
        self.fit_loop.val_loop.run()
        self._call_callbacks("on_sanity_check_end")
        self._reset_logged_metrics()  # what the sanity check logged is discarded
        self.state.stage = stage

    def _reset_logged_metrics(self):
        self._logger_connector.reset_results()
        self._logger_connector.reset_metrics()

    def _start(self, fn, stage):
        self.state.fn, self.state.stage, self.state.status = fn, stage, "running"

    def _call_and_handle_interrupt(self, impl, *args):
        """Run an entry point; on an exception call on_exception, release resources, re-raise."""
        try:
            return impl(*args)
        except BaseException as exception:
            # Note: after a KeyboardInterrupt Lightning exits the process with status 1; the
            # reference re-raises.
            self.state.status = "interrupted"
            self._call_callbacks("on_exception", exception)
            if self.datamodule is not None:
                self._call_datamodule("on_exception", exception)
            for logger in self.loggers:
                logger.finalize("failed")
            self._teardown()
            self.state.stage = None
            raise

    def _teardown(self):
        """Release what the run held (Lightning's internal teardown, not the teardown hooks)."""
        self.strategy.teardown()  # DDP: unwrap the module
        if self.lightning_module is not None:
            self.lightning_module.cpu()
        for loop in (self.fit_loop, self.validate_loop, self.test_loop, self.predict_loop):
            loop.teardown()
        self._logger_connector.teardown()

