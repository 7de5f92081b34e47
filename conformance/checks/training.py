"""MOD-014..020: what a few training steps and a validation do to the module."""

from __future__ import annotations

import torch

from lightning_conformance.checks._base import Failed, Skipped, check
from lightning_conformance.checks._state import differing, same_numbers, shorten, trainable
from lightning_conformance.checks.runs import provides

__all__ = ["optimized_names"]

LOOPS = "lightning/pytorch/loops"
AUTOMATIC = f"{LOOPS}/optimization/automatic.py"


def optimized_names(outcome, stepped_only: bool = False) -> list[str]:
    """Trainable parameters that some optimizer of the run holds (and stepped)."""
    stepped = {id(getattr(o, "_optimizer", o)) for o in outcome.record.stepped}
    held = {id(p) for optimizer in outcome.trainer.optimizers
            if not stepped_only or id(optimizer) in stepped
            for group in optimizer.param_groups for p in group["params"]}
    return [name for name, p in trainable(outcome.module).items() if id(p) in held]


@check("MOD-014", "training_step's loss is a finite scalar tensor that requires grad.",
       source=f"{AUTOMATIC}::ClosureResult.from_training_step_output",
       claims=(r"grad can be implicitly created only for scalar outputs",
               r"does not require grad and does not have a grad_fn",
               r"the 'loss' key needs to be present", r"training_step` must return"),
       fix="Return the loss as a 0-dim tensor computed from the module's outputs (e.g. "
           "F.cross_entropy(logits, y)); check inputs and learning rate when it is NaN or inf.")
def loss_is_finite_scalar(ctx):
    outcome = ctx.fit
    problems = outcome.record.loss_problems
    if problems:
        raise Failed("; ".join(problems[:3]) + ".")
    outcome = ctx.require("fit", "MOD-014")
    record = outcome.record
    if ctx.first.automatic_optimization and record.train_batches and not record.backward_calls:
        raise Failed(f"training_step returned no loss in any of {record.train_batches} "
                     "batches, so nothing was trained.")


@check("MOD-015", "Every optimized parameter receives a gradient in a training step.",
       source=f"{AUTOMATIC} (backward_fn); lightning/pytorch/strategies/ddp.py "
              "(find_unused_parameters)",
       fix="Use those parameters in the loss, delete them, or freeze them with "
           "requires_grad_(False); unused parameters also make DDP fail or need "
           "find_unused_parameters=True.")
def parameters_get_gradients(ctx):
    outcome = ctx.require("fit", "MOD-015")
    if not outcome.record.backward_calls:
        raise Skipped("no backward ran (MOD-014 or MOD-025 reports why)")
    missing = [name for name in optimized_names(outcome) if name not in outcome.record.with_grad]
    if missing:
        raise Failed(f"{shorten(missing)} never received a gradient.")


@check("MOD-016", "Every optimized parameter that receives a gradient changes after the steps.",
       source=f"{AUTOMATIC}::_AutomaticOptimization._optimizer_step",
       fix="Check that the learning rate is not 0, that an overridden optimizer_step calls "
           "optimizer.step(closure=optimizer_closure), and that no hook zeroes the gradients "
           "before the step.")
def parameters_change(ctx):
    outcome = ctx.require("fit", "MOD-016")
    # Parameters without gradients (MOD-015) or of optimizers never stepped (MOD-026) are left
    # to those checks.
    candidates = [name for name in optimized_names(outcome, stepped_only=True)
                  if name in outcome.record.with_grad]
    if not candidates:
        raise Skipped("no stepped parameter received a gradient (MOD-015 or MOD-026 report it)")
    changed = set(differing(outcome.before, outcome.after))
    unchanged = [name for name in candidates if name in outcome.after and name not in changed]
    if unchanged:
        steps = len(outcome.record.stepped)
        zero = [name for name in unchanged if name not in outcome.record.nonzero_grad]
        hint = (f" The gradient of {shorten(zero)} was always zero (a bias right before a "
                "normalization layer?)." if zero else "")
        raise Failed(f"{shorten(unchanged)} did not change in {outcome.record.train_batches} "
                     f"training batches ({steps} optimizer steps).{hint}")


def _bad_values(metrics: dict) -> list[str]:
    bad = []
    for key, value in metrics.items():
        tensor = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
        if tensor.numel() != 1 or not torch.isfinite(tensor.detach().float()).all():
            bad.append(f"{key}={tensor.tolist()}")
    return bad


@check("MOD-017", "Every value the module logs is a finite number.",
       source="lightning/pytorch/core/module.py::LightningModule.log (__to_tensor)",
       claims=(r"self\.log\(",),
       fix="Log finite scalars: guard divisions (e.g. by a count that can be 0), log "
           "tensor.mean() rather than a tensor of several elements.")
def logged_values_valid(ctx):
    bad = []
    for stage in ("fit", "validate", "test"):
        outcome = getattr(ctx, stage)
        if outcome.error is not None and ctx.claimant(outcome.error) == "MOD-017":
            ctx.require(stage, "MOD-017")
        if outcome.trainer is not None:
            values = {**outcome.trainer.callback_metrics, **outcome.trainer.logged_metrics}
            bad += [f"{stage}: {value}" for value in _bad_values(values)]
    if bad:
        raise Failed(f"logged values that are not finite numbers: {', '.join(sorted(set(bad)))}.")


@check("MOD-018", "trainer.validate leaves the module's parameters and buffers unchanged.",
       source=f"{LOOPS}/evaluation_loop.py (eval mode, torch.inference_mode)", stage="validate",
       fix="Do not update parameters or buffers in validation hooks (no in-place updates, no "
           "optimizer steps, no self.train() in validation_step: BatchNorm would update its "
           "running statistics).")
def validation_keeps_state(ctx):
    if not (ctx.overrides("validation_step") and provides(ctx, "val_dataloader")):
        raise Skipped("the module defines no validation_step or no val_dataloader")
    outcome = ctx.require("validate", "MOD-018")
    changed = differing(outcome.before, outcome.after)
    if changed:
        raise Failed(f"validation changed {shorten(changed)}.", stage="validate")


@check("MOD-019", "After validation inside fit, training resumes with the same train/eval modes.",
       source=f"{LOOPS}/evaluation_loop.py::_on_evaluation_model_train",
       fix="If you override on_validation_model_train, put the module back in training mode "
           "there (self.train()); do not leave submodules in eval mode after validation.")
def train_mode_restored(ctx):
    if not (ctx.overrides("validation_step") and provides(ctx, "val_dataloader")):
        raise Skipped("the module defines no validation_step or no val_dataloader")
    outcome = ctx.require("fit", "MOD-019")
    changes = outcome.record.mode_changes
    if changes:
        modes = {True: "train", False: "eval"}
        # a submodule that changed with its parent is not named again
        tops = [name for name in changes
                if name and name.rpartition(".")[0] not in changes or not name]
        found = [f"{name or 'the module'} {modes[changes[name][0]]} -> {modes[changes[name][1]]}"
                 for name in tops]
        inner = len(changes) - len(tops)
        raise Failed("after validation, training batches ran with other modes than the first "
                     f"batch: {shorten(found)}{f' (and {inner} submodules)' if inner else ''}.")


@check("MOD-020", "Two fits from the same seed give bit-identical weights and losses.",
       source="lightning/fabric/utilities/seed.py::seed_everything; docs: Reproducibility",
       fix="Draw randomness from the generators seed_everything seeds (torch, numpy, random) "
           "or from a torch.Generator you seed; on GPU pass Trainer(deterministic=True).")
def same_seed_same_result(ctx):
    first = ctx.require("fit", "MOD-020")
    second = ctx.require("half", "MOD-020")
    if not (first.record.epoch_ends and second.record.epoch_ends):
        raise Skipped("no training epoch completed")
    changed = differing(first.record.epoch_ends[0], second.record.epoch_ends[0])
    losses = first.record.losses[:len(second.record.losses)]
    if changed or not same_numbers(losses, second.record.losses):
        what = f"weights {shorten(changed)}" if changed else "losses"
        raise Failed(f"two fits seeded with seed_everything(0) gave different {what} after "
                     "the first epoch.")
