"""DEV: CUDA placement and "16-mixed" with its GradScaler; DDP's device choice on GPUs.

Every clause here needs a CUDA device and skips with the machine's reason elsewhere; the
two-GPU one also checks the device count in its body.
"""

import socket

import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._checkpoint import read
from lightning_conformance.clauses._devices import (
    autocast_dtype,
    fit_settings,
    isolated_environment,
    precision,
    require_cuda_devices,
)

AMP = "lightning/pytorch/plugins/precision/amp.py::MixedPrecision"
STRATEGY = "lightning/pytorch/strategies/strategy.py::Strategy"
CUDA = {"accelerator": "cuda", "devices": 1}
# A loss this small keeps the scaled float16 gradients (scale 65536) finite, so that only the
# clause's own inf loss makes a step skip.
SMALL = 1e-3


def _small_loss(module, batch):
    return module.layer(batch).float().sum() * SMALL


def _mixed(contract) -> dict:
    """CUDA with '16-mixed' (1.9: 16); a clause using it declares "precision_flag_names"."""
    return {**CUDA, "precision": precision(contract, "16-mixed")}


def _cuda_fit(target, module, **kwargs):
    return target.fit(module, **fit_settings(**(CUDA | kwargs)))


@clause(
    "DEV-021",
    "With accelerator='cuda', the module, self.device and every batch tensor are on cuda:0 in the step.",
    source=f"{STRATEGY}.batch_to_device; lightning/pytorch/strategies/single_device.py",
)
@requires("devices", "cuda")
def test_cuda_placement(target):
    seen = []

    def on_before_batch_transfer(self, batch, dataloader_idx):
        return {"x": batch, "nested": [(batch, batch.argmax(dim=1))]}

    def training_step(self, batch, batch_idx):
        (features, labels), = batch["nested"]
        seen.append((self.device, self.layer.weight.device, batch["x"].device, features.device,
                     labels.device))
        return self.layer(batch["x"]).sum()

    module = target.module(overrides={"on_before_batch_transfer": on_before_batch_transfer,
                                      "training_step": training_step})
    _cuda_fit(target, module, limit_train_batches=1)

    assert [(torch.device("cuda", 0),) * 5] == seen


@clause(
    "DEV-022",
    "After fit with accelerator='cuda', the module's parameters are back on the CPU.",
    source=f"{STRATEGY}.teardown",
)
@requires("devices", "cuda")
def test_cuda_module_back_on_cpu_after_fit(target):
    run = _cuda_fit(target, target.module())

    assert {torch.device("cpu")} == {param.device for param in run.module.parameters()}
    assert torch.device("cpu") == run.module.device


@clause(
    "DEV-023",
    "With '16-mixed' on CUDA, training_step runs under float16 autocast; trainer.scaler is a GradScaler.",
    source=f"{AMP}.autocast_context_manager",
    changes=("precision_flag_names",),
)
@requires("devices", "cuda")
def test_16_mixed_autocast_and_scaler(target, contract):
    seen = []

    def training_step(self, batch, batch_idx):
        output = self.layer(batch)
        seen.append((autocast_dtype("cuda"), output.dtype, self.layer.weight.dtype))
        return output.sum()

    run = target.fit(target.module(overrides={"training_step": training_step}),
                     **fit_settings(limit_train_batches=1, **_mixed(contract)))

    assert precision(contract, "16-mixed") == run.trainer.precision
    assert [(torch.float16, torch.float16, torch.float32)] == seen
    assert isinstance(run.trainer.scaler, torch.amp.GradScaler)


@clause(
    "DEV-024",
    "With '16-mixed', on_before_backward gets the scaled loss; on_before_optimizer_step, true grads.",
    source=f"{AMP}.pre_backward; {AMP}.optimizer_step",
    changes=("precision_flag_names",),
)
@requires("devices", "cuda")
def test_16_mixed_scaled_loss_unscaled_gradients(target, contract):
    seen = {}

    def training_step(self, batch, batch_idx):
        seen["batch"], seen["loss"] = batch.float(), _small_loss(self, batch)
        return seen["loss"]

    def on_before_backward(self, loss):
        seen["ratio"] = (loss.float() / seen["loss"].float()).item()
        seen["scale"] = self.trainer.scaler.get_scale()

    def on_before_optimizer_step(self, optimizer, *optimizer_idx):  # 1.9 passes optimizer_idx
        seen["grad"] = self.layer.weight.grad.detach().float().clone()

    module = target.module(overrides={"training_step": training_step,
                                      "on_before_backward": on_before_backward,
                                      "on_before_optimizer_step": on_before_optimizer_step})
    target.fit(module, **fit_settings(limit_train_batches=1, **_mixed(contract)))

    # d(SMALL * sum of outputs)/d(weight) is SMALL * the batch's column sum, for both outputs
    true_grad = SMALL * seen["batch"].sum(dim=0).expand(2, -1)
    assert abs(seen["ratio"] - seen["scale"]) <= 1e-3 * seen["scale"]
    assert torch.allclose(true_grad, seen["grad"], rtol=1e-2, atol=1e-5)


@clause(
    "DEV-025",
    "With '16-mixed', a checkpoint holds the GradScaler's state_dict under the key 'MixedPrecision'.",
    source="lightning/pytorch/trainer/connectors/checkpoint_connector.py::dump_checkpoint",
    changes=("mixed_precision_plugin_renamed", "precision_flag_names"),
)
@requires("devices", "cuda")
def test_scaler_state_in_checkpoint(target, contract):
    run = target.fit(target.module(), **fit_settings(**_mixed(contract)))
    path = target.root / "amp.ckpt"
    run.trainer.save_checkpoint(str(path))

    key = ("MixedPrecision" if contract.has("mixed_precision_plugin_renamed")
           else "MixedPrecisionPlugin")
    assert run.trainer.scaler.state_dict() == read(path)[key]


@clause(
    "DEV-026",
    "Resuming a '16-mixed' fit restores the GradScaler's state from the checkpoint.",
    source="lightning/pytorch/trainer/connectors/checkpoint_connector.py"
    "::_CheckpointConnector.restore_precision_plugin_state",
    changes=("precision_flag_names",),
)
@requires("devices", "cuda")
def test_scaler_state_restored_on_resume(target, contract):
    run = target.fit(target.module(), **fit_settings(**_mixed(contract)))
    run.trainer.scaler.update(1024.0)  # a scale that no fresh GradScaler has
    path = target.root / "amp.ckpt"
    run.trainer.save_checkpoint(str(path))
    seen = []

    def on_train_start(self):
        seen.append(self.trainer.scaler.get_scale())

    module = target.module(overrides={"on_train_start": on_train_start})
    target.fit(module, ckpt_path=str(path), **fit_settings(max_epochs=2, **_mixed(contract)))

    assert [1024.0] == seen


@clause(
    "DEV-027",
    "With '16-mixed', a step whose gradients are inf leaves the weights as they were; the scale halves.",
    source=f"{AMP}.optimizer_step",
    changes=("precision_flag_names",),
)
@requires("devices", "cuda")
def test_inf_gradients_skip_the_step(target, contract):
    seen = []

    def training_step(self, batch, batch_idx):
        loss = _small_loss(self, batch)
        return loss * float("inf") if batch_idx == 0 else loss

    def on_train_batch_start(self, batch, batch_idx):
        seen.append((self.layer.weight.detach().clone(), self.trainer.scaler.get_scale()))

    module = target.module(overrides={"training_step": training_step,
                                      "on_train_batch_start": on_train_batch_start})
    run = target.fit(module, **fit_settings(limit_train_batches=3, **_mixed(contract)))

    (before, scale), (after_inf, reduced), (_, kept) = seen
    assert torch.equal(before, after_inf)
    assert (scale / 2, scale / 2) == (reduced, kept)
    assert not torch.equal(after_inf.cpu(), run.module.layer.weight.detach())


@clause(
    "DEV-028",
    "Trainer(accelerator='cuda', devices=2, strategy='ddp') spans cuda:0 and cuda:1, world size 2.",
    source="lightning/pytorch/trainer/connectors/accelerator_connector.py::_AcceleratorConnector",
)
@requires("devices", "cuda")
def test_two_gpu_ddp_devices(target):
    require_cuda_devices("DEV-028", 2)
    settings = target.adapter.trainer_settings(str(target.root))
    # rank 0 of two, as torchrun starts it: the Trainer is built, nothing is launched.
    # (Lightning's TorchElasticEnvironment reads the ranks from os.environ when asked.)
    with isolated_environment(**_torchrun_rank_zero(world_size=2)):
        trainer = target.pl.Trainer(**settings | {"accelerator": "cuda", "devices": 2,
                                                  "strategy": "ddp"})
        seen = (trainer.num_devices, trainer.device_ids, trainer.world_size,
                trainer.strategy.root_device)

    assert (2, [0, 1], 2, torch.device("cuda", 0)) == seen


def _torchrun_rank_zero(world_size: int) -> dict:
    """The environment torchrun gives rank 0 of ``world_size`` processes on one node."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {"RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0", "NODE_RANK": "0",
            "WORLD_SIZE": str(world_size), "LOCAL_WORLD_SIZE": str(world_size),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


@clause(
    "DEV-029",
    "strategy='ddp' with accelerator='cuda' initialises torch.distributed with the NCCL backend.",
    source="lightning/pytorch/strategies/ddp.py::DDPStrategy._get_process_group_backend",
)
@requires("devices", "cuda")
def test_ddp_on_cuda_uses_nccl(target):
    seen = []

    def on_train_start(self):
        seen.append(torch.distributed.get_backend())

    # one rank launched "externally" (torchrun's variables), so nothing is re-launched
    with isolated_environment(**_torchrun_rank_zero(world_size=1)):
        try:
            _cuda_fit(target, target.module(overrides={"on_train_start": on_train_start}),
                      strategy="ddp", limit_train_batches=1)
        finally:
            if torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()

    assert ["nccl"] == seen
