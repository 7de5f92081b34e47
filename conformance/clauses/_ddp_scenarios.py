"""Distributed scenarios: what each rank runs and records (``lightning_conformance.ddp.worker``).

A scenario is a function of a ``RankContext``. It runs phases (one Trainer stage each, in
the same process group) and records plain JSON: ranks, samplers, batches, synced values,
gradients, parameters, the files each rank wrote. Clauses (``conformance/clauses/test_ddp_*.py``)
compare the records of all ranks. Many clauses share one launch, so a target pays for two
launches in the whole DDP area.

The datasets hold each item's index in feature 0, so a rank's batches name its shard.
"""

from __future__ import annotations

import json
import os
import sys

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from lightning_conformance.clauses._memory_logger import build_logger
from lightning_conformance.spec.contract import Contract

__all__ = ["TRAIN_ITEMS", "VAL_ITEMS", "forked", "two_devices", "two_nodes"]

TRAIN_ITEMS, VAL_ITEMS, BATCH_SIZE, FEATURES = 16, 8, 2, 32
SYNCED = ("mean", "sum", "max", "min")


class IndexedDataset(Dataset):
    """Seeded random items whose feature 0 is the item's index."""

    def __init__(self, length: int, seed: int):
        generator = torch.Generator().manual_seed(seed)
        self.data = torch.randn(length, FEATURES, generator=generator)
        self.data[:, 0] = torch.arange(length, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.data[index]


def _sampler_of(loader) -> dict | None:
    """Type and settings of a DataLoader's sampler (unwrapping Lightning 1.9's loaders)."""
    if isinstance(loader, (list, tuple)):
        loader = loader[0] if loader else None
    loader = getattr(loader, "loaders", loader)  # 1.9: a CombinedLoader around the loader
    sampler = getattr(loader, "sampler", None)
    if sampler is None:
        return None
    return {"type": type(sampler).__name__, "distributed": isinstance(sampler, DistributedSampler),
            "num_replicas": getattr(sampler, "num_replicas", None),
            "rank": getattr(sampler, "rank", None), "shuffle": getattr(sampler, "shuffle", None),
            "seed": getattr(sampler, "seed", None), "epoch": getattr(sampler, "epoch", None)}


def _flat(module) -> list[float]:
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()]).tolist()


def _ranks(trainer, module) -> dict:
    return {
        "trainer": {name: getattr(trainer, name) for name in
                    ("global_rank", "local_rank", "node_rank", "world_size", "num_nodes",
                     "is_global_zero")},
        "module": {"global_rank": module.global_rank, "local_rank": module.local_rank},
    }


def _module_class(pl, rec: dict, *, train_loader, use_none_step=False, prepare_once=False):
    """A BoringModel-like module that records what the contract says about every rank."""

    class DistributedModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(FEATURES, 2)
            if prepare_once:  # an instance attribute, set like the docs show
                self.prepare_data_per_node = False

        def prepare_data(self):
            rec["prepare_data"] = rec.get("prepare_data", 0) + 1

        def setup(self, stage):
            rec.setdefault("setup", []).append(str(stage))

        def on_fit_start(self):
            rec["ranks"] = _ranks(self.trainer, self)
            distributed = torch.distributed
            rec["backend"] = distributed.get_backend() if distributed.is_initialized() else None
            rec["rank_zero_only"] = pl.rank_zero_only(lambda: "ran")()
            pl.rank_zero_warn(f"rank_zero_warn from rank {self.global_rank}")

        def on_train_start(self):
            rec["model_type"] = type(self.trainer.model).__name__
            rec["train_sampler"] = _sampler_of(self.trainer.train_dataloader)
            rec["val_sampler"] = _sampler_of(self.trainer.val_dataloaders)

        def on_train_batch_start(self, batch, batch_idx):
            if batch_idx == 0:
                sampler = _sampler_of(self.trainer.train_dataloader)
                rec.setdefault("sampler_epochs", []).append(
                    [self.current_epoch, sampler["epoch"] if sampler else None])

        def training_step(self, batch, batch_idx):
            rec.setdefault("batches", {}).setdefault(str(self.current_epoch), []).extend(
                int(i) for i in batch[:, 0])
            if use_none_step:
                return None
            if self.global_step == 0:
                self._gather(rec)
            self._log_values(batch_idx)
            # d(sum of outputs)/d(weight row) is the sum of the batch: this rank's own gradient
            rec.setdefault("local_grads", []).append(batch.sum(0).tolist())
            return self.layer(batch).sum()

        def _gather(self, rec):
            tensor = self.all_gather(torch.tensor([float(self.global_rank)]))
            collection = self.all_gather({"t": torch.tensor(self.global_rank), "n": 3})
            rec["gathered"] = {"shape": list(tensor.shape), "values": tensor.tolist(),
                               "dict_shapes": {k: list(torch.as_tensor(v).shape)
                                               for k, v in collection.items()}}

        def _log_values(self, batch_idx):
            value = torch.tensor(float(self.global_rank + 1))
            for reduce_fx in SYNCED:
                self.log(f"sync_{reduce_fx}", value, on_step=False, on_epoch=True,
                         sync_dist=True, reduce_fx=reduce_fx)
            self.log("local_mean", value, on_step=False, on_epoch=True)
            self.log("step_sum", value + batch_idx, on_step=True, on_epoch=False,
                     sync_dist=True, reduce_fx="sum")

        def on_before_optimizer_step(self, optimizer, *optimizer_idx):  # 1.9 passes an index
            rec.setdefault("grads", []).append(self.layer.weight.grad[0].tolist())

        def on_train_batch_end(self, outputs, batch, batch_idx):
            rec.setdefault("params", []).append(_flat(self))

        def validation_step(self, batch, batch_idx):
            loss = self.layer(batch).sum()
            self.log("val_sync", loss, sync_dist=True)
            rec.setdefault("val_batches", []).extend(int(i) for i in batch[:, 0])

        def on_save_checkpoint(self, checkpoint):
            rec["saves"] = rec.get("saves", 0) + 1

        def configure_optimizers(self):
            return torch.optim.SGD(self.layer.parameters(), lr=0.01)

        def train_dataloader(self):
            return train_loader()

        def val_dataloader(self):
            return DataLoader(IndexedDataset(VAL_ITEMS, seed=2), batch_size=BATCH_SIZE)

    return DistributedModule


def _plain_loader():
    return DataLoader(IndexedDataset(TRAIN_ITEMS, seed=1), batch_size=BATCH_SIZE)


def _own_sampler_loader(ctx):
    def build():
        dataset = IndexedDataset(TRAIN_ITEMS, seed=1)
        sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank,
                                     shuffle=False, seed=11)
        return DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler)

    return build


class _Writes:
    """Files created or replaced under a directory, seen through Python's audit hooks."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.paths: list[str] = []
        sys.addaudithook(self._audit)

    def _audit(self, event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path, mode, flags = args[0], args[1], args[2]
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else \
                bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing:
                self._note(path)
        elif event in ("os.rename", "os.replace", "os.symlink") and len(args) > 1:
            self._note(args[1])  # Lightning 2.1 links last.ckpt to the top-k file

    def _note(self, path):
        path = os.path.realpath(os.fsdecode(path))
        if path.startswith(self.root + os.sep) and not path.endswith((".stderr", ".partial")):
            self.paths.append(os.path.relpath(path, self.root))

    def since(self, start: int) -> list[str]:
        return sorted(set(self.paths[start:]))


def _fit_phase(ctx, writes, module_class, trainer_overrides=None, *, checkpointing=False):
    def run(record):
        record.update(module_class.__record__)
        start = len(writes.paths)
        callbacks, logger = [], build_logger(ctx.pl)
        if checkpointing:
            callbacks.append(ctx.pl.ModelCheckpoint(dirpath=str(ctx.root / "checkpoints"),
                                                    monitor="val_sync", save_top_k=1,
                                                    save_last=True))
        settings = {"max_epochs": 2, "callbacks": callbacks, "logger": logger,
                    "num_sanity_val_steps": 0, "enable_checkpointing": checkpointing}
        trainer = ctx.pl.Trainer(**ctx.trainer_kwargs(**settings | (trainer_overrides or {})))
        module = module_class()
        trainer.fit(module)
        rec = module_class.__record__
        rec["callback_metrics"] = {k: float(v) for k, v in trainer.callback_metrics.items()}
        rec["logger_calls"] = len(logger.calls)
        rec["global_step"] = trainer.global_step
        if checkpointing:
            rec["checkpoint"] = _checkpoint_decisions(ctx, callbacks[0])
            trainer.save_checkpoint(str(ctx.root / "manual.ckpt"))  # every rank must call it
        rec["writes"] = writes.since(start)
        record.update(rec)

    return run


def _checkpoint_decisions(ctx, callback) -> dict:
    def relative(path):
        return os.path.relpath(path, ctx.root) if path else path

    score = callback.best_model_score
    return {"best_model_path": relative(callback.best_model_path),
            "last_model_path": relative(callback.last_model_path),
            "best_model_score": None if score is None else float(score)}


def _recording(pl, **kwargs):
    rec: dict = {}
    cls = _module_class(pl, rec, **kwargs)
    cls.__record__ = rec
    return cls


def two_devices(ctx) -> None:
    """One node, two processes: ranks, samplers, sync_dist, all_gather, gradients, files."""
    writes = _Writes(ctx.root)
    main = _recording(ctx.pl, train_loader=_plain_loader)
    ctx.phase("fit", _fit_phase(ctx, writes, main, checkpointing=True))
    own = _recording(ctx.pl, train_loader=_own_sampler_loader(ctx))
    ctx.phase("own_sampler", _fit_phase(ctx, writes, own, {"max_epochs": 1}))
    plain = _recording(ctx.pl, train_loader=_plain_loader)
    flag = "use_distributed_sampler" if Contract(ctx.adapter.contract).has(
        "use_distributed_sampler_flag") else "replace_sampler_ddp"
    ctx.phase("no_distributed_sampler", _fit_phase(ctx, writes, plain,
                                                   {"max_epochs": 1, flag: False}))
    ctx.phase("validate", _validate_phase(ctx))
    if ctx.adapter.contract.release >= (2, 3):  # DDP-031 holds from 2.3
        none = _recording(ctx.pl, train_loader=_plain_loader, use_none_step=True)
        ctx.phase("none_step", _fit_phase(ctx, writes, none, {"max_epochs": 1}))


def _validate_phase(ctx):
    def run(record):
        module_class = _recording(ctx.pl, train_loader=_plain_loader)
        trainer = ctx.pl.Trainer(**ctx.trainer_kwargs())
        trainer.validate(module_class())
        record.update(module_class.__record__)

    return run


def two_nodes(ctx) -> None:
    """Two simulated nodes of one process each: node ranks and prepare_data per node."""
    writes = _Writes(ctx.root)
    per_node = _recording(ctx.pl, train_loader=_plain_loader)
    ctx.phase("per_node", _fit_phase(ctx, writes, per_node, {"max_epochs": 1}))
    once = _recording(ctx.pl, train_loader=_plain_loader, prepare_once=True)
    ctx.phase("once", _fit_phase(ctx, writes, once, {"max_epochs": 1}))


def forked(ctx) -> None:
    """One launching process; the target forks two ranks itself (``strategy="ddp_fork"``).

    Each forked rank writes its final state to ``fork_rank<N>.json``; the launching process
    records what it holds after fit.
    """
    ctx.phase("fit", _forked_fit(ctx))


def _forked_fit(ctx):
    def final_state(trainer, module):
        state = {"params": _flat(module), "global_step": trainer.global_step,
                 "callback_metrics": {k: float(v) for k, v in trainer.callback_metrics.items()}}
        (ctx.root / f"fork_rank{trainer.global_rank}.json").write_text(json.dumps(state))

    def run(record):
        module_class = _recording(ctx.pl, train_loader=_plain_loader)
        reporter = type("FinalState", (ctx.pl.Callback,), {
            "on_train_end": lambda self, trainer, module: final_state(trainer, module)})()
        settings = ctx.adapter.trainer_settings(str(ctx.root / "run")) | {
            "strategy": "ddp_fork", "devices": 2, "max_epochs": 1, "callbacks": [reporter],
            "num_sanity_val_steps": 0}
        trainer = ctx.pl.Trainer(**settings)
        module = module_class()
        trainer.fit(module)
        record["main"] = {"params": _flat(module), "global_step": trainer.global_step,
                          "callback_metrics": {k: float(v)
                                               for k, v in trainer.callback_metrics.items()}}
        record["ranks"] = [json.loads((ctx.root / f"fork_rank{rank}.json").read_text())
                           for rank in range(2)]

    return run
