"""A generative adversarial network trained with manual optimization.

The basic GAN of Lightning's tutorials, small (about 80k parameters): a generator maps
random codes to 1x28x28 images, a discriminator scores images as real or generated. Each
batch steps two optimizers in turn, so the module sets ``automatic_optimization = False``
and does the work itself: ``self.optimizers()``, ``toggle_optimizer`` (only the stepped
network's parameters take gradients), ``self.manual_backward``, ``step``, ``zero_grad`` and
``untoggle_optimizer``.

    python examples/gan.py
    lightning-conformance check examples/gan.py:GAN
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from _data import IMAGE_SHAPE, loader
from torch import nn

__all__ = ["GAN", "Discriminator", "Generator", "main"]


class Generator(nn.Module):
    def __init__(self, latent_dim: int, hidden: int):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, math.prod(IMAGE_SHAPE)), nn.Tanh(),
        )

    def forward(self, z):
        return self.model(z).view(len(z), *IMAGE_SHAPE)


class Discriminator(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.model = nn.Sequential(
            nn.Flatten(), nn.Linear(math.prod(IMAGE_SHAPE), hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, images):
        return self.model(images)  # a logit: real if positive


class GAN(pl.LightningModule):
    def __init__(self, latent_dim: int = 16, hidden: int = 48, lr: float = 2e-4,
                 b1: float = 0.5, b2: float = 0.999, batch_size: int = 32):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = Generator(latent_dim, hidden)
        self.discriminator = Discriminator(hidden)

    def forward(self, z):
        return self.generator(z)

    def training_step(self, batch, batch_idx):
        real, _ = batch
        real = real * 2 - 1  # [0, 1] -> [-1, 1], the generator's Tanh range
        opt_g, opt_d = self.optimizers()
        z = torch.randn(len(real), self.hparams.latent_dim, device=self.device)
        ones = torch.ones(len(real), 1, device=self.device)
        zeros = torch.zeros(len(real), 1, device=self.device)

        # The generator learns to make the discriminator call its images real.
        self.toggle_optimizer(opt_g)
        fake = self(z)
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), ones)
        self.manual_backward(g_loss)
        opt_g.step()
        opt_g.zero_grad()
        self.untoggle_optimizer(opt_g)

        # The discriminator learns to tell real images from (detached) generated ones.
        self.toggle_optimizer(opt_d)
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(real), ones)
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), zeros)
        d_loss = (real_loss + fake_loss) / 2
        self.manual_backward(d_loss)
        opt_d.step()
        opt_d.zero_grad()
        self.untoggle_optimizer(opt_d)

        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def configure_optimizers(self):
        betas = (self.hparams.b1, self.hparams.b2)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr, betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr, betas=betas)
        return [opt_g, opt_d]

    def train_dataloader(self):
        return loader("train", self.hparams.batch_size)


def main(**trainer_kwargs):
    """Train for three epochs, then sample images; ``trainer_kwargs`` override the Trainer."""
    pl.seed_everything(0)
    model = GAN()
    trainer = pl.Trainer(**({"max_epochs": 3} | trainer_kwargs))
    trainer.fit(model)
    with torch.no_grad():
        samples = model(torch.randn(4, model.hparams.latent_dim, device=model.device))
    print(f"generated {len(samples)} images of shape {tuple(samples.shape[1:])}")
    return trainer


if __name__ == "__main__":
    main()
