"""The known-good module the MOD clauses check, built on any target's namespace.

It has what the checks look at: hyperparameters, dropout (randomness), batch norm (buffers),
validation/test/predict steps, logged metrics, and a ReduceLROnPlateau and a ModelCheckpoint
monitoring one of them.
Each class is published under a module-level name, so that it pickles like a user's class.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from lightning_conformance.checks._base import Check, CheckResult
from lightning_conformance.clauses._models import FEATURES, loader

if TYPE_CHECKING:
    from lightning_conformance.adapters import Target
    from lightning_conformance.checks._context import Context
    from lightning_conformance.session.harness import Harness

__all__ = ["good_module_class", "run_clause_check"]


def _name(kind: str, pl) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9]', '_', pl.LightningModule.__module__)}"


def _published(cls, kind: str, pl):
    cls.__name__ = cls.__qualname__ = _name(kind, pl)
    cls.__module__ = __name__
    globals()[cls.__name__] = cls
    return cls


def _known(kind: str, pl):
    known = globals().get(_name(kind, pl))
    return known if known is not None and issubclass(known, pl.LightningModule) else None


def good_module_class(pl, manual: bool = False):
    """A small module that passes every check on the namespace ``pl`` (``manual``: in manual
    optimization, with two optimizers)."""
    if manual:
        return _known("GoodManualModule", pl) or _manual_class(pl)
    known = _known("GoodModule", pl)
    if known is not None:
        return known

    class GoodModule(pl.LightningModule):
        def __init__(self, lr: float = 0.1, hidden: int = 8):
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(FEATURES, hidden), torch.nn.ReLU(),
                torch.nn.BatchNorm1d(hidden), torch.nn.Dropout(0.2), torch.nn.Linear(hidden, 2))

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            loss = self(batch).pow(2).mean()
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self(batch).pow(2).mean(), sync_dist=True)

        def test_step(self, batch, batch_idx):
            self.log("test_loss", self(batch).pow(2).mean(), sync_dist=True)

        def configure_callbacks(self):
            return [pl.ModelCheckpoint(monitor="val_loss")]

        def predict_step(self, batch, batch_idx):
            return self(batch)

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
            return {"optimizer": optimizer,
                    "lr_scheduler": {"scheduler": plateau, "monitor": "val_loss"}}

        def train_dataloader(self):
            return torch.utils.data.DataLoader(loader(seed=1).dataset, batch_size=4,
                                               shuffle=True)

        def val_dataloader(self):
            return loader(seed=2)

        def test_dataloader(self):
            return loader(seed=3)

        def predict_dataloader(self):
            return loader(seed=4)

    return _published(GoodModule, "GoodModule", pl)


def _manual_class(pl):
    base = good_module_class(pl)

    class GoodManualModule(base):
        """Two optimizers, one per layer group, both stepped in every training step."""

        def __init__(self, lr: float = 0.1, hidden: int = 8):
            super().__init__(lr, hidden)
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            for optimizer in self.optimizers():
                optimizer.zero_grad()
                loss = self(batch).pow(2).mean()
                self.manual_backward(loss)
                optimizer.step()
            self.log("train_loss", loss)

        def configure_optimizers(self):
            first, second = self.net[:3], self.net[3:]
            return [torch.optim.SGD(first.parameters(), lr=self.hparams.lr),
                    torch.optim.SGD(second.parameters(), lr=self.hparams.lr)]

    return _published(GoodManualModule, "GoodManualModule", pl)


_CONTEXTS: dict[tuple[int, bool, int, str], Context] = {}


def _context(target: Target, manual: bool, ddp: int, device: str) -> Context:
    """One check context per target and setting for the whole session: the MOD clauses of a
    target share its runs (a few fits), as the checks of one ``check_module`` call do."""
    from lightning_conformance.checks._context import Context

    key = (id(target), manual, ddp, device)
    if key not in _CONTEXTS:
        root = Path(tempfile.mkdtemp(prefix="lck-mod-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _CONTEXTS[key] = Context(good_module_class(target.pl, manual=manual), target=target,
                                 ddp=ddp, device=device, root=root)
    return _CONTEXTS[key]


def __getattr__(name: str):
    # A process that unpickles a module (a DDP rank) rebuilds the published class by its name.
    # The rank has loaded its target already (a mutant too): look there first.
    if not name.startswith(("GoodModule_", "GoodManualModule_")):
        # e.g. ``__path__``, which every ``from ..._module_checks import ...`` asks for:
        # answering it must not import every installed Lightning (seconds per process)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from lightning_conformance.adapters import LOADED, TargetError, installed_targets, load_target

    def namespaces():
        yield from (target.pl for target in list(LOADED.values()))
        for spec in installed_targets():
            try:
                yield load_target(spec).pl
            except TargetError:
                continue

    for pl in namespaces():
        for kind in ("GoodModule", "GoodManualModule"):
            if _name(kind, pl) == name:
                return good_module_class(pl, manual=kind == "GoodManualModule")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_clause_check(harness: Harness, check: Check) -> CheckResult:
    """The result of ``check`` on the known-good module of the clause's target, run as the check
    needs: in manual optimization, on two processes, or on CUDA."""
    from lightning_conformance.checks._engine import evaluate

    manual = "manual" in check.needs
    ddp = 2 if "ddp" in check.needs else 0
    device = "cuda" if "cuda" in check.needs else "cpu"
    return evaluate(_context(harness.adapter, manual, ddp, device), check)
