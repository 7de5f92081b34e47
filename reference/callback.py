"""The Callback base class: every hook of ``lightning.pytorch.Callback`` 2.6, each a no-op."""

__all__ = ["Callback"]


class Callback:
    """Base class for callbacks; the Trainer calls each hook with ``(trainer, pl_module, ...)``."""

    @property
    def state_key(self):
        """Key under which this callback's state is stored in ``checkpoint["callbacks"]``."""
        return self.__class__.__qualname__

    def _generate_state_key(self, **kwargs):
        """A state key made of the class name and ``kwargs`` (for callbacks used several times)."""
        return f"{self.__class__.__qualname__}{kwargs!r}"

    def setup(self, trainer, pl_module, stage):
        """Called when fit, validate, test or predict begins."""

    def teardown(self, trainer, pl_module, stage):
        """Called when fit, validate, test or predict ends."""

    def on_fit_start(self, trainer, pl_module):
        """Called when fit begins."""

    def on_fit_end(self, trainer, pl_module):
        """Called when fit ends."""

    def on_sanity_check_start(self, trainer, pl_module):
        """Called when the validation sanity check starts."""

    def on_sanity_check_end(self, trainer, pl_module):
        """Called when the validation sanity check ends."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        """Called when the train batch begins (its return value is ignored)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        """Called when the train batch ends."""

    def on_train_epoch_start(self, trainer, pl_module):
        """Called when the train epoch begins."""

    def on_train_epoch_end(self, trainer, pl_module):
        """Called when the train epoch ends."""

    def on_validation_epoch_start(self, trainer, pl_module):
        """Called when the val epoch begins."""

    def on_validation_epoch_end(self, trainer, pl_module):
        """Called when the val epoch ends."""

    def on_test_epoch_start(self, trainer, pl_module):
        """Called when the test epoch begins."""

    def on_test_epoch_end(self, trainer, pl_module):
        """Called when the test epoch ends."""

    def on_predict_epoch_start(self, trainer, pl_module):
        """Called when the predict epoch begins."""

    def on_predict_epoch_end(self, trainer, pl_module):
        """Called when the predict epoch ends."""

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        """Called when the validation batch begins."""

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ):
        """Called when the validation batch ends."""

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        """Called when the test batch begins."""

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        """Called when the test batch ends."""

    def on_predict_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        """Called when the predict batch begins."""

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        """Called when the predict batch ends."""

    def on_train_start(self, trainer, pl_module):
        """Called when the train begins."""

    def on_train_end(self, trainer, pl_module):
        """Called when the train ends."""

    def on_validation_start(self, trainer, pl_module):
        """Called when the validation loop begins."""

    def on_validation_end(self, trainer, pl_module):
        """Called when the validation loop ends."""

    def on_test_start(self, trainer, pl_module):
        """Called when the test begins."""

    def on_test_end(self, trainer, pl_module):
        """Called when the test ends."""

    def on_predict_start(self, trainer, pl_module):
        """Called when the predict begins."""

    def on_predict_end(self, trainer, pl_module):
        """Called when predict ends."""

    def on_exception(self, trainer, pl_module, exception):
        """Called when any trainer execution is interrupted by an exception."""

    def state_dict(self):
        """The callback's state to save in checkpoints; empty by default (then nothing is saved)."""
        return {}

    def load_state_dict(self, state_dict):
        """Reload the callback's state from ``state_dict``."""

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        """Called when saving a checkpoint, after every callback's ``state_dict``."""

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        """Called when loading a checkpoint."""

    def on_before_backward(self, trainer, pl_module, loss):
        """Called before ``loss.backward()``."""

    def on_after_backward(self, trainer, pl_module):
        """Called after ``loss.backward()`` and before optimizers are stepped."""

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        """Called before ``optimizer.step()`` updates the parameters (after the closure ran)."""

    def on_before_zero_grad(self, trainer, pl_module, optimizer):
        """Called before ``optimizer.zero_grad()``."""
