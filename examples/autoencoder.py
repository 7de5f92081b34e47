"""An encoder/decoder autoencoder with its data in a LightningDataModule.

The autoencoder of Lightning's front page (an MLP encoder to a 3-number code and a decoder
back, about 53k parameters), trained to reconstruct its input with the mean squared error.
Its data lives in ``MNISTDataModule``: ``prepare_data`` is where a download would go,
``setup(stage)`` builds only the splits the stage needs, and the four dataloaders serve
them. ``predict_step`` returns the codes.

    python examples/autoencoder.py
    lightning-conformance check examples/autoencoder.py:LitAutoEncoder \\
        --datamodule examples/autoencoder.py:MNISTDataModule
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from _data import IMAGE_SHAPE, SIZES, loader, mnist_like
from torch import nn
from torch.utils.data import random_split

__all__ = ["LitAutoEncoder", "MNISTDataModule", "main"]

PIXELS = math.prod(IMAGE_SHAPE)


class LitAutoEncoder(pl.LightningModule):
    def __init__(self, hidden: int = 32, code_size: int = 3, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, code_size)
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, hidden), nn.ReLU(), nn.Linear(hidden, PIXELS)
        )

    def forward(self, x):
        return self.encoder(x)  # the code is what a trained autoencoder is used for

    def training_step(self, batch, batch_idx):
        loss = self._reconstruction_loss(batch)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._reconstruction_loss(batch), prog_bar=True, sync_dist=True)

    def test_step(self, batch, batch_idx):
        self.log("test_loss", self._reconstruction_loss(batch), sync_dist=True)

    def predict_step(self, batch, batch_idx):
        x, _ = batch
        return self(x)

    def _reconstruction_loss(self, batch):
        x, _ = batch  # the labels are not used
        x_hat = self.decoder(self.encoder(x)).view_as(x)
        return F.mse_loss(x_hat, x)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class MNISTDataModule(pl.LightningDataModule):
    def __init__(self, batch_size: int = 32, val_size: int = SIZES["val"]):
        super().__init__()
        self.save_hyperparameters()

    def prepare_data(self):
        # Runs once, on one process: download here (MNIST(root, download=True)), and never
        # assign state: other processes would not see it. The stand-in data needs nothing.
        pass

    def setup(self, stage):
        if stage in ("fit", "validate"):
            full = mnist_like("train", SIZES["train"] + self.hparams.val_size)
            self.train_set, self.val_set = random_split(
                full, [SIZES["train"], self.hparams.val_size],
                generator=torch.Generator().manual_seed(42),  # the same split on every rank
            )
        if stage == "test":
            self.test_set = mnist_like("test")
        if stage == "predict":
            self.predict_set = mnist_like("predict")

    def train_dataloader(self):
        return loader(self.train_set, self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return loader(self.val_set, self.hparams.batch_size)

    def test_dataloader(self):
        return loader(self.test_set, self.hparams.batch_size)

    def predict_dataloader(self):
        return loader(self.predict_set, self.hparams.batch_size)


def main(**trainer_kwargs):
    """Train, test, then encode the predict split; ``trainer_kwargs`` override the Trainer."""
    pl.seed_everything(0)
    model, data = LitAutoEncoder(), MNISTDataModule()
    trainer = pl.Trainer(**({"max_epochs": 3} | trainer_kwargs))
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data)
    codes = torch.cat(trainer.predict(model, datamodule=data))
    print(f"encoded {len(codes)} images into codes of shape {tuple(codes.shape[1:])}")
    return trainer


if __name__ == "__main__":
    main()
