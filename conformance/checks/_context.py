"""The context every check of one ``check_module`` call shares: the module, its namespace and
the few short runs the checks read (each computed once, on first use).

A run that raises keeps its error. The check that ``claims`` the error (by its message) fails
with it; every other check that needs that run is skipped with a pointer to that check.
Every run has a time limit (``_timeout``): a run that hangs ends with a ``RunTimeout``, which
no check claims, so the run's own check (``RUNNERS``) fails with where it hung.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightning_conformance.adapters import Target
from lightning_conformance.adapters.stage import NEUTRAL_SETTINGS
from lightning_conformance.checks._base import CheckInputError, Failed, Skipped, registered
from lightning_conformance.checks._probe import Record, probe, reseed_after
from lightning_conformance.checks._state import quiet, reseed, snapshot
from lightning_conformance.checks._target import derived_target, resolve
from lightning_conformance.checks._timeout import HINT, RunTimeout, run_timeout, time_limit

__all__ = ["EPOCHS", "LIMITS", "SEED", "Context", "Outcome"]

SEED = 0
EPOCHS = 2
LIMITS = {"limit_train_batches": 2, "limit_val_batches": 2, "limit_test_batches": 2,
          "limit_predict_batches": 2, "num_sanity_val_steps": 0}
# The check that fails when a run raises an error that no check claims.
RUNNERS = {"fit": "MOD-010", "validate": "MOD-011", "test": "MOD-012", "predict": "MOD-013",
           "half": "MOD-021", "resume": "MOD-024", "mixed": "MOD-028"}


@dataclass
class Outcome:
    """One run: the module it trained, the trainer, what the probe saw, or the error."""

    stage: str
    module: Any
    trainer: Any = None
    record: Record = field(default_factory=Record)
    error: BaseException | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    checkpoint: Path | None = None


def _as_factory(value):
    if value is None or callable(value):
        return value
    return lambda: value  # an instance (a datamodule): every run gets the same one


class Context:
    """The module under check, its namespace and the runs the checks share."""

    def __init__(self, factory: Any, *, datamodule: Any = None, target: str | Target | None = None,
                 ddp: int = 0, device: str = "cpu", root: Path,
                 fit_timeout: float | str | None = None):
        """``target``: a name of ``NAMES``, a loaded Target, or None for the Lightning that
        the module's class derives from. ``fit_timeout``: the time limit of each run in
        seconds (None: ``$LCK_FIT_TIMEOUT`` or the default; 0: none)."""
        self.fit_timeout = run_timeout(fit_timeout)
        if not callable(factory):
            raise CheckInputError(f"{factory!r} is neither a LightningModule class nor a "
                                  "zero-argument factory returning one")
        self.factory, self.datamodule_factory = factory, _as_factory(datamodule)
        self.datamodule_source = datamodule
        self.ddp, self.device, self.root = int(ddp or 0), device, root
        self.first = self.build()
        self.module_class = type(self.first)
        self.namespace = resolve(self.module_class,
                                 derived_target(self.module_class) if target is None else target)
        self.pl = self.namespace.pl
        self.results: dict = {}

    def build(self):
        """A new module from the factory, built after seeding (so every build is the same)."""
        reseed(SEED)
        try:
            with quiet():
                return self.factory()
        except Exception as error:
            name = getattr(self.factory, "__qualname__", repr(self.factory))
            raise CheckInputError(f"building the module with {name}() failed: "
                                  f"{type(error).__name__}: {error}") from None

    def datamodule(self):
        return self.datamodule_factory() if self.datamodule_factory else None

    def settings(self, **overrides) -> dict:
        """The Trainer settings of every run (also written into reproduction scripts)."""
        accelerator = "cuda" if self.device == "cuda" else "cpu"
        return {**NEUTRAL_SETTINGS, "accelerator": accelerator, "max_epochs": EPOCHS, **LIMITS,
                **overrides}

    def run(self, stage: str, verb: str, module=None, *, ckpt_path=None, stop_after_epoch=None,
            first_epoch=0, **overrides):
        """Run ``verb`` on a fresh (or the given) module; keep any error in the outcome."""
        module = module if module is not None else self.build()
        callback, record = probe(self.pl, SEED, stop_after_epoch, first_epoch)
        outcome = Outcome(stage, module, record=record, before=snapshot(module))
        kwargs: dict[str, Any] = {"ckpt_path": str(ckpt_path)} if ckpt_path else {}
        if verb in ("validate", "test"):
            kwargs["verbose"] = False  # no results table in the check's output
        if self.datamodule_factory:
            kwargs["datamodule"] = self.datamodule()
        undo = [reseed_after(owner, "train_dataloader", SEED)
                for owner in (module, kwargs.get("datamodule")) if owner is not None]
        try:
            with quiet(), time_limit(self.fit_timeout):
                outcome.trainer = self.pl.Trainer(
                    default_root_dir=str(self.root / stage), callbacks=[callback],
                    **self.settings(**overrides))
                reseed(SEED)
                getattr(outcome.trainer, verb)(module, **kwargs)
        except (Exception, RunTimeout) as error:  # the module may fail in any way: keep it
            outcome.error = error
        finally:
            for remove in undo:
                remove()
        outcome.after = snapshot(module)
        return outcome

    @functools.cached_property
    def fit(self) -> Outcome:
        return self.run("fit", "fit")

    @functools.cached_property
    def half(self) -> Outcome:
        """One epoch of the same fit, then a checkpoint: the first half of a resumed run."""
        outcome = self.run("half", "fit", stop_after_epoch=EPOCHS - 2)
        if outcome.error is None:
            outcome.checkpoint = self.root / "half.ckpt"
            try:
                with quiet(), time_limit(self.fit_timeout):
                    outcome.trainer.save_checkpoint(str(outcome.checkpoint))
            except (Exception, RunTimeout) as error:
                outcome.error = error
        return outcome

    @functools.cached_property
    def resume(self) -> Outcome:
        half = self.require("half", "MOD-024")
        return self.run("resume", "fit", ckpt_path=half.checkpoint, first_epoch=EPOCHS - 1)

    @functools.cached_property
    def mixed(self) -> Outcome:
        return self.run("mixed", "fit", precision="16-mixed")

    @functools.cached_property
    def validate(self) -> Outcome:
        return self.run("validate", "validate")

    @functools.cached_property
    def test(self) -> Outcome:
        return self.run("test", "test")

    @functools.cached_property
    def predict(self) -> Outcome:
        return self.run("predict", "predict")

    def require(self, stage: str, asking: str) -> Outcome:
        """The run ``stage``, or the outcome for check ``asking`` when that run failed."""
        if stage in ("half", "resume") and self.fit.error is not None:
            self.require("fit", asking)  # the shorter and the resumed fit fail like the fit
        if stage == "mixed" and isinstance(self.fit.error, RunTimeout):
            self.require("fit", asking)  # and hang like it: not another wait for the limit
        outcome = getattr(self, stage)
        error = outcome.error
        if error is None:
            return outcome
        owner = self.claimant(error)
        text = describe(error)
        if owner == asking or (owner is None and RUNNERS[stage] == asking):
            found = f"{error}; {HINT}." if isinstance(error, RunTimeout) else f"raised {text}"
            raise Failed(f"{_VERB[stage]} {found}", stage=_STAGE.get(stage, stage))
        reporter = owner or RUNNERS[stage]
        raise Skipped(f"{_VERB[stage]} did not complete ({reporter} reports it: {text})")

    def claimant(self, error: BaseException) -> str | None:
        if isinstance(error, RunTimeout):
            return None  # its message quotes the module's source, which no pattern is about
        for check in registered():
            if check.claims_error(self, error):
                return check.id
        return None

    def verdict(self, check_id: str) -> str:
        """The status of another check on this module (evaluated once)."""
        from lightning_conformance.checks._engine import evaluate

        check = next(c for c in registered() if c.id == check_id)
        return evaluate(self, check).status

    # Static facts about the module's class, shared by several checks.
    def overrides(self, name: str, obj=None, base=None) -> bool:
        """Whether the module (or ``obj``) defines ``name`` itself rather than inheriting it."""
        obj = self.first if obj is None else obj
        base = base or self.pl.LightningModule
        return getattr(type(obj), name, None) is not getattr(base, name, None)

    def user_classes(self) -> list[type]:
        """The module's classes below the namespace's LightningModule, most derived first."""
        root = self.namespace.root
        return [klass for klass in self.module_class.__mro__
                if issubclass(klass, self.pl.LightningModule)
                and klass.__module__.split(".")[0] not in _LIBRARIES
                and klass.__module__ != root and not klass.__module__.startswith(root + ".")]

    def user_methods(self) -> dict[str, Any]:
        """Methods the user's classes define, by name (the most derived definition)."""
        found = {}
        for klass in reversed(self.user_classes()):
            found.update({name: value for name, value in vars(klass).items()
                          if inspect.isfunction(value)})
        return found


_LIBRARIES = ("lightning", "pytorch_lightning", "lightning_fabric", "torch")
_VERB = {"fit": "trainer.fit", "half": "a one-epoch fit and save_checkpoint",
         "resume": "fit(ckpt_path=...)", "validate": "trainer.validate",
         "test": "trainer.test", "predict": "trainer.predict", "mixed": "mixed-precision fit"}
_STAGE = {"half": "checkpoint", "mixed": "mixed"}


def describe(error: BaseException) -> str:
    """One line: the error's type and its message, trimmed (a hang: where, in a few words)."""
    if isinstance(error, RunTimeout):
        return error.summary
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:400]}{'...' if len(text) > 400 else ''}"
