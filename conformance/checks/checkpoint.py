"""MOD-021..024: the checkpoint of a short fit restores the module, loads safely and resumes."""

from __future__ import annotations

import inspect
import re

import torch
from packaging.version import Version

from lightning_conformance.checks._base import Failed, Skipped, Warned, check
from lightning_conformance.checks._context import describe
from lightning_conformance.checks._state import differing, same_numbers, shorten, snapshot
from lightning_conformance.spec.contract import Contract

__all__ = ["locate", "reads_weights_only"]

CONNECTOR = "lightning/pytorch/trainer/connectors/checkpoint_connector.py"
SAVING = "lightning/pytorch/core/saving.py"


def _read(path):
    # Never weights_only=False: the kit does not unpickle what MOD-023 calls unsafe, and once
    # MOD-023 passes, weights_only=True reads the whole checkpoint.
    return torch.load(str(path), map_location="cpu", weights_only=True)


def _refused_by_mod_023(ctx) -> None:
    """Skip a check that would load the checkpoint when MOD-023 found objects in it that
    torch.load(weights_only=True) refuses: any other load would run their unpickling code."""
    if ctx.verdict("MOD-023") in ("failed", "warned"):
        raise Skipped("the checkpoint holds objects that torch.load(weights_only=True) refuses "
                      "(MOD-023 names them); the kit does not unpickle them to load it")


@check("MOD-021", "A checkpoint restores the module's state_dict bit for bit into a new module.",
       source=f"{CONNECTOR}::restore_model; tests/tests_pytorch/models/test_restore.py",
       stage="checkpoint",
       fix="Keep on_save_checkpoint/on_load_checkpoint and any state_dict override symmetric: "
           "save every tensor unchanged and load it back under the same key.")
def state_round_trips(ctx):
    half = ctx.require("half", "MOD-021")
    _refused_by_mod_023(ctx)
    module = ctx.build()
    checkpoint = _read(half.checkpoint)
    try:
        module.on_load_checkpoint(checkpoint)
        module.load_state_dict(checkpoint["state_dict"],
                               strict=getattr(module, "strict_loading", True))
    except Exception as error:
        raise Failed(f"loading the checkpoint into a new module failed: {describe(error)}",
                     stage="checkpoint") from None
    changed = differing(half.after, snapshot(module))
    if changed:
        raise Failed(f"after loading the checkpoint, {shorten(changed)} differ from the "
                     "module that saved it.", stage="checkpoint")


def _load_kwargs(cls) -> dict:
    parameters = inspect.signature(cls.load_from_checkpoint).parameters
    # Note: Lightning 2.6 reads with torch's default weights_only; MOD-023 judges that part,
    # and this check runs only once MOD-023 has found nothing that weights_only=True refuses.
    return {"weights_only": True} if "weights_only" in parameters else {}


@check("MOD-022", "load_from_checkpoint rebuilds the module from a checkpoint, with no init args.",
       source=f"{SAVING}::_load_from_checkpoint; docs: checkpointing_basic (save_hyperparameters)",
       stage="checkpoint",
       fix="Call self.save_hyperparameters() in __init__ so that load_from_checkpoint can call "
           "__init__ with the saved arguments (ignore=[...] for nn.Module arguments).")
def loads_without_arguments(ctx):
    half = ctx.require("half", "MOD-022")
    _refused_by_mod_023(ctx)
    cls = ctx.module_class
    try:
        loaded = cls.load_from_checkpoint(str(half.checkpoint), map_location="cpu",
                                          **_load_kwargs(cls))
    except Exception as error:
        owner = ctx.claimant(error)
        if owner not in (None, "MOD-022"):
            raise Skipped(f"load_from_checkpoint raised an error that {owner} reports") from None
        raise Failed(f"{cls.__qualname__}.load_from_checkpoint(path) raised {describe(error)}",
                     stage="checkpoint") from None
    if not isinstance(loaded, cls):
        raise Failed(f"load_from_checkpoint returned a {type(loaded).__qualname__}",
                     stage="checkpoint")


def locate(value, type_name: str, path: str = "checkpoint", depth: int = 0) -> str:
    """Where in the checkpoint an object of the fully qualified ``type_name`` is ("" if not)."""
    kind = type(value)
    if f"{kind.__module__}.{kind.__qualname__}" == type_name or (
            isinstance(value, type) and f"{value.__module__}.{value.__qualname__}" == type_name):
        return path
    if depth > 6:
        return ""
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, (list, tuple)) else vars(value).items() \
        if hasattr(value, "__dict__") and not isinstance(value, torch.Tensor) else ()
    for key, item in items:
        found = locate(item, type_name, f"{path}[{key!r}]", depth + 1)
        if found:
            return found
    return ""


class _StandIn:
    """What an object that weights_only refuses becomes when MOD-023 locates it: its name and
    its pickled state, without any of its code running."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.__dict__["state"] = state


def _stand_in(name: str) -> tuple[type, str]:
    module, _, qualname = name.rpartition(".")
    return type(qualname, (_StandIn,), {"__module__": module, "__qualname__": qualname}), name


def _read_inert(path):
    """The checkpoint with each global that weights_only refuses read as an inert stand-in of
    the same name (None when this torch cannot list them, or the stand-ins do not fit)."""
    unsafe = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)
    if unsafe is None:  # torch < 2.5
        return None
    try:
        with torch.serialization.safe_globals([_stand_in(name) for name in unsafe(str(path))]):
            return _read(path)
    except Exception:  # e.g. a stand-in where the unpickler wants a list: no location then
        return None


SAFE_FIX = ("Save plain types (dict, list, str, numbers) as hyperparameters, or allow the class "
            "with torch.serialization.add_safe_globals([...]) before loading.")


def reads_weights_only(namespace) -> bool:
    """Whether the installed Lightning reads checkpoints with weights_only=True by default:
    it leaves torch.load's default in force (before 2.4 and from 2.6), which is True from
    torch 2.6."""
    contract = Contract(namespace.contract)
    full = contract.has("checkpoint_load_weights_only_false") and not contract.has(
        "weights_only_follows_torch_default")
    return not full and Version(torch.__version__.split("+")[0]) >= Version("2.6")


@check("MOD-023", "The checkpoint loads with torch.load(weights_only=True).",
       source="lightning/fabric/utilities/cloud_io.py::_load; Lightning 2.6.0 CHANGELOG (#21072)",
       stage="checkpoint", claims=(r"Weights only load failed",),
       fix=SAFE_FIX)
def loads_weights_only(ctx):
    half = ctx.require("half", "MOD-023")
    try:
        _read(half.checkpoint)
    except Exception as error:
        match = re.search(r"GLOBAL ([\w.]+)", str(error))
        name = match[1] if match else type(error).__name__
        where = locate(_read_inert(half.checkpoint), name) if match else ""
        found = (f"torch.load(weights_only=True) refuses the checkpoint: it holds a {name}"
                 f"{' at ' + where if where else ''}")
        if reads_weights_only(ctx.namespace):
            raise Failed(f"{found}, and {ctx.namespace.label} reads checkpoints that way: "
                         "fit(ckpt_path=...) and load_from_checkpoint fail on it.",
                         stage="checkpoint") from None
        raise Warned(f"{found}. Lightning < 2.4 and >= 2.6 on torch >= 2.6 read checkpoints that "
                     "way. "
                     f"{SAFE_FIX}") from None


@check("MOD-024", "Resuming fit from an epoch-end checkpoint equals the uninterrupted fit.",
       source=f"{CONNECTOR}::restore_training_state; tests/tests_pytorch/models/test_restore.py",
       stage="resume",
       fix="Keep every tensor that training depends on in the checkpoint: a persistent buffer "
           "(register_buffer) instead of a plain attribute or a persistent=False buffer, or save "
           "it in on_save_checkpoint and restore it in on_load_checkpoint.")
def resume_equals_uninterrupted(ctx):
    for other, why in (("MOD-019", "validation leaves the module in other modes"),
                       ("MOD-020", "two fits from one seed already differ"),
                       ("MOD-021", "the checkpoint does not restore the module's state")):
        if ctx.verdict(other) == "failed":
            raise Skipped(f"{why} ({other} reports it)")
    whole = ctx.require("fit", "MOD-024")
    half = ctx.require("half", "MOD-024")
    _refused_by_mod_023(ctx)  # Lightning would unpickle it to resume
    resumed = ctx.require("resume", "MOD-024")
    changed = differing(whole.after, resumed.after)
    if changed:
        raise Failed(f"the resumed fit ends with other {shorten(changed)} than the "
                     "uninterrupted one.", stage="resume")
    if not same_numbers(whole.record.losses[len(half.record.losses):], resumed.record.losses):
        raise Failed("the resumed fit computes other losses than the uninterrupted one.",
                     stage="resume")
