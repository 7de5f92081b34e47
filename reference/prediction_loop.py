"""The prediction loop of ``Trainer.predict`` (Lightning 2.6 ``loops/prediction_loop.py``).

predict_dataloader, on_predict_model_eval, on_predict_start, on_predict_epoch_start
for each dataloader, one after the other, for each batch:
    on_before_batch_transfer, transfer_batch_to_device, on_after_batch_transfer
    on_predict_batch_start, predict_step, on_predict_batch_end
on_predict_epoch_end, on_predict_end       # then train/eval modes are restored directly
"""

import warnings

import torch

from .data import (
    DataSource,
    check_iterable,
    flatten_loaders,
    loader_length,
    move_data_to_device,
    parse_num_batches,
    release_workers,
)
from .evaluation_loop import (
    batch_hook_args,
    capture_train_modes,
    no_grad_context,
    restore_train_modes,
    step_args,
    verify_dataloader_idx,
)
from .fetching import Fetcher, SequentialLoaders

__all__ = ["PredictionLoop"]


class PredictionLoop:
    """Runs ``predict_step`` over the predict dataloaders; collects the predictions on the CPU."""

    def __init__(self, trainer, inference_mode):
        self.trainer, self.inference_mode = trainer, inference_mode
        self.source = DataSource(None, "predict_dataloader")
        # the dataloaders as the source gave them, and flattened into a list
        self.dataloaders, self.loaders = None, None
        self.max_batches = []
        self.return_predictions = True

    def reset_data(self):
        self.dataloaders, self.loaders = None, None

    def run(self):
        """Predict; return a list of predictions (a list of such lists with several dataloaders)."""
        with no_grad_context(self.inference_mode):
            self.setup_data()
            if sum(self.max_batches) == 0:
                return None
            trainer, module = self.trainer, self.trainer.lightning_module
            total = sum(self.max_batches)
            fetcher = Fetcher(SequentialLoaders(self.loaders, self.max_batches), total)
            self._verify_dataloader_idx()
            modes = capture_train_modes(module)
            trainer._call_module("on_predict_model_eval")
            trainer._call("on_predict_start")
            trainer._call("on_predict_epoch_start")
            predictions = self._run_batches(fetcher)
            trainer._call("on_predict_epoch_end")
            trainer._call("on_predict_end")
            restore_train_modes(module, modes)  # Lightning 2.6 has no on_predict_model_train hook
            return predictions

    def _run_batches(self, fetcher):
        predictions = [[] for _ in self.loaders]
        for batch, batch_idx, dataloader_idx in fetcher:
            prediction = self._predict_step(batch, batch_idx, dataloader_idx)
            if self.return_predictions:
                on_cpu = move_data_to_device(prediction, torch.device("cpu"))
                predictions[dataloader_idx].append(on_cpu)
        if not self.return_predictions:
            return None
        return predictions[0] if len(self.loaders) == 1 else predictions

    def _verify_dataloader_idx(self):
        module, several = self.trainer.lightning_module, len(self.loaders) > 1
        verify_dataloader_idx(module, ("predict_step",), several, "predict")
        hooks = ("on_predict_batch_start", "on_predict_batch_end")
        verify_dataloader_idx(module, hooks, several, "predict")

    def _predict_step(self, batch, batch_idx, dataloader_idx):
        trainer = self.trainer
        batch = trainer._transfer_batch(batch, dataloader_idx)
        hook_args = batch_hook_args(batch, batch_idx, dataloader_idx, len(self.loaders))
        trainer._call("on_predict_batch_start", *hook_args)
        args = step_args(trainer.lightning_module.predict_step, hook_args)
        prediction = trainer._call_module("predict_step", *args)
        if prediction is None:
            warnings.warn(
                "predict returned None if it was on purpose, ignore this warning...", stacklevel=2
            )
        trainer._call("on_predict_batch_end", prediction, *hook_args)
        return prediction

    def setup_data(self):
        trainer = self.trainer
        self.max_batches = []
        if trainer.limit_predict_batches == 0:  # predict_step has a default, so it is not checked
            return
        # Note: Lightning rebuilds each DataLoader around an index-tracking batch sampler for
        # prediction writers; the reference iterates the loaders as given.
        self.dataloaders = self.source.request()
        loaders = flatten_loaders(self.dataloaders, allow_collection=True)
        for loader in loaders:
            check_iterable(loader, self.source, "predict")
        self.loaders = loaders
        limit = trainer.limit_predict_batches
        self.max_batches = [
            parse_num_batches("predict", loader_length(dl), limit) for dl in loaders
        ]

    def teardown(self):
        for loader in self.loaders or []:
            release_workers(loader)
