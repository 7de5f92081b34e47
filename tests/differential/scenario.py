"""A differential scenario: trainer settings plus what the module does, as plain data.

Hypothesis builds these (``strategies.py``); ``run.py`` turns one into a module class and a
Trainer on any target. Every field is a value both the reference and Lightning 2.6.6 accept
with the same meaning (the generator keeps to that contract), so the two traces must agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Checkpointing", "LogCall", "ModelCheckpointing", "Optimization", "Scenario",
           "TrainerSettings"]


@dataclass(frozen=True)
class TrainerSettings:
    """Keyword arguments of ``Trainer(...)`` (the neutral ones are added by the adapter)."""

    max_epochs: int = 1
    max_steps: int = -1
    min_epochs: int | None = None
    min_steps: int | None = None
    limit_train_batches: int | float = 2
    limit_val_batches: int | float = 0
    val_check_interval: int | float | None = None
    check_val_every_n_epoch: int | None = 1
    num_sanity_val_steps: int = 0
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = None
    gradient_clip_algorithm: str | None = None
    log_every_n_steps: int = 1
    reload_dataloaders_every_n_epochs: int = 0

    def kwargs(self) -> dict:
        return {name: value for name, value in vars(self).items()
                if not (name.startswith("gradient_clip") and value is None)}


@dataclass(frozen=True)
class LogCall:
    """One ``self.log(name, value, ...)`` in ``hook``; the value counts the hook's calls.

    ``owner`` is ``"module"`` (the module's hook logs) or ``"callback"`` (a callback's hook calls
    ``pl_module.log``).
    """

    hook: str
    name: str
    owner: str = "module"
    on_step: bool | None = None
    on_epoch: bool | None = None
    prog_bar: bool = False
    logger: bool = True
    reduce_fx: str = "mean"
    batch_size: int | None = None
    as_tensor: bool = True


@dataclass(frozen=True)
class Optimization:
    """What ``configure_optimizers`` returns and who steps the optimizers.

    ``layout`` names the return format (see ``run.OPTIMIZER_LAYOUTS``); ``scheduler`` is None or
    a torch scheduler kind; ``interval``/``frequency`` go into a scheduler config dict where the
    layout has one. ``manual`` turns automatic optimization off; then ``optimizers`` may be 2.
    """

    layout: str = "optimizer"
    optimizer: str = "sgd"
    scheduler: str | None = None
    interval: str = "epoch"
    frequency: int = 1
    manual: bool = False
    optimizers: int = 1
    manual_scheduler_step: str | None = None  # manual: "batch" or "epoch" (self.lr_schedulers())
    manual_clip: bool = False  # manual: self.clip_gradients(...) before each step


@dataclass(frozen=True)
class Checkpointing:
    """Where ``trainer.save_checkpoint`` writes (a probe callback does it) and how to resume.

    ``at`` is ``("batch", epoch, batch_idx)``, ``("epoch_end", epoch)``, ``("validation_end",
    epoch)`` (the epoch's first in-fit validation) or ``("fit_end",)``.
    The resumed fit runs from the file with ``resume_epochs`` more epochs and, where max_steps
    is set, ``resume_steps`` more steps.
    """

    at: tuple
    resume: bool = True
    resume_epochs: int = 0
    resume_steps: int = 0


@dataclass(frozen=True)
class ModelCheckpointing:
    """A ``ModelCheckpoint`` in the Trainer's callbacks, with these arguments.

    ``monitor`` is None, ``"score"`` (logged by training_step at each step) or ``"val_score"``
    (logged by validation_step for the epoch); the scores go up and down, so the top-k changes.
    """

    monitor: str | None = None
    mode: str = "min"
    save_top_k: int = 1
    every_n_epochs: int | None = None
    every_n_train_steps: int | None = None
    save_last: bool | None = None
    save_on_train_epoch_end: bool | None = None

    def kwargs(self) -> dict:
        return {name: value for name, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class Scenario:
    """Everything one differential example runs: settings, module behaviour, checkpointing."""

    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    train_batches: int = 4  # length of the train dataloader (batches of 2 samples)
    val_batches: int = 3
    val_dataloaders: int = 1  # 2: validation_step takes dataloader_idx
    validation_step: bool = True
    training_step_returns: str = "tensor"  # "tensor", "dict", "dict_extra", "none_on_odd"
    optimization: Optimization = field(default_factory=Optimization)
    logs: tuple[LogCall, ...] = ()
    skip_rest_of_epoch_at: int | None = None  # on_train_batch_start returns -1 at this batch_idx
    stop_at_step: int | None = None  # training_step sets trainer.should_stop at this global_step
    checkpoint: Checkpointing | None = None
    model_checkpoint: ModelCheckpointing | None = None
    then_validate: bool = False
