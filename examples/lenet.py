"""LeNet-5 on MNIST-shaped images, trained with CrossEntropyLoss.

LeCun's network as the tutorials write it: two 5x5 convolutions with average pooling,
then three linear layers (about 62k parameters). ``CrossEntropyLoss`` takes the raw
logits, so the network ends without a softmax. SGD with momentum and a StepLR that halves
the learning rate every epoch.

    python examples/lenet.py
    lightning-conformance check examples/lenet.py:LeNet
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from _data import NUM_CLASSES, loader
from torch import nn

__all__ = ["LeNet", "main"]


class LeNet(pl.LightningModule):
    def __init__(self, lr: float = 0.05, momentum: float = 0.9, batch_size: int = 32):
        super().__init__()
        self.save_hyperparameters()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Tanh(), nn.AvgPool2d(2),  # 6x14x14
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),  # 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, NUM_CLASSES),
        )
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.classifier(self.features(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self._evaluate(batch, "val")

    def test_step(self, batch, batch_idx):
        self._evaluate(batch, "test")

    def _evaluate(self, batch, stage):
        x, y = batch
        logits = self(x)
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        self.log(f"{stage}_loss", self.loss(logits, y), prog_bar=True, sync_dist=True)
        self.log(f"{stage}_acc", accuracy, prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr,
                                    momentum=self.hparams.momentum)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        return [optimizer], [scheduler]

    def train_dataloader(self):
        return loader("train", self.hparams.batch_size)

    def val_dataloader(self):
        return loader("val", self.hparams.batch_size)

    def test_dataloader(self):
        return loader("test", self.hparams.batch_size)


def main(**trainer_kwargs):
    """Train for three epochs, then test; ``trainer_kwargs`` override the Trainer settings."""
    pl.seed_everything(0)
    model = LeNet()
    trainer = pl.Trainer(**({"max_epochs": 3} | trainer_kwargs))
    trainer.fit(model)
    trainer.test(model)
    return trainer


if __name__ == "__main__":
    main()
