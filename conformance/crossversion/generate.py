"""Checkpoints written by one release and read by another (the CKPT cross-version clauses).

``python -m lightning_conformance.crossversion generate [--target NAME] [--out DIR]`` trains a
tiny fixed module for one epoch on the target it runs under and writes
``<target>-<version>.ckpt`` (a few KB) and ``<target>-<version>.json``: what a loader must
find in it (a checksum of the weights, the hyperparameters, epoch, global_step and the
optimizer's lr).

This module must run under every writer, pytorch_lightning 1.9.5 included: it imports only
torch, the target's own namespace and the kit's neutral Trainer settings, and uses only Trainer
arguments that 1.9 has.
The files shipped in ``conformance/crossversion/data/checkpoints/`` were made this way.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
import tempfile
from pathlib import Path

from lightning_conformance.adapters.stage import NEUTRAL_SETTINGS

__all__ = [
    "DATA_DIR",
    "NAMESPACES",
    "expected",
    "generate",
    "shipped",
    "tiny_module_class",
    "weights_checksum",
]

DATA_DIR = Path(__file__).parent / "data" / "checkpoints"
# The namespace that provides LightningModule and Trainer for each target name.
NAMESPACES = {
    "reference": "reference",
    "lightning": "lightning.pytorch",
    "pytorch_lightning": "pytorch_lightning",
}
SEED = 7
HPARAMS = {"lr": 0.1, "width": 4}
# One epoch of 2 batches: epoch 0 finishes after global_step 2; StepLR halves the lr once.
WRITER_SETTINGS = {"max_epochs": 1, **NEUTRAL_SETTINGS}


def tiny_module_class(pl):
    """A Linear(width, 2) module with primitive hparams, SGD(momentum) and StepLR(gamma=0.5)."""
    import torch

    class TinyModule(pl.LightningModule):
        def __init__(self, lr=0.1, width=4):
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(width, 2)

        def training_step(self, batch, batch_idx):
            return (self.layer(batch) ** 2).sum()

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
            return [optimizer], [scheduler]

        def train_dataloader(self):
            data = torch.arange(16, dtype=torch.float32).reshape(4, 4) / 16  # fixed, no RNG
            return torch.utils.data.DataLoader(data, batch_size=2)

    return TinyModule


def weights_checksum(state_dict) -> str:
    """sha256 over the tensors' names, dtypes, shapes and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def _target_version(name: str, pl) -> str:
    if name == "reference":
        from lightning_conformance.adapters.base import kit_version

        return kit_version()  # the reference's version is the kit's (as in its adapter)
    distribution = importlib.import_module(name)
    return distribution.__version__


def generate(target: str, out: Path) -> Path:
    """Write ``<target>-<version>.ckpt`` and its ``.json`` sidecar into ``out``; return the ckpt."""
    import torch

    pl = importlib.import_module(NAMESPACES[target])
    stem = f"{target}-{_target_version(target, pl)}"
    torch.manual_seed(SEED)
    module = tiny_module_class(pl)(**HPARAMS)
    with tempfile.TemporaryDirectory() as root:
        trainer = pl.Trainer(default_root_dir=root, **WRITER_SETTINGS)
        trainer.fit(module)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.ckpt"
    trainer.save_checkpoint(str(path))
    sidecar = {
        "writer": target,
        "version": stem.split("-", 1)[1],
        "file": path.name,
        "hparams": HPARAMS,
        "epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        "lr": trainer.optimizers[0].param_groups[0]["lr"],
        "weights_sha256": weights_checksum(module.state_dict()),
    }
    (out / f"{stem}.json").write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    return path


def shipped(writer: str, version: str) -> Path:
    """The shipped checkpoint ``<writer>-<version>.ckpt`` (its sidecar lies beside it)."""
    return DATA_DIR / f"{writer}-{version}.ckpt"


def expected(checkpoint: Path) -> dict:
    """The sidecar of a generated checkpoint: what loading and resuming it must give."""
    return json.loads(checkpoint.with_suffix(".json").read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lightning_conformance.crossversion")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("generate", help="write <target>-<version>.ckpt and .json")
    command.add_argument("--target", choices=sorted(NAMESPACES), default="pytorch_lightning")
    command.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    print(generate(args.target, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
