"""MNIST-shaped data for the examples: 1x28x28 float images in [0, 1] and labels 0-9.

The examples never download anything. By default the images are made on the spot from a
seeded generator, with a faint pattern per class so that a classifier has something to learn.
With the ``vision`` extra installed (torchvision), they come from torchvision's ``FakeData``
through ``transforms.ToTensor()``, the way the tutorials load ``MNIST``. Either way the
same split gives the same samples on every call.
"""

from __future__ import annotations

import importlib.util

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

__all__ = [
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "SIZES",
    "has_torchvision",
    "loader",
    "mnist_like",
    "synthetic_mnist",
]

IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10
SIZES = {"train": 256, "val": 64, "test": 64, "predict": 64}
_SEEDS = {"train": 0, "val": 1, "test": 2, "predict": 3}


def has_torchvision() -> bool:
    """Whether the ``vision`` extra is installed (checked without importing torchvision)."""
    return importlib.util.find_spec("torchvision") is not None


def mnist_like(split: str, size: int | None = None) -> Dataset:
    """The ``split`` ("train", "val", "test" or "predict") of the examples' MNIST stand-in."""
    size = SIZES[split] if size is None else size
    if has_torchvision():
        return _fake_data(size, seed=_SEEDS[split])
    return synthetic_mnist(size, seed=_SEEDS[split])


def loader(data: str | Dataset, batch_size: int = 32, **kwargs) -> DataLoader:
    """A DataLoader over a dataset or a split's ``mnist_like``; the "train" split is shuffled."""
    kwargs.setdefault("shuffle", data == "train")
    dataset = mnist_like(data) if isinstance(data, str) else data
    return DataLoader(dataset, batch_size=batch_size, **kwargs)


def synthetic_mnist(size: int, seed: int = 0) -> TensorDataset:
    """``size`` noisy images, each the fixed pattern of its label plus uniform noise."""
    generator = torch.Generator().manual_seed(seed)
    # The class patterns come from one fixed seed so that every split shares them.
    patterns = torch.rand((NUM_CLASSES, *IMAGE_SHAPE), generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, NUM_CLASSES, (size,), generator=generator)
    noise = torch.rand((size, *IMAGE_SHAPE), generator=generator)
    images = 0.5 * patterns[labels] + 0.5 * noise
    return TensorDataset(images, labels)


def _fake_data(size: int, seed: int) -> Dataset:
    # Imported here: the default install has no torchvision.
    from torchvision import datasets, transforms

    return datasets.FakeData(
        size=size,
        image_size=IMAGE_SHAPE,
        num_classes=NUM_CLASSES,
        transform=transforms.ToTensor(),
        random_offset=seed * 1_000_000,  # each split draws from its own range of seeds
    )
