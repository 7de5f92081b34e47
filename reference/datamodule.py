"""LightningDataModule: the data hooks of a LightningModule, packaged on their own."""

from .hooks import DataHooks
from .hparams import HyperparametersMixin

__all__ = ["LightningDataModule"]


class LightningDataModule(HyperparametersMixin, DataHooks):
    """Shares ``prepare_data``, ``setup``, the ``*_dataloader`` hooks and the batch-transfer hooks.

    The Trainer calls a datamodule's ``prepare_data``, ``setup`` and ``teardown`` before the
    callbacks' and
    the module's, and uses its batch-transfer hooks instead of the module's when it overrides them.
    """

    name = None

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.trainer = None

    def state_dict(self):
        """State saved in checkpoints under the class's qualified name; empty means none."""
        return {}

    def load_state_dict(self, state_dict):
        """Reload the datamodule's state from ``state_dict``."""

    def on_exception(self, exception):
        """Called when the trainer execution is interrupted by an exception."""
