"""Hypothesis strategies for differential scenarios, kept inside the contract.

Every value drawn here is one that the reference and Lightning 2.6.6 accept with the same
meaning. Where the generator leaves something out on purpose, a comment says why (a known gap
of the reference, or behaviour the contract leaves open).
"""

from __future__ import annotations

from hypothesis import strategies as st

from lightning_conformance.clauses._logging import HOOK_LEVELS, MODULE_ONLY

from .scenario import (
    Checkpointing,
    LogCall,
    ModelCheckpointing,
    Optimization,
    Scenario,
    TrainerSettings,
)

__all__ = ["checkpointings", "log_calls", "model_checkpointings", "optimizations", "scenarios",
           "trainer_settings"]

# Hooks that only automatic optimization calls (a manual module steps its optimizers itself).
AUTOMATIC_ONLY = ("optimizer_step", "optimizer_zero_grad", "on_before_zero_grad",
                  "configure_gradient_clipping")
# The fit hooks a module may log from (the test_* hooks never run in fit or validate).
LOGGING_HOOKS = tuple(hook for hook in HOOK_LEVELS if "test" not in hook)

NO_SCHEDULER_LAYOUTS = ("optimizer", "list", "tuple", "dict")
SCHEDULER_LAYOUTS = ("lists", "lists_config", "dict_scheduler", "dict_config", "list_of_dicts")
# ReduceLROnPlateau needs a monitor: only formats that carry one
PLATEAU_LAYOUTS = ("lists_config", "dict_config", "list_of_dicts", "dict_monitor")
# formats that hold several optimizers (manual optimization only)
MULTI_LAYOUTS = ("list", "tuple", "lists", "lists_config", "list_of_dicts")
# formats whose scheduler is bare: the config's interval and frequency are Lightning's defaults
_BARE = ("lists", "dict_scheduler", "dict_monitor")

# 1 (an int) is one batch, 1.0 (a float) the whole dataloader
LIMITS = (1.0, 0.5, 0.25, 1, 2, 3)


def _batches(limit, length: int) -> int:
    """The batches a limit leaves of a dataloader of ``length`` batches (Lightning's rule)."""
    return min(limit, length) if isinstance(limit, int) else int(length * limit)


def _limits(length: int):
    # Note: a fraction that leaves no batch of a non-empty dataloader makes both targets raise
    # (a clause covers it); the generator only picks limits that leave at least one batch.
    return st.sampled_from([limit for limit in LIMITS if _batches(limit, length) >= 1])


@st.composite
def trainer_settings(draw, *, manual: bool, train_batches: int,
                     val_batches: int) -> TrainerSettings:
    """Loop limits, validation scheduling, accumulation and clipping."""
    limit_train = draw(st.one_of(_limits(train_batches), st.just(0)))
    batches = max(1, _batches(limit_train, train_batches))
    check_every = draw(st.sampled_from((1, 1, 2, None)))
    # Note: an int val_check_interval above the epoch's batches raises on both targets, and a
    # float one needs an epoch rule (check_val_every_n_epoch=None raises): clauses cover both.
    ints = tuple(range(1, batches + 1))
    interval = draw(st.sampled_from(ints if check_every is None else
                                    (None, None, 1.0, 0.5, 0.25, *ints)))
    clip = None if manual else draw(st.sampled_from((None, None, 0.5)))
    max_epochs = draw(st.integers(1, 3))
    return TrainerSettings(
        max_epochs=max_epochs,
        max_steps=draw(st.sampled_from((-1, -1, -1, 1, 2, 3, 5))),
        min_epochs=draw(st.sampled_from((None, None, None, 1, max_epochs))),
        min_steps=draw(st.sampled_from((None, None, None, 1, 3))),
        limit_train_batches=limit_train,
        limit_val_batches=draw(st.one_of(_limits(val_batches), st.just(0))),
        val_check_interval=interval,
        check_val_every_n_epoch=check_every,
        num_sanity_val_steps=draw(st.sampled_from((0, 0, 1, 2, -1))),
        # Note: manual optimization rejects accumulation and Trainer clipping (MAN-011/012)
        accumulate_grad_batches=1 if manual else draw(st.sampled_from((1, 1, 2, 3))),
        gradient_clip_val=clip,
        gradient_clip_algorithm=None if clip is None else draw(
            st.sampled_from((None, "norm", "value"))),
        log_every_n_steps=draw(st.sampled_from((1, 2, 3, 50))),
        reload_dataloaders_every_n_epochs=draw(st.sampled_from((0, 0, 0, 1, 2))),
    )


@st.composite
def optimizations(draw, *, manual: bool) -> Optimization:
    """A configure_optimizers format, optimizer and scheduler; who steps them."""
    optimizers = draw(st.sampled_from((1, 2))) if manual else 1
    # Note: in manual optimization the module steps ReduceLROnPlateau itself with a metric;
    # the kit's manual module steps without one, so plateau stays automatic-only.
    kinds = ("step", "exponential", "multistep") + (() if manual else ("plateau",))
    scheduler = draw(st.sampled_from((None, *kinds)))
    if scheduler is None:
        layouts = MULTI_LAYOUTS[:2] if optimizers == 2 else NO_SCHEDULER_LAYOUTS
        layouts += () if manual else ("none",)
    elif scheduler == "plateau":
        layouts = PLATEAU_LAYOUTS
    else:
        layouts = MULTI_LAYOUTS[2:] if optimizers == 2 else SCHEDULER_LAYOUTS
    layout = draw(st.sampled_from(layouts))
    bare = layout in _BARE
    return Optimization(
        layout=layout,
        optimizer=draw(st.sampled_from(("sgd", "momentum", "adam"))),
        scheduler=scheduler,
        interval="epoch" if bare else draw(st.sampled_from(("epoch", "step"))),
        frequency=1 if bare else draw(st.sampled_from((1, 2))),
        manual=manual,
        optimizers=optimizers,
        manual_scheduler_step=draw(st.sampled_from(("batch", "epoch")))
        if manual and scheduler else None,
        manual_clip=manual and draw(st.booleans()),
    )


@st.composite
def _levels(draw, hook):
    """``(on_step, on_epoch)`` the hook allows, None meaning its default."""
    levels = HOOK_LEVELS[hook]
    on_step = draw(st.sampled_from((None, *levels.on_step)))
    on_epoch = draw(st.sampled_from((None, *levels.on_epoch)))
    resolved = (levels.default[0] if on_step is None else on_step,
                levels.default[1] if on_epoch is None else on_epoch)
    # Note: logging at neither level raises on both targets (LOG-022): not generated
    return (on_step, on_epoch) if any(resolved) else (on_step, True)


# Note: with two val dataloaders Lightning requires a dataloader_idx parameter on these module
# hooks; the generated logging wrappers take *args, so they log elsewhere then.
_EVAL_BATCH_HOOKS = ("on_validation_batch_start", "on_validation_batch_end")


@st.composite
def log_calls(draw, *, manual: bool, val_dataloaders: int = 1) -> tuple[LogCall, ...]:
    """Up to four ``self.log`` calls, each in one hook with options the hook allows."""
    called = [h for h in LOGGING_HOOKS if not (manual and h in AUTOMATIC_ONLY)]
    hooks = {
        "module": [h for h in called if not (val_dataloaders > 1 and h in _EVAL_BATCH_HOOKS)],
        "callback": [h for h in called if h not in MODULE_ONLY],
    }
    calls = []
    for index in range(draw(st.integers(0, 4))):
        owner = draw(st.sampled_from(("module", "module", "callback")))
        hook = draw(st.sampled_from(hooks[owner]))
        on_step, on_epoch = draw(_levels(hook))
        calls.append(LogCall(
            hook=hook, name=f"v{index}", owner=owner, on_step=on_step, on_epoch=on_epoch,
            prog_bar=draw(st.booleans()), logger=draw(st.booleans()),
            reduce_fx=draw(st.sampled_from(("mean", "sum", "max", "min"))),
            batch_size=draw(st.sampled_from((None, 1, 3))), as_tensor=draw(st.booleans()),
        ))
    return tuple(calls)


@st.composite
def checkpointings(draw, *, max_epochs: int, train_batches: int) -> Checkpointing | None:
    """None, or a save point inside a batch, at an epoch end or after fit; maybe a resume."""
    at = draw(st.one_of(
        st.none(),
        st.tuples(st.just("batch"), st.integers(0, max_epochs - 1),
                  st.integers(0, train_batches - 1)),
        st.tuples(st.sampled_from(("epoch_end", "validation_end")), st.integers(0, max_epochs - 1)),
        st.just(("fit_end",)),
    ))
    if at is None:
        return None
    return Checkpointing(at=at, resume=draw(st.booleans()), resume_epochs=draw(st.integers(0, 1)),
                         resume_steps=draw(st.integers(0, 2)))


@st.composite
def model_checkpointings(draw, *, validates: bool) -> ModelCheckpointing | None:
    """None, or a ModelCheckpoint triggered by epochs or steps, with or without a monitor."""
    if draw(st.booleans()):
        return None
    monitors = (None, "score") + (("val_score",) if validates else ())
    monitor = draw(st.sampled_from(monitors))
    # Note: a step trigger with a monitor defers its save to validation end when the monitored
    # key is missing or stale; the reference does not (KNOWN_GAPS), so step triggers go without
    # a monitor.
    by_steps = monitor is None and draw(st.booleans())
    return ModelCheckpointing(
        monitor=monitor,
        mode=draw(st.sampled_from(("min", "max"))),
        save_top_k=draw(st.sampled_from((1, -1) if monitor is None else (1, 2, -1))),
        every_n_epochs=None if by_steps else draw(st.sampled_from((None, 1, 2))),
        every_n_train_steps=draw(st.integers(1, 3)) if by_steps else None,
        save_last=draw(st.sampled_from((None, True))),
        save_on_train_epoch_end=draw(st.sampled_from((None, None, True, False))),
    )


@st.composite
def scenarios(draw) -> Scenario:
    """One differential example: settings, module behaviour, checkpointing."""
    manual = draw(st.booleans())
    train_batches, val_batches = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    val_dataloaders = draw(st.sampled_from((1, 1, 1, 2)))
    trainer = draw(trainer_settings(manual=manual, train_batches=train_batches,
                                    val_batches=val_batches))
    validation_step = draw(st.sampled_from((True, True, True, False)))
    returns = ("tensor", "dict", "dict_extra", "none_on_odd")
    return Scenario(
        trainer=trainer,
        train_batches=train_batches,
        val_batches=val_batches,
        validation_step=validation_step,
        training_step_returns=draw(st.sampled_from(returns)),
        optimization=draw(optimizations(manual=manual)),
        val_dataloaders=val_dataloaders,
        logs=draw(log_calls(manual=manual, val_dataloaders=val_dataloaders)),
        skip_rest_of_epoch_at=draw(st.sampled_from((None, None, None, 0, 1, 2))),
        stop_at_step=draw(st.sampled_from((None, None, None, 0, 1, 3))),
        checkpoint=draw(checkpointings(max_epochs=trainer.max_epochs,
                                       train_batches=train_batches)),
        model_checkpoint=draw(model_checkpointings(
            validates=validation_step and trainer.limit_val_batches != 0)),
        then_validate=validation_step and draw(st.booleans()),
    )
