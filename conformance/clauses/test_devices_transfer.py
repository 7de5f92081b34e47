"""DEV: batches on their way to the module's device: what the transfer hooks get and hand on.

(The order of the three transfer hooks around each batch is HOOK-013's; these clauses are about
the device, the dataloader index and the batch contents they pass along.)
"""

import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._devices import fit_settings

HOOKS = "lightning/pytorch/core/hooks.py::DataHooks"
MODULE = "lightning/pytorch/core/module.py::LightningModule._apply_batch_transfer_handler"


def _default_transfer(self, batch, device, dataloader_idx):
    """What the LightningModule base class does (scenario classes derive from it directly)."""
    return super(type(self), self).transfer_batch_to_device(batch, device, dataloader_idx)


@clause(
    "DEV-001",
    "In fit, transfer_batch_to_device gets the module's device as a torch.device and dataloader_idx 0.",
    source=f"{HOOKS}.transfer_batch_to_device",
)
@requires("devices")
def test_transfer_gets_module_device(target):
    seen = []

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        seen.append((type(device), device == self.device, dataloader_idx))
        return _default_transfer(self, batch, device, dataloader_idx)

    module = target.module(overrides={"transfer_batch_to_device": transfer_batch_to_device})
    target.fit(module, **fit_settings())

    assert [(torch.device, True, 0)] * 2 == seen


@clause(
    "DEV-002",
    "transfer_batch_to_device receives the batch that on_before_batch_transfer returned.",
    source=f"{MODULE}",
)
@requires("devices")
def test_transfer_receives_before_hook_batch(target):
    seen = []

    def on_before_batch_transfer(self, batch, dataloader_idx):
        return {"x": batch, "added_before_transfer": dataloader_idx}

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        seen.append(sorted(batch))
        return _default_transfer(self, batch, device, dataloader_idx)

    module = target.module(overrides={
        "on_before_batch_transfer": on_before_batch_transfer,
        "transfer_batch_to_device": transfer_batch_to_device,
        "training_step": lambda self, batch, batch_idx: self.layer(batch["x"]).sum(),
    })
    target.fit(module, **fit_settings())

    assert [["added_before_transfer", "x"]] * 2 == seen


@clause(
    "DEV-003",
    "training_step receives exactly the batch that on_after_batch_transfer returned.",
    source=f"{MODULE}",
)
@requires("devices")
def test_step_receives_after_hook_batch(target):
    returned, received = [], []

    def on_after_batch_transfer(self, batch, dataloader_idx):
        returned.append({"x": batch * 2, "tag": len(returned)})
        return returned[-1]

    def training_step(self, batch, batch_idx):
        received.append(batch)
        return self.layer(batch["x"]).sum()

    module = target.module(overrides={"on_after_batch_transfer": on_after_batch_transfer,
                                      "training_step": training_step})
    target.fit(module, **fit_settings())

    assert 2 == len(received)
    assert all(got is sent for got, sent in zip(received, returned, strict=True))


@clause(
    "DEV-004",
    "Validation and predict batches pass the transfer hooks with their own dataloader's index.",
    source="lightning/pytorch/loops/evaluation_loop.py::_EvaluationLoop._evaluation_step",
)
@requires("devices")
def test_eval_batches_transfer_with_dataloader_idx(target):
    seen = []

    def record(hook):
        def method(self, batch, *args):
            seen.append(("predict" if self.trainer.predicting else "validate", hook, args[-1]))
            if hook == "transfer_batch_to_device":
                return _default_transfer(self, batch, *args)
            return batch

        return method

    def two_loaders(self):
        return [torch.utils.data.DataLoader(torch.randn(2, 32), batch_size=2)] * 2

    hooks = ("on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer")
    overrides = {
        **{hook: record(hook) for hook in hooks},
        "val_dataloader": two_loaders,
        "predict_dataloader": two_loaders,
        "validation_step": lambda self, batch, batch_idx, dataloader_idx=0: None,
        "predict_step": lambda self, batch, batch_idx, dataloader_idx=0: self.layer(batch),
    }
    target.validate(target.module(overrides=overrides))
    target.predict(target.module(overrides=overrides))

    expected = [(fn, hook, idx) for fn in ("validate", "predict") for idx in (0, 1)
                for hook in hooks]
    assert expected == seen


@clause(
    "DEV-005",
    "self.device is a torch.device equal to the parameters' device (the CPU here) in training_step.",
    source="lightning/fabric/utilities/device_dtype_mixin.py::_DeviceDtypeModuleMixin.device",
)
@requires("devices")
def test_module_device_matches_parameters(target):
    seen = []

    def training_step(self, batch, batch_idx):
        seen.append((type(self.device), self.device, self.layer.weight.device, batch.device))
        return self.layer(batch).sum()

    target.fit(target.module(overrides={"training_step": training_step}),
               **fit_settings(limit_train_batches=1))

    cpu = torch.device("cpu")
    assert [(torch.device, cpu, cpu, cpu)] == seen
