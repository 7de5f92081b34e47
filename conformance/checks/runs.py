"""MOD-010..013: fit, validate, test and predict run on a few batches."""

from __future__ import annotations

from lightning_conformance.checks._base import Failed, Skipped, check
from lightning_conformance.checks._context import describe

__all__ = ["provides"]

TRAINER = "lightning/pytorch/trainer/trainer.py"
HOOK_TESTS = "tests/tests_pytorch/models/test_hooks.py"


def provides(ctx, dataloader: str) -> bool:
    """Whether the module or the datamodule defines ``dataloader``."""
    datamodule = ctx.datamodule()
    return ctx.overrides(dataloader) or (
        datamodule is not None
        and ctx.overrides(dataloader, datamodule, ctx.pl.LightningDataModule))


def _needs(ctx, step: str, dataloader: str, verb: str) -> None:
    missing = [name for name, present in ((step, ctx.overrides(step)),
                                          (dataloader, provides(ctx, dataloader)))
               if not present]
    if missing:
        raise Skipped(f"the module defines no {' and no '.join(missing)}, so trainer.{verb} "
                      "does not apply")


@check("MOD-010", "trainer.fit runs a few training and validation batches without error.",
       source=f"{TRAINER}::Trainer.fit; {HOOK_TESTS}::test_trainer_model_hook_system_fit",
       fix="Fix the error named above.")
def fit_runs(ctx):
    outcome = ctx.require("fit", "MOD-010")
    if outcome.record.train_batches == 0:
        raise Failed("fit ran no training batch: train_dataloader yields no batch. Return a "
                     "DataLoader over a non-empty dataset.")


def _validation_error(ctx, error) -> bool:
    """Whether ``error`` is the one trainer.validate raises (fit validates too)."""
    if not (ctx.overrides("validation_step") and provides(ctx, "val_dataloader")):
        return False
    own = ctx.validate.error
    return own is not None and (own is error or describe(own) == describe(error))


@check("MOD-011", "trainer.validate runs when the module defines validation_step and val data.",
       source=f"{TRAINER}::Trainer.validate; {HOOK_TESTS}::test_trainer_model_hook_system_eval",
       stage="validate", claims=(r".",), claim_when=_validation_error,
       fix="Fix the error named above.")
def validate_runs(ctx):
    _needs(ctx, "validation_step", "val_dataloader", "validate")
    ctx.require("validate", "MOD-011")


@check("MOD-012", "trainer.test runs when the module defines test_step and test data.",
       source=f"{TRAINER}::Trainer.test; {HOOK_TESTS}::test_trainer_model_hook_system_eval",
       stage="test",
       fix="Fix the error named above.")
def test_runs(ctx):
    _needs(ctx, "test_step", "test_dataloader", "test")
    ctx.require("test", "MOD-012")


@check("MOD-013", "trainer.predict runs when the module has predict data.",
       source=f"{TRAINER}::Trainer.predict; {HOOK_TESTS}::test_trainer_model_hook_system_predict",
       stage="predict",
       fix="Define predict_step(self, batch, batch_idx) (the default calls self(batch), which "
           "needs forward) and make it accept the batches predict_dataloader yields.")
def predict_runs(ctx):
    if not provides(ctx, "predict_dataloader"):
        raise Skipped("the module defines no predict_dataloader, so trainer.predict does not "
                      "apply")
    ctx.require("predict", "MOD-013")
