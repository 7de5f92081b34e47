"""Reproduction scripts: a few runnable lines that build the module and run the failing stage."""

from __future__ import annotations

import textwrap
from typing import Any

from lightning_conformance.checks._context import EPOCHS, SEED

__all__ = ["script", "source_of"]

# What each stage does after ``module`` and ``trainer`` exist.
_STAGES = {
    "fit": ["trainer.fit(module{dm})"],
    "validate": ["trainer.validate(module{dm})"],
    "test": ["trainer.test(module{dm})"],
    "predict": ["trainer.predict(module{dm})"],
    "checkpoint": [
        "trainer.fit(module{dm})",
        'trainer.save_checkpoint("check.ckpt")',
        'checkpoint = torch.load("check.ckpt", weights_only=True)',
        'loaded = type(module).load_from_checkpoint("check.ckpt")',
    ],
    "resume": [
        "trainer.fit(module{dm})",
        'trainer.save_checkpoint("check.ckpt")',
        "seed_everything({seed})",
        "resumed = {expr}",
        "Trainer(**{{**settings, 'max_epochs': {epochs}}}).fit(resumed{dm}, "
        'ckpt_path="check.ckpt")',
    ],
    "mixed": ["trainer.fit(module{dm})"],
    "ddp": ["trainer.fit(module{dm})  # run this file as a script: Lightning starts the ranks"],
}
_OVERRIDES: dict[str, dict[str, Any]] = {
    "checkpoint": {"max_epochs": EPOCHS - 1}, "resume": {"max_epochs": EPOCHS - 1},
    "mixed": {"precision": "16-mixed"}}


def source_of(value, fallback: str) -> tuple[list[str], str]:
    """Import lines and an expression that build ``value`` (a class, factory or instance)."""
    custom = getattr(value, "reproduce", None)
    if callable(custom):
        return custom()
    if value is not None and not callable(value):  # an instance: rebuild its class
        imports, expression = source_of(type(value), fallback)
        return imports, f"{expression}  # configured like the instance you passed"
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if module and qualname and "<" not in qualname and module != "__main__":
        return [f"from {module} import {qualname.split('.')[0]}"], f"{qualname}()"
    return [], f"{fallback}()  # replace with the code that builds it ({value!r})"


def script(ctx, check, stage: str, message: str) -> str:
    """A script that reproduces ``check``'s failure on the context's module."""
    imports, expression = source_of(ctx.factory, "build_module")
    lines = [f"from {ctx.namespace.root} import Trainer, seed_everything", *imports]
    dm = ""
    if ctx.datamodule_factory is not None:
        dm_imports, dm_expression = source_of(ctx.datamodule_source, "build_datamodule")
        lines += [line for line in dm_imports if line not in lines]
        dm = f", datamodule={dm_expression.split('  #')[0]}"
    overrides: dict[str, Any] = _OVERRIDES.get(stage, {})
    if stage == "ddp":
        overrides = {"strategy": "ddp", "devices": ctx.ddp, "max_epochs": 1}
    settings = ctx.settings(default_root_dir="lck-repro", **overrides)
    body = [f"seed_everything({SEED})", f"module = {expression}", f"settings = {settings!r}",
            "trainer = Trainer(**settings)"]
    body += [line.format(dm=dm, seed=SEED, expr=expression, epochs=EPOCHS)
             for line in _STAGES.get(stage, _STAGES["fit"])]
    found = textwrap.fill(message, 96, initial_indent="Found: ", subsequent_indent="  ")
    header = f'"""Reproduces {check.id}: {check.sentence}\n\n{found}\n"""'
    return "\n".join([header, "import torch", *lines, "", *body]) + "\n"
