"""The checkpoint facts that ``ConformanceCallback`` checks when a checkpoint is saved.

Like ``_callback_rules``, each function returns ``(clause, status, message)`` violations and
only reads the checkpoint, the trainer and the module.
"""

from __future__ import annotations

import inspect
import io
import pickle
import re
from collections import OrderedDict

import torch

__all__ = ["FULL_KEYS", "checkpoint_problems", "hparams_problem", "loading_problems",
           "resume_problem", "unsafe_global"]

# What every full (not weights-only) checkpoint holds (CKPT-001, CKPT-005).
FULL_KEYS = ("epoch", "global_step", "pytorch-lightning_version", "state_dict", "loops",
             "callbacks", "optimizer_states", "lr_schedulers")


def checkpoint_problems(checkpoint: dict, trainer, module) -> list[tuple]:
    """Violations in a full checkpoint as it reaches the callbacks' on_save_checkpoint."""
    missing = [key for key in FULL_KEYS if key not in checkpoint]
    if missing:
        return [("CKPT-001", "failed", f"a saved checkpoint has no {missing}")]
    problems = []
    counters = (checkpoint["epoch"], checkpoint["global_step"])
    if counters != (trainer.current_epoch, trainer.global_step):
        problems.append(("CKPT-007", "failed", f"a checkpoint saved (epoch, global_step) = "
                                               f"{counters} while the trainer was at "
                                               f"{(trainer.current_epoch, trainer.global_step)}"))
    state, saved = module.state_dict(), checkpoint["state_dict"]
    if set(state) != set(saved):
        problems.append(("MOD-021", "failed", "the checkpoint's state_dict keys differ from "
                                              "the module's"))
    elif not all(_identical(state[key], saved[key]) for key in state):
        problems.append(("MOD-021", "failed", "the checkpoint's state_dict differs from the "
                                              "module's weights at the time of saving"))
    return problems


def _identical(a: torch.Tensor, b: torch.Tensor) -> bool:  # NaN equal to NaN
    same = a.shape == b.shape and a.dtype == b.dtype
    return same and (torch.equal(a, b) or (a.is_floating_point() and torch.allclose(
        a, b.to(a.device), rtol=0, atol=0, equal_nan=True)))


def unsafe_global(checkpoint: dict) -> str | None:
    """The object that keeps ``torch.load(weights_only=True)`` from loading the checkpoint."""
    buffer = io.BytesIO()
    torch.save(_without_tensor_data(checkpoint), buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        return found.group(1) if found else str(error).splitlines()[0]
    return None


def _without_tensor_data(value):
    """A copy of a checkpoint with every tensor emptied (only its structure gets pickled)."""
    if isinstance(value, torch.Tensor):
        return torch.empty(0, dtype=value.dtype)
    if type(value) in (dict, OrderedDict):
        return type(value)((key, _without_tensor_data(item)) for key, item in value.items())
    if type(value) in (list, tuple):
        return type(value)(_without_tensor_data(item) for item in value)
    return value


def hparams_problem(module_class, checkpoint: dict):
    """MOD-022 when load_from_checkpoint would need init arguments the checkpoint lacks."""
    parameters = list(inspect.signature(module_class.__init__).parameters.values())[1:]
    required = {p.name for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = sorted(required - set(checkpoint.get("hyper_parameters", {})))
    if missing:
        return "MOD-022", "failed", (f"load_from_checkpoint will need {missing}: call "
                                     "self.save_hyperparameters() in __init__")
    return None


def loading_problems(module_class, checkpoint: dict) -> list[tuple]:
    """MOD-022 and MOD-023: what keeps the checkpoint from loading without extra help."""
    problems = [hparams_problem(module_class, checkpoint)]
    unsafe = unsafe_global(checkpoint)
    if unsafe:
        problems.append(("MOD-023", "warned", "torch.load(weights_only=True) refuses the "
                                              f"checkpoint: it holds {unsafe}"))
    return problems


def resume_problem(checkpoint: dict):
    """CKPT-023 when fit resumes from a checkpoint without training state (weights-only)."""
    missing = [key for key in ("loops", "optimizer_states", "lr_schedulers")
               if key not in checkpoint]
    if missing:
        return "CKPT-023", "failed", (f"fit resumes from a checkpoint without {missing} "
                                      "(a weights-only checkpoint)")
    return None
