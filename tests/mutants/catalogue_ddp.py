"""Mutants for the DDP clauses (see ``tests/mutants/__init__.py`` for the rules).

Every mutant here keeps the ranks' collectives in step (the same all-reduces, broadcasts and
barriers in the same order on every rank): a mutant that made one rank wait for a collective
the other never calls would only show the harness's timeout, not the clause it breaks.
"""

from ._load import mutant as _m

__all__ = ["MUTANTS"]

MUTANTS = [
    # ---- ranks and the process group (properties.py, module.py, distributed.py) ----
    _m("ddp-num-nodes-is-devices", "DDP-001 DDP-009",
       "properties.py",
       "        return self.strategy.num_nodes",
       "        return self.strategy.num_processes"),
    _m("ddp-module-local-rank-is-node-rank", "DDP-002",
       "module.py",
       "        return self.trainer.local_rank if self._trainer else 0",
       "        return self.trainer.node_rank if self._trainer else 0"),
    _m("ddp-global-zero-on-one-process-only", "DDP-003",
       "properties.py",
       "        return self.strategy.is_global_zero",
       "        return self.strategy.world_size == 1"),
    _m("ddp-rank-zero-only-runs-everywhere", "DDP-004",
       "rank_zero.py",
       "        if rank_zero_only.rank == 0:\n            return fn(*args, **kwargs)",
       "        if True:\n            return fn(*args, **kwargs)"),
    _m("ddp-rank-zero-warn-everywhere", "DDP-005 DDP-032",
       "rank_zero.py",
       "    if rank_zero_only.rank == 0:\n        warnings.warn(",
       "    if True:\n        warnings.warn("),
    _m("ddp-device-scoped-backend", "DDP-006",
       "distributed.py",
       'return "nccl" if self._device_type == "cuda" else "gloo"',
       'return "nccl" if self._device_type == "cuda" else "cpu:gloo"'),
    _m("ddp-trainer-model-unwrapped", "DDP-007",
       "properties.py",
       "        return self.strategy.model",
       "        return self.strategy.lightning_module"),
    # ---- prepare_data (calls.py) ----
    _m("ddp-prepare-data-on-every-rank", "DDP-008 DDP-011",
       "calls.py",
       "        if node_zero if owner.prepare_data_per_node else global_zero:",
       "        if True:"),
    _m("ddp-prepare-data-per-node-swapped", "DDP-010 DDP-011",
       "calls.py",
       "        if node_zero if owner.prepare_data_per_node else global_zero:",
       "        if global_zero if owner.prepare_data_per_node else node_zero:"),
    _m("ddp-node-zero-is-global-zero", "DDP-010",
       "calls.py",
       "        node_zero = self.local_rank == 0",
       "        node_zero = self.global_rank == 0"),
    _m("ddp-global-zero-ignores-node", "DDP-011",
       "calls.py",
       "        global_zero = node_zero and self.node_rank == 0",
       "        global_zero = node_zero"),
    # ---- samplers (distributed_data.py, distributed.py, fit_loop.py, evaluation_loop.py) ----
    _m("ddp-train-shuffles-as-given", "DDP-012 DDP-015",
       "distributed_data.py",
       'shuffle = prefix == "train" or _is_shuffled(loader)',
       "shuffle = _is_shuffled(loader)"),
    _m("ddp-eval-shuffles", "DDP-013 DDP-018",
       "distributed_data.py",
       'shuffle = prefix == "train" or _is_shuffled(loader)',
       "shuffle = True"),
    _m("ddp-sampler-rank-zero-everywhere", "DDP-012 DDP-013 DDP-014 DDP-018",
       "distributed.py",
       '{"num_replicas": self.world_size, "rank": self.global_rank}',
       '{"num_replicas": self.world_size, "rank": 0}'),
    _m("ddp-no-set-epoch", "DDP-015",
       "fit_loop.py",
       "        set_sampler_epoch(self.loader, self.epochs_processed)\n",
       "\n"),
    _m("ddp-own-sampler-replaced", "DDP-016",
       "distributed_data.py",
       "        and not isinstance(loader.sampler, DistributedSampler)  # the user's own is kept\n",
       ""),
    _m("ddp-use-distributed-sampler-ignored", "DDP-017",
       "distributed_data.py",
       "        trainer.use_distributed_sampler\n        and ",
       "        "),
    _m("ddp-eval-loaders-not-sharded", "DDP-013 DDP-018 DDP-032",
       "evaluation_loop.py",
       "distributed_dataloaders(trainer, self.source.request(), self.prefix)",
       "self.source.request()"),
    _m("ddp-no-validate-warning", "DDP-032",
       "distributed_data.py",
       'if fn in ("validate", "test") and sampler.num_replicas > 1:',
       'if fn == "test" and sampler.num_replicas > 1:'),
    # ---- sync_dist (results.py, module_logging.py) ----
    _m("ddp-mean-averages-totals", "DDP-019",
       "results.py",
       'total = self._sync(self.total.clone(), "sum")',
       'total = self._sync(self.total.clone(), "mean")'),
    _m("ddp-epoch-reduce-always-sum", "DDP-019",
       "results.py",
       "self.computed = self._sync(self.total.clone(), self.meta.reduction)",
       'self.computed = self._sync(self.total.clone(), "sum")'),
    _m("ddp-step-values-not-synced", "DDP-020",
       "results.py",
       "            self._sync(self.step_value, self.meta.reduction)  # in place\n",
       ""),
    _m("ddp-every-value-synced", "DDP-021 DDP-022 DDP-033",
       "module_logging.py",
       "sync_dist=sync_dist and strategy.is_distributed,",
       "sync_dist=strategy.is_distributed,"),
    _m("ddp-no-sync-recommendation", "DDP-022",
       "results.py",
       "        unsynced = self.is_tensor and not self.meta.sync_dist",
       "        unsynced = False"),
    _m("ddp-synced-values-warn-too", "DDP-022",
       "results.py",
       "        unsynced = self.is_tensor and not self.meta.sync_dist",
       "        unsynced = self.is_tensor"),
    # ---- all_gather (distributed.py) ----
    _m("ddp-all-gather-local-only", "DDP-023",
       "distributed.py",
       "            dist.all_gather(gathered, tensor, group=group)",
       "            gathered = [tensor] * len(gathered)"),
    _m("ddp-all-gather-skips-numbers", "DDP-024",
       "distributed.py",
       "        data = torch.tensor(data, device=device)  # numbers become tensors, as in Lightning",
       "        return data"),
    # ---- gradients (distributed.py) ----
    _m("ddp-step-bypasses-wrapper", "DDP-025 DDP-026",
       "distributed.py",
       'if hook != "training_step" or self._wrapped is None:',
       "if True:"),
    # ---- checkpoints and loggers (checkpoint.py, model_checkpoint.py, logger_connector.py) ----
    _m("ddp-every-rank-writes", "DDP-027",
       "checkpoint.py",
       "    if trainer.strategy.is_global_zero:\n        _write(checkpoint, filepath)",
       "    if True:\n        _write(checkpoint, filepath)"),
    _m("ddp-rank-zero-dumps-only", "DDP-028",
       "checkpoint.py",
       "    checkpoint = dump_checkpoint(trainer, weights_only)\n"
       "    if trainer.strategy.is_global_zero:\n        _write(checkpoint, filepath)",
       "    if trainer.strategy.is_global_zero:\n"
       "        _write(dump_checkpoint(trainer, weights_only), filepath)"),
    _m("ddp-best-path-on-rank-zero-only", "DDP-029",
       "model_checkpoint.py",
       "        self.best_model_score = self.best_k_models[self.best_model_path]",
       "        self.best_model_score = self.best_k_models[self.best_model_path]\n"
       '        self.best_model_path = self.best_model_path if trainer.is_global_zero else ""'),
    _m("ddp-loggers-on-rank-zero-only", "DDP-030",
       "logger_connector.py",
       "        for logger in trainer.loggers:\n            logger.log_metrics(",
       "        for logger in trainer.loggers if trainer.is_global_zero else []:\n"
       "            logger.log_metrics("),
    # ---- stages (optimization.py) ----
    _m("ddp-none-step-allowed", "DDP-031",
       "optimization.py",
       "if output is None and trainer.world_size > 1:",
       "if output is None and trainer.world_size > 2:"),
    # ---- ddp_fork: what comes back to the launching process (launcher.py) ----
    _m("ddp-fork-sends-rank-one-results", "DDP-033",
       "launcher.py",
       "        if rank == 0:  # as bytes",
       "        if rank == 1:  # as bytes"),
    # the launching process becomes rank 0 itself (as Lightning's "ddp" launcher does), so
    # it keeps rank 0's loop progress
    _m("ddp-fork-launcher-is-rank-zero", "DDP-034",
       "launcher.py",
       """        for process in ranks:
            process.start()
        received = _wait_for_rank_zero(results, ranks)
        for process in ranks:
            process.join()
        failed = {rank: p.exitcode for rank, p in enumerate(ranks) if p.exitcode != 0}""",
       """        for process in ranks[1:]:
            process.start()
        self._run_rank(0, trainer, results, function, args)
        received = results.get()
        for process in ranks[1:]:
            process.join()
        failed = {rank: p.exitcode for rank, p in enumerate(ranks[1:], 1) if p.exitcode != 0}"""),
]
