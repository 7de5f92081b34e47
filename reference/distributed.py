"""Distributed training on ``torch.distributed``: Lightning's DDP strategy, small.

The ranks are launched from outside, by ``torchrun`` or the kit's harness (one process per
device, with RANK, LOCAL_RANK, WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT in the
environment); the reference never re-launches a script. What the Trainer asks of a strategy::

    setup_environment()   before prepare_data: ranks, then the process group (once per process)
    setup(trainer)        after the module moved: fit wraps it in DistributedDataParallel, the
                          other stages copy rank 0's weights to every rank
    step(hook, *args)     a *_step method; fit's training_step runs inside the DDP wrapper, so
                          backward all-reduces (averages) the gradients
    teardown()            unwrap the module (the process group stays for the next Trainer)
    barrier, broadcast, reduce, all_gather: the collectives (no-ops on one process)

The data side (one DistributedSampler shard per rank) is ``distributed_data.py``.
"""

import os
from collections.abc import Mapping
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .errors import unsupported
from .rank_zero import rank_zero_only

__all__ = ["DDPStrategy", "Strategy", "gather_all", "parallel_strategy"]

# Lightning's default for init_process_group (torch's default process-group timeout)
PROCESS_GROUP_TIMEOUT = timedelta(minutes=30)
_DDP_NAMES = {"ddp": False, "ddp_find_unused_parameters_false": False,
              "ddp_find_unused_parameters_true": True}  # name -> find_unused_parameters


def parallel_strategy(strategy, devices, num_nodes):
    """DDP for the Trainer's arguments; None when they ask for one device (the default)."""
    devices = _device_count(devices)
    if not isinstance(num_nodes, int) or isinstance(num_nodes, bool) or num_nodes < 1:
        raise unsupported(f"`Trainer(num_nodes={num_nodes!r})`", "it takes a positive node count")
    if strategy == "auto" and devices * num_nodes == 1:
        return None
    if strategy == "ddp_fork":
        from .launcher import ForkDDPStrategy  # it builds on DDPStrategy

        return ForkDDPStrategy(devices, num_nodes)
    if strategy == "auto" or strategy in _DDP_NAMES:
        return DDPStrategy(devices, num_nodes, _DDP_NAMES.get(strategy, False))
    raise unsupported(f"`Trainer(strategy={strategy!r})`",
                      "its strategies are 'ddp' and 'ddp_fork'")


def _device_count(devices):
    if devices == "auto":
        return 1  # Note: Lightning's "auto" on CUDA takes every GPU; the reference takes one
    if isinstance(devices, str) and devices.strip().isdigit():
        devices = int(devices)
    if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
        raise unsupported(f"`Trainer(devices={devices!r})`", "it takes a positive device count")
    return devices


class Strategy:
    """One process: the module runs as it is and every collective returns its input."""

    is_distributed = False
    world_size = num_nodes = num_processes = 1
    global_rank = local_rank = node_rank = 0
    lightning_module = None
    _wrapped = None  # the DistributedDataParallel around the module during fit

    @property
    def model(self):
        """What the Trainer runs: the DDP wrapper during fit, else the LightningModule."""
        return self.lightning_module if self._wrapped is None else self._wrapped

    @property
    def is_global_zero(self):
        return self.global_rank == 0

    def setup_environment(self):
        pass

    def setup(self, trainer):
        pass

    def teardown(self):
        self._wrapped = None

    def step(self, hook, *args):
        return getattr(self.lightning_module, hook)(*args)

    def barrier(self, name=None):
        pass

    def broadcast(self, obj, src=0):
        return obj

    def reduce(self, tensor, group=None, reduce_op="mean"):
        return tensor

    def all_gather(self, tensor, group=None, sync_grads=False):
        return tensor


class DDPStrategy(Strategy):
    """Lightning's ``DDPStrategy`` on ranks launched from outside (``strategy="ddp"``)."""

    is_distributed = True

    def __init__(self, devices, num_nodes, find_unused_parameters=False):
        local_rank, node_rank, global_rank, world_size = _launched_ranks(devices, num_nodes)
        self._place(devices, num_nodes, find_unused_parameters,
                    local_rank, node_rank, global_rank, world_size)  # fmt: skip

    def _place(self, devices, num_nodes, find_unused_parameters,
               local_rank, node_rank, global_rank, world_size):  # fmt: skip
        """Where this process stands in the job (subclasses that launch pass rank 0's place)."""
        self.num_processes, self.num_nodes = devices, num_nodes
        self.find_unused_parameters = find_unused_parameters
        self.local_rank, self.node_rank, self.global_rank = local_rank, node_rank, global_rank
        self.world_size = world_size
        self._device_type = "cpu"
        rank_zero_only.rank = self.global_rank  # rank_zero_only/rank_zero_warn follow it

    # ---- placement ----

    @property
    def root_device(self):
        """This rank's device: the CPU, or the GPU of its local rank."""
        if self._device_type == "cuda":
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")

    @root_device.setter
    def root_device(self, device):
        self._device_type = torch.device(device).type  # set by precision.connect

    @property
    def process_group_backend(self):
        return "nccl" if self._device_type == "cuda" else "gloo"

    @property
    def distributed_sampler_kwargs(self):
        return {"num_replicas": self.world_size, "rank": self.global_rank}

    # ---- the run ----

    def setup_environment(self):
        """Join the process group (the first Trainer of the process creates it)."""
        rank_zero_only.rank = self.global_rank
        if not dist.is_initialized():
            dist.init_process_group(self.process_group_backend, init_method="env://",
                                    rank=self.global_rank, world_size=self.world_size,
                                    timeout=PROCESS_GROUP_TIMEOUT)  # fmt: skip

    def setup(self, trainer):
        module, fn = self.lightning_module, trainer.state.fn
        if fn == "predict":
            raise unsupported("`trainer.predict` on several ranks", "predict is one-process only")
        if fn != "fit":  # nothing to all-reduce: start every rank from rank 0's weights
            _sync_module_states(module)
            return
        if not module.automatic_optimization:
            raise unsupported("Manual optimization on several ranks", "DDP covers automatic only")
        device_ids = None if self._device_type == "cpu" else [self.root_device.index]
        self._wrapped = DistributedDataParallel(
            module, device_ids=device_ids, find_unused_parameters=self.find_unused_parameters
        )

    def step(self, hook, *args):
        if hook != "training_step" or self._wrapped is None:
            return super().step(hook, *args)
        return _through_wrapper(self._wrapped, self.lightning_module, hook, *args)

    # ---- collectives ----

    def barrier(self, name=None):
        if dist.is_initialized():
            dist.barrier()

    def broadcast(self, obj, src=0):
        """``obj`` as global rank ``src`` has it (any picklable object)."""
        if not dist.is_initialized():
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src)
        return box[0]

    def reduce(self, tensor, group=None, reduce_op="mean"):
        """All-reduce ``tensor`` in place: "mean" (or "avg"), "sum", "max" or "min"."""
        if not isinstance(tensor, torch.Tensor) or not dist.is_initialized():
            return tensor
        mean = reduce_op in ("mean", "avg")
        op = dist.ReduceOp.SUM if mean else getattr(dist.ReduceOp, reduce_op.upper())
        dist.all_reduce(tensor, op=op, group=group)
        if not mean:
            return tensor
        # gloo has no AVG: sum, then divide (an integer tensor keeps its dtype, as in Lightning)
        world_size = dist.get_world_size(group)
        if torch.is_floating_point(tensor):
            return tensor.div_(world_size)
        return tensor.copy_(tensor / world_size)

    def all_gather(self, tensor, group=None, sync_grads=False):
        """A (world_size, *shape) tensor of every rank's ``tensor``, in rank order."""
        if not dist.is_initialized():
            return tensor
        tensor = tensor.contiguous()
        if sync_grads:  # the autograd-aware collective lets gradients flow back to each rank
            from torch.distributed.nn.functional import all_gather as all_gather_with_grads

            gathered = all_gather_with_grads(tensor, group or dist.group.WORLD)
        else:
            gathered = [torch.zeros_like(tensor) for _ in range(dist.get_world_size(group))]
            dist.all_gather(gathered, tensor, group=group)
        return torch.stack(list(gathered))


def _launched_ranks(devices, num_nodes):
    """(local rank, node rank, global rank, world size) from the launcher's environment."""
    if "LOCAL_RANK" not in os.environ:
        raise unsupported(
            f"`Trainer(devices={devices}, num_nodes={num_nodes})` without launched ranks",
            "it does not re-launch scripts: start one process per device with torchrun (or the"
            " kit's harness, lightning_conformance.ddp.launch)",
        )
    local_rank = int(os.environ["LOCAL_RANK"])
    node_rank = int(os.environ.get("GROUP_RANK", os.environ.get("NODE_RANK", 0)))
    computed = node_rank * devices + local_rank  # Lightning's rule without RANK
    global_rank = int(os.environ.get("RANK", computed))
    world_size = int(os.environ.get("WORLD_SIZE", devices * num_nodes))
    _check_launch(devices, num_nodes, world_size)
    return local_rank, node_rank, global_rank, world_size


def _check_launch(devices, num_nodes, world_size):
    """The launched ranks must be the ones the Trainer's arguments describe."""
    if devices * num_nodes != world_size:
        raise ValueError(
            f"You set `devices={devices}` and `num_nodes={num_nodes}` in Lightning, but the product"
            f" ({devices} * {num_nodes}) does not match the world size ({world_size})."
        )
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", devices))
    if local_world_size != devices:
        # Note: Lightning does not check this; ranks on a node would be numbered wrongly
        raise ValueError(
            f"You set `devices={devices}` in Lightning, but {local_world_size} processes were"
            f" launched on this node (LOCAL_WORLD_SIZE={local_world_size})."
        )


def _sync_module_states(module):
    """Copy global rank 0's parameters and buffers to every rank (what DDP does when it wraps)."""
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor, src=0)


def _through_wrapper(wrapper, module, method_name, *args):
    """Run ``module.<method_name>(*args)`` as the wrapper's forward (Lightning's forward
    redirection): DDP then prepares the all-reduce of the gradients of what it returns."""
    own_forward = module.__dict__.get("forward")

    def restore_forward():
        if own_forward is None:
            module.__dict__.pop("forward", None)
        else:
            module.forward = own_forward

    def redirected(*inner_args):
        restore_forward()  # the step may call the real forward
        return getattr(module, method_name)(*inner_args)

    module.forward = redirected
    try:
        return wrapper(*args)
    finally:
        restore_forward()


def gather_all(strategy, data, device, group=None, sync_grads=False):
    """``LightningModule.all_gather``: every tensor and number of ``data`` gathered over ranks."""
    if isinstance(data, Mapping):
        return type(data)({key: gather_all(strategy, value, device, group, sync_grads)
                           for key, value in data.items()})  # fmt: skip
    if isinstance(data, (list, tuple)):
        gathered = [gather_all(strategy, value, device, group, sync_grads) for value in data]
        return type(data)(*gathered) if hasattr(data, "_fields") else type(data)(gathered)
    if isinstance(data, (int, float, bool)):
        data = torch.tensor(data, device=device)  # numbers become tensors, as in Lightning
    if isinstance(data, torch.Tensor):
        return strategy.all_gather(data, group=group, sync_grads=sync_grads)
    return data
