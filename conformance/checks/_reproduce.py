"""Reproduction scripts: run the failing check as ``check`` does and end with its verdict.

A script exits 1 with the check's own message while the module breaks the clause, and 0 once
it holds. When the check's run raised an error, the script then runs that stage in plain
Lightning (``stage()``), so that the error shows its whole traceback.
"""

from __future__ import annotations

import os
import textwrap
from typing import Any

from lightning_conformance.checks._context import EPOCHS, SEED
from lightning_conformance.checks._target import NAMES

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
}
_OVERRIDES: dict[str, dict[str, Any]] = {
    "checkpoint": {"max_epochs": EPOCHS - 1}, "resume": {"max_epochs": EPOCHS - 1},
    "mixed": {"precision": "16-mixed"}}
# The context's run behind each stage (its error is what the stage shows).
_RUNS = {"checkpoint": "half"}


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


def _factory_of(value, fallback: str) -> tuple[list[str], str]:
    """Import lines and a zero-argument factory of what ``source_of`` builds: the class itself,
    or a ``functools.partial`` of it (both pickle, as the DDP checks need)."""
    imports, expression = source_of(value, fallback)
    call, hash_, comment = expression.partition("  #")
    name, _, arguments = call.strip().partition("(")
    arguments = arguments.rstrip()[:-1]  # the call's closing parenthesis
    if arguments:
        imports, name = [*imports, "import functools"], f"functools.partial({name}, {arguments})"
    return imports, name + hash_ + comment


def _raised(ctx, stage: str) -> bool:
    """Whether the context's run of ``stage`` raised (only a run already made is looked at)."""
    outcome = vars(ctx).get(_RUNS.get(stage, stage))
    return getattr(outcome, "error", None) is not None


def _verdict(ctx, check, stage_too: bool) -> tuple[list[str], list[str]]:
    """Import lines and the main block: the check's run and verdict, then ``stage()``."""
    imports, factory = _factory_of(ctx.factory, "build_module")
    options = ""
    if ctx.datamodule_factory is not None:
        dm_imports, datamodule = _factory_of(ctx.datamodule_source, "build_datamodule")
        imports += dm_imports
        options += f", datamodule={datamodule.split('  #')[0]}"
    if ctx.namespace.name in NAMES:
        options += f", target={ctx.namespace.name!r}"
    if ctx.ddp:
        options += f", ddp={ctx.ddp}"
    if ctx.device != "cpu":
        options += f", device={ctx.device!r}"
    body = [
        'if __name__ == "__main__":',
        f"    factory = {factory}",
        f"    result = run_check(by_id({check.id!r}), factory{options})",
        '    if result.status == "failed":',
        '        print(f"{result.clause} FAILED: {result.message}", file=sys.stderr)',
        *(["        stage()  # the same error, now with its traceback"] if stage_too else []),
        "        sys.exit(1)",
        '    print(f"{result.clause} {result.status}" + (f": {result.message}" '
        'if result.message else ""))',
    ]
    return imports, body


def _stage(ctx, stage: str) -> tuple[list[str], list[str]]:
    """Import lines and ``def stage()``: the stage in plain Lightning, as the check ran it."""
    imports, expression = source_of(ctx.factory, "build_module")
    imports = [f"from {ctx.namespace.root} import Trainer, seed_everything", *imports]
    dm = ""
    if ctx.datamodule_factory is not None:
        dm_imports, dm_expression = source_of(ctx.datamodule_source, "build_datamodule")
        imports += dm_imports
        dm = f", datamodule={dm_expression.split('  #')[0]}"
    settings = ctx.settings(default_root_dir="lck-repro", **_OVERRIDES.get(stage, {}))
    body = [f"seed_everything({SEED})", f"module = {expression}", f"settings = {settings!r}",
            "trainer = Trainer(**settings)"]
    body += [line.format(dm=dm, seed=SEED, expr=expression, epochs=EPOCHS)
             for line in _STAGES.get(stage, _STAGES["fit"])]
    doc = '"""The stage whose run raised, in plain Lightning."""'
    return imports, ["def stage():", *(f"    {line}" for line in [doc, *body]), "", ""]


def script(ctx, check, stage: str, message: str) -> str:
    """A script that reproduces ``check``'s failure on the context's module."""
    stage_too = stage in _STAGES and _raised(ctx, stage)
    imports, main = _verdict(ctx, check, stage_too)
    stage_imports, stage_def = _stage(ctx, stage) if stage_too else ([], [])
    found = textwrap.fill(message, 96, initial_indent="Found: ", subsequent_indent="  ")
    header = (f'"""Reproduces {check.id}: {check.sentence}\n\n{found}\n\n'
              f"Running this file runs the check as `lightning-conformance check` does: it exits "
              f"1 with\nthe check's message while the module breaks {check.id}, 0 once it "
              f'holds.\n"""')
    # The module imports as it did where the check ran (after everything installed, as there).
    where = f"sys.path.append({os.getcwd()!r})"
    lines = ["import sys", where, "", "from lightning_conformance.checks import by_id, run_check"]
    lines += dict.fromkeys([*stage_imports, *imports])  # in order, each once
    return "\n".join([header, *lines, "", "", *stage_def, *main]) + "\n"
