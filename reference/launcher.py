"""``strategy="ddp_fork"``: the Trainer forks one process per device and fits in each.

Lightning's multiprocessing launcher with the "fork" start method, small::

    launching process: MASTER_ADDR/MASTER_PORT, fork ranks 0..N-1, wait for rank 0's results
    each rank:         become DDP rank r, run the whole fit (every hook), leave the group
    rank 0:            send back its weights, callback_metrics, best checkpoint path, state
    launching process: load rank 0's weights (strict=False) and metrics; nothing else

Loop progress is not sent back: the launching trainer's global_step stays 0, as in Lightning.
"""

import io
import os
import queue as queues
import socket

import torch
import torch.distributed as dist

from .distributed import DDPStrategy
from .errors import unsupported
from .rank_zero import rank_zero_only

__all__ = ["ForkDDPStrategy"]

_POLL_SECONDS = 0.2


class ForkDDPStrategy(DDPStrategy):
    """DDP whose ranks the Trainer forks itself; until then it is the launching process."""

    def __init__(self, devices, num_nodes, find_unused_parameters=False):
        if num_nodes != 1:
            raise unsupported(f"`Trainer(strategy='ddp_fork', num_nodes={num_nodes})`",
                              "forked ranks live on one node")
        # until the fork, this process stands where rank 0 will
        self._place(devices, 1, find_unused_parameters, 0, 0, 0, devices)

    def launch(self, trainer, function, *args):
        """Run ``function(*args)`` on every forked rank; take rank 0's results back."""
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(_free_port()))
        context = torch.multiprocessing.get_context("fork")
        results = context.Queue()
        ranks = [context.Process(target=self._run_rank,
                                 args=(rank, trainer, results, function, args))
                 for rank in range(self.world_size)]
        for process in ranks:
            process.start()
        received = _wait_for_rank_zero(results, ranks)
        for process in ranks:
            process.join()
        failed = {rank: p.exitcode for rank, p in enumerate(ranks) if p.exitcode != 0}
        if failed or received is None:
            raise RuntimeError(f"ddp_fork: ranks exited with {failed or 'no results'}")
        _recover_results(trainer, torch.load(io.BytesIO(received), weights_only=True))

    def _run_rank(self, rank, trainer, results, function, args):
        self.local_rank = self.global_rank = rank
        rank_zero_only.rank = rank
        function(*args)
        if rank == 0:  # as bytes: shared-memory tensors would die with this process
            buffer = io.BytesIO()
            torch.save(_rank_zero_results(trainer), buffer)
            results.put(buffer.getvalue())
        if dist.is_initialized():
            dist.destroy_process_group()  # a clean exit (gloo may abort at shutdown otherwise)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_rank_zero(results, ranks):
    """Rank 0's results, or None as soon as a rank died without them (no endless wait)."""
    while True:
        try:
            return results.get(timeout=_POLL_SECONDS)
        except queues.Empty:
            if any(p.exitcode not in (None, 0) for p in ranks) or not ranks[0].is_alive():
                try:
                    return results.get(timeout=_POLL_SECONDS)
                except queues.Empty:
                    return None


def _rank_zero_results(trainer) -> dict:
    callback = trainer.checkpoint_callback
    return {
        "state_dict": {k: v.cpu() for k, v in trainer.lightning_module.state_dict().items()},
        "callback_metrics": {k: v.cpu() if isinstance(v, torch.Tensor) else v
                             for k, v in trainer.callback_metrics.items()},
        "best_model_path": getattr(callback, "best_model_path", None) or "",
        "status": str(trainer.state.status),
    }


def _recover_results(trainer, results) -> None:
    trainer.lightning_module.load_state_dict(results["state_dict"], strict=False)
    trainer._logger_connector._callback_metrics.update(results["callback_metrics"])
    callback = trainer.checkpoint_callback
    if callback is not None and results["best_model_path"]:
        callback.best_model_path = results["best_model_path"]
    trainer.state.status = results["status"]
