"""Mutants for the DEV clauses (see ``tests/mutants/__init__.py`` for the rules).

Mutants whose clauses all need CUDA are skipped by the kill matrix on a machine without it.
"""

from ._load import mutant as _m

__all__ = ["MUTANTS"]

_TRANSFER_BODY = (
    '        batch = self.precision_plugin.convert_input(batch)  # "64-true": float tensors to'
    " float64\n"
    '        batch = self._call_batch_hook("on_before_batch_transfer", batch, dataloader_idx)\n'
    "        batch = self._call_batch_hook(\n"
    '            "transfer_batch_to_device", batch, self.strategy.root_device, dataloader_idx\n'
    "        )\n"
    '        return self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)\n'
)

MUTANTS = [
    # ---- transfer (calls.py, module.py, evaluation_loop.py) ----
    _m("transfer-gets-device-name", "DEV-001",
       "calls.py",
       '"transfer_batch_to_device", batch, self.strategy.root_device, dataloader_idx',
       '"transfer_batch_to_device", batch, str(self.strategy.root_device), dataloader_idx'),
    _m("transfer-ignores-before-hook-batch", "DEV-002",
       "calls.py",
       '        batch = self._call_batch_hook("on_before_batch_transfer", batch, dataloader_idx)\n',
       '        self._call_batch_hook("on_before_batch_transfer", batch, dataloader_idx)\n'),
    _m("step-ignores-after-hook-batch", "DEV-003",
       "calls.py",
       '        return self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)\n',
       '        self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)\n'
       "        return batch\n"),
    _m("eval-transfer-dataloader-idx-zero", "DEV-004",
       "evaluation_loop.py",
       "        batch = trainer._transfer_batch(batch, dataloader_idx)",
       "        batch = trainer._transfer_batch(batch, 0)"),
    _m("module-device-is-a-string", "DEV-001 DEV-005",
       "module.py",
       "        for tensor in self.parameters():\n            return tensor.device\n",
       "        for tensor in self.parameters():\n            return str(tensor.device)\n"),
    # ---- precision (precision.py, trainer.py) ----
    _m("default-precision-bf16-mixed", "DEV-006",
       "precision.py",
       '    if precision is None:\n        return "32-true"\n',
       '    if precision is None:\n        return "bf16-mixed"\n'),
    _m("predict-step-without-autocast", "DEV-007 DEV-014",
       "precision.py",
       '_STEP_HOOKS = frozenset({"training_step", "validation_step", "test_step", "predict_step"})',
       '_STEP_HOOKS = frozenset({"training_step", "validation_step", "test_step"})'),
    _m("autocast-in-every-hook", "DEV-008 DEV-014",
       "precision.py",
       "        if hook in _STEP_HOOKS:\n",
       '        if hook in _STEP_HOOKS or hook.startswith("on_"):\n'),
    _m("bf16-mixed-with-grad-scaler", "DEV-009",
       "precision.py",
       'torch.amp.GradScaler(device_type) if precision == "16-mixed" else None',
       'torch.amp.GradScaler(device_type) if precision.endswith("-mixed") else None'),
    _m("16-mixed-on-cpu-without-fallback", "DEV-010",
       "precision.py",
       '    if precision == "16-mixed" and device_type == "cpu":\n',
       "    if False:\n"),
    _m("double-module-converted-back-after-fit", "DEV-011",
       "trainer.py",
       "            self.lightning_module.cpu()\n",
       "            self.lightning_module.cpu().float()\n"),
    _m("double-converts-integer-tensors", "DEV-012 DEV-013",
       "precision.py",
       "            return data.to(self.dtype) if is_float else data\n",
       "            return data.to(self.dtype) if isinstance(data, torch.Tensor) else data\n"),
    _m("double-converts-after-transfer", "DEV-013",
       "calls.py",
       _TRANSFER_BODY,
       _TRANSFER_BODY.replace(
           '        batch = self.precision_plugin.convert_input(batch)  # "64-true": float tensors'
           " to float64\n", "").replace(
           '        return self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)',
           '        batch = self._call_batch_hook("on_after_batch_transfer", batch, dataloader_idx)\n'
           "        return self.precision_plugin.convert_input(batch)")),
    _m("true-precision-keeps-default-dtype", "DEV-014 DEV-015",
       "precision.py",
       "    def step_context(self):\n        return _default_dtype(self.dtype)\n",
       "    def step_context(self):\n        return nullcontext()\n"),
    _m("half-precision-dtypes-swapped", "DEV-015",
       "precision.py",
       'self.dtype = torch.bfloat16 if precision == "bf16-true" else torch.float16',
       'self.dtype = torch.float16 if precision == "bf16-true" else torch.bfloat16'),
    _m("unknown-precision-accepted", "DEV-016",
       "precision.py",
       "    if precision not in _SUPPORTED:\n",
       "    if precision not in _SUPPORTED and False:\n"),
    _m("legacy-precision-without-warning", "DEV-017",
       "precision.py",
       '        if precision[:2] not in ("32", "64"):  # "16" and "bf16" are discouraged\n',
       "        if False:\n"),
    # ---- accelerator (precision.py) ----
    _m("cuda-accepted-without-device", "DEV-018",
       "precision.py",
       '    if accelerator in ("cuda", "gpu") and not cuda:\n',
       "    if False:\n"),
    _m("gpu-without-device-says-cuda", "DEV-019",
       "precision.py",
       '    if accelerator == "gpu" and not cuda:\n',
       "    if False:\n"),
    _m("unknown-accelerator-accepted", "DEV-020",
       "precision.py",
       '    if accelerator not in _ACCELERATORS and accelerator not in ("auto", "gpu"):\n',
       "    if False:\n"),
    # ---- CUDA (the kill matrix skips these where torch sees no CUDA device) ----
    _m("cuda-runs-on-cpu", "DEV-021",
       "precision.py",
       'torch.device("cuda", 0) if device_type == "cuda" else torch.device("cpu")',
       'torch.device("cpu")'),
    _m("cuda-module-stays-on-gpu", "DEV-022",
       "trainer.py",
       "            self.lightning_module.cpu()\n",
       "            pass\n"),
    _m("16-mixed-autocasts-to-bf16", "DEV-023",
       "precision.py",
       'self.dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float16',
       "self.dtype = torch.bfloat16"),
    _m("16-mixed-loss-not-scaled", "DEV-024",
       "precision.py",
       "        return loss if self.scaler is None else self.scaler.scale(loss)\n",
       "        return loss\n"),
    _m("scaler-state-under-scaler-name", "DEV-025 DEV-026",
       "precision.py",
       "    return {type(plugin).__qualname__: state} if state else {}\n",
       '    return {"GradScaler": state} if state else {}\n'),
    _m("scaler-state-not-restored", "DEV-026",
       "restore.py",
       "            load_precision_state(trainer.precision_plugin, checkpoint)\n",
       "            pass\n"),
    _m("inf-gradients-still-step", "DEV-027",
       "precision.py",
       "        output = self.scaler.step(optimizer, **kwargs)",
       "        output = optimizer.step(**kwargs)"),
    # the DDP strategy is reference/distributed.py's: each rank's GPU is its local rank's
    _m("ddp-rank-on-next-gpu", "DEV-028 DEV-029",
       "distributed.py",
       'return torch.device("cuda", self.local_rank)',
       'return torch.device("cuda", self.local_rank + 1)'),
    _m("ddp-on-cuda-uses-gloo", "DEV-029",
       "distributed.py",
       'return "nccl" if self._device_type == "cuda" else "gloo"',
       'return "gloo"'),
]
