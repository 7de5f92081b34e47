"""Scenarios for the CKPT clauses: a module with hyperparameters, saving and reading checkpoints.

The module classes are built per target (``hparams_module_class(pl)``) with a real ``class``
statement: ``save_hyperparameters()`` finds the init arguments through ``super().__init__``'s
frame, which a class made with ``type()`` does not provide.
"""

from __future__ import annotations

import torch

from lightning_conformance.clauses._models import FEATURES, loader

__all__ = [
    "FIT",
    "Opaque",
    "epoch_checkpoints",
    "fit_and_save",
    "hparams_module_class",
    "read",
    "saving_callback",
    "stateful_datamodule_class",
]

# One short fit: 2 epochs of 2 batches, no validation: 4 optimizer steps.
FIT = {"max_epochs": 2, "limit_train_batches": 2, "limit_val_batches": 0}


class Opaque:
    """A hyperparameter value that is neither a tensor nor a primitive (needs full unpickling)."""

    def __init__(self, value: int = 1):
        self.value = value

    def __eq__(self, other):  # and, as for any class that defines only __eq__, unhashable
        return isinstance(other, Opaque) and other.value == self.value


def hparams_module_class(pl):
    """A BoringModel-style module whose init arguments ``lr`` and ``hidden`` are hyperparameters.

    SGD with momentum and StepLR(gamma=0.5): optimizer and scheduler both carry state.
    """

    class HparamsModule(pl.LightningModule):
        def __init__(self, lr=0.1, hidden=4, extra=None):
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(FEATURES, 2)

        def forward(self, x):
            return self.layer(x)

        def training_step(self, batch, batch_idx):
            return self.layer(batch).sum()

        def validation_step(self, batch, batch_idx):
            return {"x": self.layer(batch).sum()}

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
            return [optimizer], [scheduler]

        def train_dataloader(self):
            return loader(seed=1)

        def val_dataloader(self):
            return loader(seed=2)

    return HparamsModule


def read(path, weights_only: bool = False) -> dict:
    """The checkpoint file's dictionary, read with plain ``torch.load``."""
    return torch.load(path, map_location="cpu", weights_only=weights_only)


def saving_callback(pl, path, batch_idx: int, *, weights_only: bool = False):
    """A callback that writes ``path`` with ``trainer.save_checkpoint`` after batch ``batch_idx``
    of the first epoch (a mid-epoch checkpoint, without ModelCheckpoint's step trigger)."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, index):
        if index == batch_idx and trainer.current_epoch == 0:
            trainer.save_checkpoint(path, weights_only=weights_only)

    return type("SaveAtBatch", (pl.Callback,), {"on_train_batch_end": on_train_batch_end})()



def stateful_datamodule_class(pl):
    """A datamodule with hyperparameters and a non-empty ``state_dict`` (the train loader only)."""

    class StatefulDataModule(pl.LightningDataModule):
        def __init__(self, batches=2):
            super().__init__()
            self.save_hyperparameters()
            self.restored = None

        def train_dataloader(self):
            return loader(seed=1)

        def state_dict(self):
            return {"position": 7}

        def load_state_dict(self, state_dict):
            self.restored = state_dict

    return StatefulDataModule


def fit_and_save(target, module, path, **kwargs):
    """Fit ``module`` with ``FIT`` updated by ``kwargs``, then ``trainer.save_checkpoint(path)``."""
    run = target.fit(module, **(FIT | kwargs))
    run.trainer.save_checkpoint(str(path))
    return run


def epoch_checkpoints(target, module, **kwargs):
    """Fit with a ModelCheckpoint that keeps every epoch's file; return the run and its paths."""
    callback = target.checkpoint_callback(save_top_k=-1)
    settings = FIT | {"enable_checkpointing": True} | kwargs
    run = target.fit(module, callbacks=[callback], **settings)
    directory = target.root / "checkpoints"
    return run, sorted(str(path.name) for path in directory.iterdir())
