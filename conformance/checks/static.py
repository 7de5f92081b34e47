"""MOD-001..005: what the module's class declares, read without running it."""

from __future__ import annotations

import inspect

from lightning_conformance.adapters.hook_names import MODULE_HOOKS
from lightning_conformance.checks._base import Failed, check
from lightning_conformance.spec.contract import Contract

__all__ = ["REMOVED_HOOKS", "optimizer_idx_hooks", "signature_problems"]

DOCS = "https://lightning.ai/docs/pytorch/stable/common/lightning_module.html"
MODULE = "lightning/pytorch/core/module.py"
VALIDATOR = "lightning/pytorch/trainer/configuration_validator.py"

# Hooks older Lightning called and the installed one may not: name -> what to use instead.
# A hook counts as removed when the installed LightningModule no longer defines it.
REMOVED_HOOKS = {
    "training_epoch_end": "on_train_epoch_end (keep the step outputs on self)",
    "validation_epoch_end": "on_validation_epoch_end (keep the step outputs on self)",
    "test_epoch_end": "on_test_epoch_end (keep the step outputs on self)",
    "training_step_end": "the end of training_step",
    "validation_step_end": "the end of validation_step",
    "test_step_end": "the end of test_step",
    "on_epoch_start": "on_train_epoch_start",
    "on_epoch_end": "on_train_epoch_end",
    "on_batch_start": "on_train_batch_start",
    "on_batch_end": "on_train_batch_end",
    "on_pretrain_routine_start": "on_fit_start",
    "on_pretrain_routine_end": "on_train_start",
    "on_hpc_save": "on_save_checkpoint",
    "on_hpc_load": "on_load_checkpoint",
    "log_grad_norm": "on_before_optimizer_step with lightning.pytorch.utilities.grad_norm",
}
_STEPS = ("training_step", "validation_step", "test_step", "predict_step")
_NOT_CHECKED = {"train", "zero_grad"}  # torch's own methods; Lightning calls them as torch does


@check("MOD-001", "The module defines training_step.",
       source=f"{VALIDATOR}::__verify_train_val_loop_configuration",
       claims=(r"No `training_step\(\)` method defined",),
       fix="Define training_step(self, batch, batch_idx) returning the loss (or stepping the "
           "optimizers yourself with automatic_optimization = False).")
def training_step_defined(ctx):
    if not ctx.overrides("training_step"):
        raise Failed(f"{ctx.module_class.__qualname__} has no training_step, so fit cannot train.")


@check("MOD-002", "The module or its datamodule provides train_dataloader.",
       source=f"{VALIDATOR}::__verify_train_val_loop_configuration",
       claims=(r"`train_dataloader` must be implemented", r"No `train_dataloader\(\)` method"),
       fix="Define train_dataloader() on the module, or pass a LightningDataModule that defines "
           "it (--datamodule).")
def train_data_present(ctx):
    datamodule = ctx.datamodule()
    if ctx.overrides("train_dataloader"):
        return
    if datamodule is not None and ctx.overrides("train_dataloader", datamodule,
                                                ctx.pl.LightningDataModule):
        return
    name = ctx.module_class.__qualname__
    if datamodule is not None:
        raise Failed(f"neither {name} nor its datamodule {type(datamodule).__qualname__} "
                     "defines train_dataloader.")
    raise Failed(f"{name} defines no train_dataloader and no datamodule was given.")


def _removed(ctx) -> dict[str, str]:
    base = ctx.pl.LightningModule
    return {name: REMOVED_HOOKS[name] for name in ctx.user_methods()
            if name in REMOVED_HOOKS and not hasattr(base, name)}


@check("MOD-003", "The module defines no hook that the installed Lightning has removed.",
       source="Lightning 2.0.0 CHANGELOG (Removed); " + VALIDATOR,
       claims=(r"Support for `\w+` has been removed",),
       fix="Move the code of each removed hook to the hook named above; Lightning never calls "
           "the old one (or refuses to run).")
def no_removed_hooks(ctx):
    removed = _removed(ctx)
    if removed:
        found = "; ".join(f"{name} -> use {instead}" for name, instead in removed.items())
        raise Failed(f"{ctx.namespace.label} no longer calls: {found}.")


def optimizer_idx_hooks(ctx) -> list[str]:
    """The module's hooks that take optimizer_idx, where the installed Lightning passes none."""
    if not Contract(ctx.namespace.contract).has("optimizer_idx_removed"):
        return []
    return [name for name, method in ctx.user_methods().items()
            if name in MODULE_HOOKS and "optimizer_idx" in inspect.signature(method).parameters]


@check("MOD-004", "No hook of the module takes optimizer_idx, which Lightning 2.0 stopped passing.",
       source="lightning/pytorch/core/optimizer.py::_validate_multiple_optimizers_support",
       claims=(r"optimizer_idx", r"positional argument"),
       claim_when=lambda ctx, error: "optimizer_idx" in str(error) or optimizer_idx_hooks(ctx),
       fix="Remove optimizer_idx; with several optimizers set self.automatic_optimization = False "
           "and step them in training_step with opt1, opt2 = self.optimizers().")
def no_optimizer_idx(ctx):
    hooks = optimizer_idx_hooks(ctx)
    if hooks:
        raise Failed(f"{', '.join(hooks)} take(s) optimizer_idx, which {ctx.namespace.label} "
                     "never passes.")


def _positional(base) -> list[str]:
    """The arguments Lightning passes to a hook: the base's named parameters, minus an optional
    dataloader_idx (passed only with several dataloaders)."""
    parameters = list(inspect.signature(base).parameters.values())[1:]
    return [p.name for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and not (p.name == "dataloader_idx" and p.default is not p.empty)]


def _binds(method, count: int) -> bool:
    try:
        inspect.signature(method).bind(None, *range(count))
    except TypeError:
        return False
    return True


def signature_problems(ctx) -> list[str]:
    """Overridden hooks that the installed Lightning cannot call with its arguments."""
    problems = []
    for name, method in ctx.user_methods().items():
        base = getattr(ctx.pl.LightningModule, name, None)
        if name not in MODULE_HOOKS or name in _NOT_CHECKED or not inspect.isfunction(base):
            continue
        parameters = inspect.signature(method).parameters
        if "optimizer_idx" in parameters:
            continue  # MOD-004 reports it
        if name in _STEPS:
            if not (_binds(method, 2) or _binds(method, 1)):
                problems.append(f"{name}{inspect.signature(method)} cannot be called as "
                                f"{name}(batch, batch_idx)")
            continue
        passed = _positional(base)
        if not _binds(method, len(passed)):
            problems.append(f"{name}{inspect.signature(method)} cannot be called as "
                            f"{name}({', '.join(passed)})")
    return problems


@check("MOD-005", "Every overridden hook accepts the arguments the installed Lightning passes.",
       source=f"{MODULE} and lightning/pytorch/core/hooks.py (hook signatures)",
       claims=(r"positional argument", r"unexpected keyword argument"),
       claim_when=lambda ctx, error: bool(signature_problems(ctx)),
       fix=f"Give each hook the parameters of the installed version's hook (see {DOCS}).")
def hook_signatures(ctx):
    problems = signature_problems(ctx)
    if problems:
        raise Failed(f"on {ctx.namespace.label}: " + "; ".join(problems) + ".")
