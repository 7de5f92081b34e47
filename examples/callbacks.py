"""A custom Callback beside Lightning's ModelCheckpoint and EarlyStopping.

``MetricHistory`` is the kind of callback the tutorials teach: it reads
``trainer.callback_metrics`` at the end of every validation epoch and keeps the values of
one metric. Its ``state_dict`` puts that history in every checkpoint, so a resumed run
goes on with it. ``main()`` trains a small classifier with three callbacks:
``ModelCheckpoint`` keeps the two best checkpoints by ``val_loss`` and the last one,
``EarlyStopping`` stops once ``val_loss`` no longer improves, ``MetricHistory`` records it.

    python examples/callbacks.py
    lightning-conformance check examples/callbacks.py:Classifier
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from _data import IMAGE_SHAPE, NUM_CLASSES, loader
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import nn

__all__ = ["Classifier", "MetricHistory", "main"]


class MetricHistory(pl.Callback):
    """Records ``monitor`` from ``trainer.callback_metrics`` after each validation epoch."""

    def __init__(self, monitor: str = "val_loss"):
        self.monitor = monitor
        self.history: list[float] = []

    def on_validation_epoch_end(self, trainer, pl_module):
        # The sanity check runs a little validation before training: not an epoch result.
        if not trainer.sanity_checking and self.monitor in trainer.callback_metrics:
            self.history.append(trainer.callback_metrics[self.monitor].item())

    def state_dict(self):
        return {"monitor": self.monitor, "history": list(self.history)}

    def load_state_dict(self, state_dict):
        self.history = list(state_dict["history"])


class Classifier(pl.LightningModule):
    """A two-layer perceptron on flattened images (about 25k parameters)."""

    def __init__(self, hidden: int = 32, lr: float = 1e-2, batch_size: int = 32):
        super().__init__()
        self.save_hyperparameters()
        self.model = nn.Sequential(
            nn.Flatten(), nn.Linear(IMAGE_SHAPE[1] * IMAGE_SHAPE[2], hidden), nn.ReLU(),
            nn.Linear(hidden, NUM_CLASSES),
        )

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y), prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        return loader("train", self.hparams.batch_size)

    def val_dataloader(self):
        return loader("val", self.hparams.batch_size)


def main(**trainer_kwargs):
    """Train until EarlyStopping stops (at most 30 epochs); ``trainer_kwargs`` override."""
    pl.seed_everything(0)
    history = MetricHistory("val_loss")
    checkpoint = ModelCheckpoint(monitor="val_loss", mode="min", save_top_k=2, save_last=True,
                                 filename="{epoch}-{val_loss:.3f}")
    early_stopping = EarlyStopping(monitor="val_loss", mode="min", patience=2, min_delta=0.02)
    trainer = pl.Trainer(**({"max_epochs": 30, "callbacks": [history, checkpoint, early_stopping]}
                            | trainer_kwargs))
    trainer.fit(Classifier())
    print(f"val_loss per epoch: {[round(value, 4) for value in history.history]}")
    print(f"best checkpoint: {checkpoint.best_model_path} (val_loss {checkpoint.best_model_score})")
    return trainer


if __name__ == "__main__":
    main()
