"""Connecting a module and its data to the Trainer at the start of each entry point."""

from .data import DataSource
from .datamodule import LightningDataModule
from .module import LightningModule

__all__ = ["DataConnection", "checked_module"]


def checked_module(model):
    """Return ``model`` if it is a LightningModule of this package, else raise TypeError."""
    if not isinstance(model, LightningModule):
        raise TypeError(f"`model` must be a `LightningModule`, got `{type(model).__qualname__}`")
    return model


class DataConnection:
    """Data-attachment helpers mixed into ``Trainer``."""

    def _select_model(self, fn, model):
        if model is not None:
            return checked_module(model)
        if self.lightning_module is None:
            raise TypeError(
                f"`Trainer.{fn}()` requires a `LightningModule` when it hasn't been passed in a"
                " previous run"
            )
        # the connected model runs, with the best checkpoint of the previous fit (restore.py)
        return self.lightning_module

    def _attach_data(self, model, datamodule, train=None, val=None, test=None, predict=None):
        """Point every loop at its data: the dataloaders passed, or the (data)module's hooks."""
        if datamodule is not None:
            owner, parent = datamodule, LightningDataModule
        else:
            owner, parent = model, LightningModule
        fit_loops = (self.fit_loop, self.fit_loop.val_loop)
        loops = (*fit_loops, self.validate_loop, self.test_loop, self.predict_loop)
        for loop, given in zip(loops, (train, val, val, test, predict), strict=True):
            name = loop.source.hook_name
            use_given = given is not None and datamodule is None
            loop.source = DataSource(given, name) if use_given else DataSource(owner, name, parent)
            loop.reset_data()
        self._datahook_datamodule = datamodule
        if datamodule is not None:
            # like Lightning, a datamodule from an earlier call stays attached when none is passed
            self.datamodule, datamodule.trainer = datamodule, self
        model.trainer = self
