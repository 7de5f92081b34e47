"""An MNIST classifier, the first model of most Lightning tutorials.

Two convolutions, dropout and two linear layers ending in log-softmax, trained with the
negative log-likelihood; torchmetrics' Accuracy for train, validation and test; Adam with a
ReduceLROnPlateau that watches the ``val_loss`` logged by ``validation_step``. It is the
model of PyTorch's MNIST example made small (about 75k parameters) so that it trains in
seconds on MNIST-shaped synthetic data.

    python examples/mnist_classifier.py
    lightning-conformance check examples/mnist_classifier.py:MNISTClassifier
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from _data import NUM_CLASSES, loader
from torch import nn
from torchmetrics import Accuracy

__all__ = ["MNISTClassifier", "main"]


class MNISTClassifier(pl.LightningModule):
    def __init__(self, lr: float = 1e-3, hidden: int = 32, dropout: float = 0.25,
                 batch_size: int = 32):
        super().__init__()
        self.save_hyperparameters()  # load_from_checkpoint then needs no arguments
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3)
        self.dropout1 = nn.Dropout(dropout)
        self.fc1 = nn.Linear(16 * 12 * 12, hidden)
        self.dropout2 = nn.Dropout(2 * dropout)
        self.fc2 = nn.Linear(hidden, NUM_CLASSES)
        # One metric object per stage: each keeps its own running state.
        self.train_acc = Accuracy(task="multiclass", num_classes=NUM_CLASSES)
        self.val_acc = Accuracy(task="multiclass", num_classes=NUM_CLASSES)
        self.test_acc = Accuracy(task="multiclass", num_classes=NUM_CLASSES)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        log_probs = self(x)
        loss = F.nll_loss(log_probs, y)
        self.train_acc(log_probs, y)
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_acc", self.train_acc, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        log_probs = self(x)
        self.val_acc(log_probs, y)
        # sync_dist: with several processes every rank sees the same val_loss.
        self.log("val_loss", F.nll_loss(log_probs, y), prog_bar=True, sync_dist=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        log_probs = self(x)
        self.test_acc(log_probs, y)
        self.log("test_loss", F.nll_loss(log_probs, y), sync_dist=True)
        self.log("test_acc", self.test_acc)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}

    def train_dataloader(self):
        return loader("train", self.hparams.batch_size)

    def val_dataloader(self):
        return loader("val", self.hparams.batch_size)

    def test_dataloader(self):
        return loader("test", self.hparams.batch_size)


def main(**trainer_kwargs):
    """Train for two epochs, then test; ``trainer_kwargs`` override the Trainer settings."""
    pl.seed_everything(0)
    model = MNISTClassifier()
    trainer = pl.Trainer(**({"max_epochs": 2} | trainer_kwargs))
    trainer.fit(model)
    trainer.test(model)
    return trainer


if __name__ == "__main__":
    main()
