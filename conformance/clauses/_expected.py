"""Expected hook sequences, in call-entry order, built the way Lightning's own
``tests/tests_pytorch/models/test_hooks.py`` builds them: small blocks joined in order.

Names are ``Owner.hook``: ``Module``, ``Callback`` (the recording callback),
``DataModule``. Blocks that changed between Lightning versions take the clause's
``contract`` and ask it about the named change (see ``_contract.CHANGES``).
"""

from __future__ import annotations

from lightning_conformance.adapters.trace import HookSequence

__all__ = [
    "both",
    "eval_loop",
    "fit_end",
    "fit_start",
    "eval_zero_grad",
    "legacy_epoch_end",
    "predict_loop",
    "prepare_data",
    "seq",
    "sharded_model",
    "train_batch",
    "train_data_and_mode",
    "train_mode_restored",
    "transfer",
]


def seq(*blocks) -> HookSequence:
    """Join blocks (lists of names) into one expected sequence."""
    return HookSequence(name for block in blocks for name in block)


def both(hook: str, callback: bool = True) -> list[str]:
    """A hook called on the callbacks first, then on the module."""
    return ([f"Callback.{hook}"] if callback else []) + [f"Module.{hook}"]


def transfer() -> list[str]:
    return ["Module.on_before_batch_transfer", "Module.transfer_batch_to_device",
            "Module.on_after_batch_transfer"]


def fit_start(contract, *, callback: bool = True, datamodule: bool = False) -> list[str]:
    """From ``configure_callbacks`` to the stage's ``zero_grad`` (no overridden extras)."""
    setup = (["DataModule.setup"] if datamodule else []) + both("setup", callback)
    return seq(
        ["Module.configure_callbacks"],
        prepare_data(contract, datamodule=datamodule),
        setup,
        sharded_model(contract),
        ["Module.configure_optimizers"],
        both("on_fit_start", callback),
        ["Module.zero_grad"] if contract.has("run_stage_zero_grad") else [],
    )


def prepare_data(contract, *, datamodule: bool = False) -> list[str]:
    """prepare_data calls of a stage whose module and datamodule do not override it."""
    if contract.has("prepare_data_only_if_overridden"):
        return []
    return (["DataModule.prepare_data"] if datamodule else []) + ["Module.prepare_data"]


def sharded_model(contract) -> list[str]:
    """Before configure_model existed, configure_sharded_model ran after setup every time."""
    return [] if contract.has("configure_model_hook") else ["Module.configure_sharded_model"]


def eval_zero_grad(contract, *, in_fit: bool) -> tuple[list[str], list[str]]:
    """zero_grad calls (before the loop, after entering eval mode) of one evaluation loop."""
    if contract.has("run_stage_zero_grad"):
        before = ["Module.on_validation_model_zero_grad", "Module.zero_grad"] if in_fit else []
        return before, []
    return [], ["Module.zero_grad"]


def fit_end(*, callback: bool = True, datamodule: bool = False) -> list[str]:
    teardown = (["DataModule.teardown"] if datamodule else []) + both("teardown", callback)
    return seq(both("on_train_end", callback), both("on_fit_end", callback), teardown)


def train_data_and_mode(contract) -> list[str]:
    """train_dataloader and the fit loop's own train() call (gone since 2.2), in contract order."""
    train = [] if contract.has("eval_mode_restored_without_train_call") else ["Module.train"]
    if contract.has("train_dataloader_before_train_mode"):
        return ["Module.train_dataloader", *train]
    return [*train, "Module.train_dataloader"]


def train_batch(*, callback: bool = True, zero_grad: bool = True, step: bool = True,
                scheduler: bool = False) -> list[str]:
    """One automatic-optimization batch; the closure runs inside ``optimizer_step``."""
    closure = ["Module.training_step"]
    if zero_grad:
        closure += [*both("on_before_zero_grad", callback), "Module.optimizer_zero_grad"]
    closure += [*both("on_before_backward", callback), "Module.backward",
                *both("on_after_backward", callback)]
    if step:
        closure = ["Module.optimizer_step", *closure, *both("on_before_optimizer_step", callback),
                   "Module.configure_gradient_clipping", "Module.clip_gradients"]
    return seq(
        transfer(),
        both("on_train_batch_start", callback),
        closure,
        ["Module.lr_scheduler_step"] if scheduler else [],
        both("on_train_batch_end", callback),
    )


def eval_loop(contract, noun: str, batches: int, *, callback: bool = True,
              dataloader: bool = True, in_fit: bool = False) -> list[str]:
    """One evaluation loop (``noun`` is validation or test) with its mode hooks."""
    loader = "val_dataloader" if noun == "validation" else f"{noun}_dataloader"
    batch = seq(transfer(), both(f"on_{noun}_batch_start", callback), [f"Module.{noun}_step"],
                both(f"on_{noun}_batch_end", callback))
    before, after_eval = eval_zero_grad(contract, in_fit=in_fit)
    return seq(
        before,
        [f"Module.{loader}"] if dataloader else [],
        [f"Module.on_{noun}_model_eval", "Module.train"],
        after_eval,
        both(f"on_{noun}_start", callback),
        both(f"on_{noun}_epoch_start", callback),
        batch * batches,
        legacy_epoch_end(contract, noun),
        both(f"on_{noun}_epoch_end", callback),
        both(f"on_{noun}_end", callback),
        train_mode_restored(contract, f"on_{noun}_model_train"),
    )


def legacy_epoch_end(contract, noun: str) -> list[str]:
    """Before 2.0 every evaluation epoch ended with ``{noun}_epoch_end``, overridden or not."""
    return [] if contract.has("epoch_end_hooks_removed") else [f"Module.{noun}_epoch_end"]


def train_mode_restored(contract, hook: str) -> list[str]:
    """What follows an evaluation loop whose module does not override ``hook``."""
    if contract.has("eval_mode_restored_without_train_call"):
        return []
    return [f"Module.{hook}", "Module.train"]


def predict_loop(contract, batches: int, *, callback: bool = True) -> list[str]:
    batch = seq(transfer(), both("on_predict_batch_start", callback), ["Module.predict_step"],
                both("on_predict_batch_end", callback))
    return seq(
        ["Module.predict_dataloader", "Module.on_predict_model_eval", "Module.train"],
        eval_zero_grad(contract, in_fit=False)[1],
        both("on_predict_start", callback),
        both("on_predict_epoch_start", callback),
        batch * batches,
        both("on_predict_epoch_end", callback),
        both("on_predict_end", callback),
    )
