"""The hooks a LightningModule (and, for data hooks, a LightningDataModule) may override.

Same names, signatures and default behaviour as ``lightning.pytorch.core.hooks`` in Lightning 2.6.
"""

from .data import move_data_to_device
from .errors import MisconfigurationException

__all__ = ["CheckpointHooks", "DataHooks", "ModelHooks"]


class ModelHooks:
    """Hooks the Trainer calls on the LightningModule around fitting, evaluating and predicting."""

    def on_fit_start(self):
        """Called at the very beginning of fit."""

    def on_fit_end(self):
        """Called at the very end of fit."""

    def on_train_start(self):
        """Called at the beginning of training after the sanity check."""

    def on_train_end(self):
        """Called at the end of training before the logger experiment is closed."""

    def on_validation_start(self):
        """Called at the beginning of validation."""

    def on_validation_end(self):
        """Called at the end of validation."""

    def on_test_start(self):
        """Called at the beginning of testing."""

    def on_test_end(self):
        """Called at the end of testing."""

    def on_predict_start(self):
        """Called at the beginning of predicting."""

    def on_predict_end(self):
        """Called at the end of predicting."""

    def on_train_batch_start(self, batch, batch_idx):
        """Called before the training batch; returning -1 skips the rest of the current epoch."""

    def on_train_batch_end(self, outputs, batch, batch_idx):
        """Called after the training batch; ``outputs`` is the training_step output as a dict."""

    def on_validation_batch_start(self, batch, batch_idx, dataloader_idx=0):
        """Called before a validation batch."""

    def on_validation_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0):
        """Called after a validation batch."""

    def on_test_batch_start(self, batch, batch_idx, dataloader_idx=0):
        """Called before a test batch."""

    def on_test_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0):
        """Called after a test batch."""

    def on_predict_batch_start(self, batch, batch_idx, dataloader_idx=0):
        """Called before a predict batch."""

    def on_predict_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0):
        """Called after a predict batch."""

    def on_validation_model_zero_grad(self):
        """Called before in-fit validation: drops the gradients so they hold no memory meanwhile."""
        self.zero_grad()

    def on_validation_model_eval(self):
        """Called when the validation loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    def on_validation_model_train(self):
        """Called when the validation loop ends, only if overridden (else modes are restored)."""
        self.trainer.model.train()

    def on_test_model_eval(self):
        """Called when the test loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    def on_test_model_train(self):
        """Called when the test loop ends, only if overridden (else modes are restored)."""
        self.trainer.model.train()

    def on_predict_model_eval(self):
        """Called when the predict loop starts: puts the model in eval mode."""
        self.trainer.model.eval()

    # Note: Lightning 2.6 has no `on_predict_model_train` hook; the predict loop always restores the
    # captured train/eval modes directly, so the reference does not define one either.

    def on_train_epoch_start(self):
        """Called at the start of a training epoch."""

    def on_train_epoch_end(self):
        """Called at the end of a training epoch, after in-epoch validation."""

    def on_validation_epoch_start(self):
        """Called at the start of a validation epoch."""

    def on_validation_epoch_end(self):
        """Called at the end of a validation epoch."""

    def on_test_epoch_start(self):
        """Called at the start of a test epoch."""

    def on_test_epoch_end(self):
        """Called at the end of a test epoch."""

    def on_predict_epoch_start(self):
        """Called at the start of a predict epoch."""

    def on_predict_epoch_end(self):
        """Called at the end of a predict epoch."""

    def on_before_zero_grad(self, optimizer):
        """Called after training_step and before optimizer_zero_grad."""

    def on_before_backward(self, loss):
        """Called before ``loss.backward()``."""

    def on_after_backward(self):
        """Called after ``loss.backward()`` and before the optimizer step."""

    def on_before_optimizer_step(self, optimizer):
        """Called inside ``optimizer.step()``, after the closure and before gradient clipping."""

    def configure_model(self):
        """Create layers here to build them in the Trainer's environment (called if overridden)."""

    # Note: the deprecated `configure_sharded_model` hook is not part of the reference (see
    # KNOWN_GAPS.txt).


class DataHooks:
    """Hooks that provide and move data; shared by LightningModule and LightningDataModule."""

    def __init__(self):
        super().__init__()
        self.prepare_data_per_node = True
        self.allow_zero_length_dataloader_with_multiple_devices = False

    def prepare_data(self):
        """Download or write data once per node (called only if overridden)."""

    def setup(self, stage):
        """Called at the beginning of fit, validate, test or predict with that stage name."""

    def teardown(self, stage):
        """Called at the end of fit, validate, test or predict with that stage name."""

    def train_dataloader(self):
        """Return the training data."""
        raise MisconfigurationException(
            "`train_dataloader` must be implemented to be used with the Lightning Trainer"
        )

    def test_dataloader(self):
        """Return the test data."""
        raise MisconfigurationException(
            "`test_dataloader` must be implemented to be used with the Lightning Trainer"
        )

    def val_dataloader(self):
        """Return the validation data."""
        raise MisconfigurationException(
            "`val_dataloader` must be implemented to be used with the Lightning Trainer"
        )

    def predict_dataloader(self):
        """Return the prediction data."""
        raise MisconfigurationException(
            "`predict_dataloader` must be implemented to be used with the Lightning Trainer"
        )

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        """Move every tensor (or object with a ``to`` method) in ``batch`` to ``device``."""
        return move_data_to_device(batch, device)

    def on_before_batch_transfer(self, batch, dataloader_idx):
        """Alter the batch before it is moved to the device."""
        return batch

    def on_after_batch_transfer(self, batch, dataloader_idx):
        """Alter the batch after it was moved to the device."""
        return batch


class CheckpointHooks:
    """Hooks that see the checkpoint dictionary."""

    def on_load_checkpoint(self, checkpoint):
        """Called when a checkpoint is loaded, to restore what on_save_checkpoint added."""

    def on_save_checkpoint(self, checkpoint):
        """Called when a checkpoint is saved, to add anything else to the dictionary."""
