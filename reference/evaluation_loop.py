"""The evaluation loop: sanity check, in-fit validation, ``validate`` and ``test``.

Hook order (Lightning 2.6 ``loops/evaluation_loop.py``; ``noun`` is "validation" or "test")::

    {val|test}_dataloader                            # once per fit unless reloading; every
    validate/test call
    on_{noun}_model_eval                             # always; the default calls
    trainer.model.eval()
    on_{noun}_start, on_{noun}_epoch_start
    for each dataloader, one after the other, for each batch:
        on_before_batch_transfer, transfer_batch_to_device, on_after_batch_transfer
        on_{noun}_batch_start, {noun}_step, on_{noun}_batch_end
    on_{noun}_epoch_end, on_{noun}_end
    on_{noun}_model_train                            # only if overridden; else train/eval modes are
    restored
"""

import inspect
from collections import defaultdict

import torch

from .data import (
    INF,
    DataSource,
    check_iterable,
    flatten_loaders,
    is_overridden,
    loader_length,
    parse_num_batches,
    release_workers,
    set_sampler_epoch,
    takes_param,
)
from .distributed_data import distributed_dataloaders
from .fetching import Fetcher, SequentialLoaders
from .module import LightningModule
from .results import ResultCollection

__all__ = [
    "EvaluationLoop",
    "batch_hook_args",
    "capture_train_modes",
    "no_grad_context",
    "restore_train_modes",
    "step_args",
    "verify_dataloader_idx",
]


def no_grad_context(inference_mode):
    return torch.inference_mode() if inference_mode else torch.no_grad()


def capture_train_modes(module):
    return {name: submodule.training for name, submodule in module.named_modules()}


def restore_train_modes(module, modes):
    # set the flags directly: Lightning does not call train() when the *_model_train hook is not
    # overridden
    for name, submodule in module.named_modules():
        if name in modes:
            submodule.training = modes[name]


def verify_dataloader_idx(module, hooks, several, prefix):
    """Require ``dataloader_idx`` with several dataloaders, and a default for it with one."""
    for hook in hooks:
        fn = getattr(module, hook)
        present = takes_param(fn, "dataloader_idx")
        if several and not present:
            raise RuntimeError(
                f"You provided multiple `{prefix}_dataloader`, but no `dataloader_idx` argument in"
                f" `{type(module).__name__}.{hook}()`. Try adding `dataloader_idx=0` to its"
                " signature."
            )
        param = inspect.signature(fn).parameters.get("dataloader_idx")
        if (
            not several
            and present
            and param is not None
            and param.default is inspect.Parameter.empty
        ):
            raise RuntimeError(
                f"You provided only a single `{prefix}_dataloader`, but have included"
                f" `dataloader_idx` in `{type(module).__name__}.{hook}()`. Either remove the"
                " argument or give it a default value i.e. `dataloader_idx=0`."
            )


def batch_hook_args(batch, batch_idx, dataloader_idx, num_dataloaders):
    # dataloader_idx is passed only when several dataloaders run
    return (batch, batch_idx, dataloader_idx) if num_dataloaders > 1 else (batch, batch_idx)


def step_args(fn, hook_args):
    # *_step gets batch_idx only when it can take it; the batch hooks always get it
    if takes_param(fn, "batch_idx", min_args=2):
        return hook_args
    return (hook_args[0],) + hook_args[2:]


class EvaluationLoop:
    """Runs validation or test epochs for the entry point ``fn`` ("fit", "validate", "test")."""

    def __init__(self, trainer, fn, inference_mode):
        self.trainer, self.fn, self.inference_mode = trainer, fn, inference_mode
        self.prefix = "test" if fn == "test" else "val"
        self.source = DataSource(None, f"{self.prefix}_dataloader")
        # the dataloaders as the source gave them, and flattened into a list
        self.dataloaders, self.loaders = None, None
        self._max_batches = []
        self._last_reload_epoch = -INF
        self.has_run = False
        self._results = ResultCollection(training=False)
        self._seen_batches = defaultdict(int)  # per dataloader: the logger step of eval batches

    def reset_data(self):
        """Forget the loaded dataloaders (a new entry point attaches new data)."""
        self.dataloaders, self.loaders = None, None

    @property
    def max_batches(self):
        """Batches per dataloader; the sanity check caps them at ``num_sanity_val_steps``."""
        if not self.trainer.sanity_checking:
            return self._max_batches
        return [min(self.trainer.num_sanity_val_steps, batches) for batches in self._max_batches]

    def run(self):
        """Run one evaluation epoch; return the epoch metrics logged, one dict per dataloader."""
        with no_grad_context(self.inference_mode):
            self.setup_data()
            if sum(self.max_batches) == 0:
                return []
            trainer, module = self.trainer, self.trainer.lightning_module
            noun = "test" if trainer.testing else "validation"
            fetcher = self._make_fetcher()
            self._verify_dataloader_idx(noun)
            modes = capture_train_modes(module)
            trainer._call_module(f"on_{noun}_model_eval")
            trainer._call(f"on_{noun}_start")
            trainer._call(f"on_{noun}_epoch_start")
            # in-fit validation runs inside a training batch: keep the training loop's state
            first_loop_iter = trainer._logger_connector.first_loop_iter
            logged_outputs = self._run_batches(fetcher, noun)
            results = self._epoch_end(noun, logged_outputs)
            trainer._call(f"on_{noun}_end")
            trainer._logger_connector.reset_results()
            trainer._logger_connector.first_loop_iter = first_loop_iter
            self._on_model_train(noun, modes)
            return results

    def _epoch_end(self, noun, logged_outputs):
        """on_{noun}_epoch_end; its epoch values join every dataloader's; all go to the loggers."""
        connector = self.trainer._logger_connector
        connector.epoch_end_reached()
        self._results.dataloader_idx = None
        self.trainer._call(f"on_{noun}_epoch_end")
        connector.on_epoch_end()
        epoch_end_outputs = connector.update_eval_epoch_metrics()
        all_outputs = {}
        for outputs in logged_outputs:
            all_outputs.update(outputs)
            outputs.update(epoch_end_outputs)
        connector.log_eval_end_metrics({**all_outputs, **epoch_end_outputs})
        return logged_outputs

    def _on_model_train(self, noun, modes):
        """Call on_{noun}_model_train if overridden; else restore the captured modes directly."""
        module = self.trainer.lightning_module
        if is_overridden(f"on_{noun}_model_train", module, LightningModule):
            self.trainer._call_module(f"on_{noun}_model_train")
        else:
            restore_train_modes(module, modes)

    def _make_fetcher(self):
        if self.fn == "fit":
            for loader in self.loaders:
                set_sampler_epoch(loader, self.trainer.fit_loop.epochs_processed)
        return Fetcher(SequentialLoaders(self.loaders, self.max_batches), sum(self.max_batches))

    def _run_batches(self, fetcher, noun):
        logged_outputs, previous_dataloader_idx = [], 0
        for batch, batch_idx, dataloader_idx in fetcher:
            if dataloader_idx != previous_dataloader_idx:
                # a dataloader's epoch values are taken when the next one starts
                logged_outputs.append(self._dataloader_outputs())
            previous_dataloader_idx = dataloader_idx
            self._evaluation_step(batch, batch_idx, dataloader_idx, noun)
        logged_outputs.append(self._dataloader_outputs())
        return logged_outputs

    def _dataloader_outputs(self):
        self.trainer._logger_connector.epoch_end_reached()
        return self.trainer._logger_connector.update_eval_epoch_metrics()

    def _evaluation_step(self, batch, batch_idx, dataloader_idx, noun):
        trainer = self.trainer
        batch = trainer._transfer_batch(batch, dataloader_idx)
        hook_args = batch_hook_args(batch, batch_idx, dataloader_idx, len(self.loaders))
        several = len(self.loaders) > 1
        trainer._logger_connector.on_batch_start(batch, dataloader_idx if several else None)
        trainer._call(f"on_{noun}_batch_start", *hook_args)
        step = getattr(trainer.lightning_module, f"{noun}_step")
        output = trainer._call_module(f"{noun}_step", *step_args(step, hook_args))
        trainer._call(f"on_{noun}_batch_end", output, *hook_args)
        trainer._logger_connector.on_batch_end()
        if not trainer.sanity_checking:
            self.has_run = True
            # evaluation step values go to the loggers on every batch
            trainer._logger_connector.update_eval_step_metrics(self._seen_batches[dataloader_idx])
            self._seen_batches[dataloader_idx] += 1

    def _verify_dataloader_idx(self, noun):
        module, several = self.trainer.lightning_module, len(self.loaders) > 1
        verify_dataloader_idx(module, (f"{noun}_step",), several, self.prefix)
        verify_dataloader_idx(
            module, (f"on_{noun}_batch_start", f"on_{noun}_batch_end"), several, self.prefix
        )

    def setup_data(self):
        """Load the dataloaders; in fit only once, unless reloading is due."""
        trainer = self.trainer
        if self.loaders is not None and self.fn == "fit" and not self._should_reload():
            return
        limit = trainer.limit_test_batches if trainer.testing else trainer.limit_val_batches
        step_name = "test_step" if trainer.testing else "validation_step"
        if limit == 0 or not is_overridden(step_name, trainer.lightning_module, LightningModule):
            return
        if self.fn == "fit" and (
            not trainer.sanity_checking or trainer.fit_loop.should_check_val_epoch()
        ):
            self._last_reload_epoch = trainer.current_epoch
        # DDP: each rank evaluates its own shard
        self.dataloaders = distributed_dataloaders(trainer, self.source.request(), self.prefix)
        loaders = flatten_loaders(self.dataloaders, allow_collection=True)
        for loader in loaders:
            check_iterable(loader, self.source, self.fn)
        self.loaders = loaders
        self._max_batches = [
            parse_num_batches(self.prefix, loader_length(dl), limit) for dl in loaders
        ]
        self._seen_batches = defaultdict(int)  # the step count restarts with new data

    def _should_reload(self):
        every = self.trainer.reload_dataloaders_every_n_epochs
        return bool(every) and self.trainer.current_epoch - self._last_reload_epoch >= every

    def teardown(self):
        for loader in self.loaders or []:
            release_workers(loader)
