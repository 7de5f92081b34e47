"""The Trainer's callback list: the default ModelCheckpoint, configure_callbacks, ordering."""

import logging
from collections.abc import Sequence

from .callback import Callback
from .callbacks import Checkpoint, ModelCheckpoint
from .data import is_overridden
from .errors import MisconfigurationException

__all__ = ["attach_model_callbacks", "init_callbacks"]

log = logging.getLogger(__name__)


def init_callbacks(callbacks, enable_checkpointing):
    """The Trainer's first callbacks: the user's, and a ModelCheckpoint when checkpointing is on."""
    callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks or [])
    if any(isinstance(callback, Checkpoint) for callback in callbacks):
        if not enable_checkpointing:
            raise MisconfigurationException(
                "Trainer was configured with `enable_checkpointing=False` but found"
                " `ModelCheckpoint` in callbacks list."
            )
    elif enable_checkpointing:
        callbacks.append(ModelCheckpoint())
    _check_state_keys(callbacks)
    return reorder(callbacks)


def attach_model_callbacks(trainer):
    """Call ``configure_callbacks``; its callbacks replace the Trainer's of the same type."""
    model_callbacks = trainer._call_module("configure_callbacks")
    if not model_callbacks:
        return
    if not isinstance(model_callbacks, Sequence):
        model_callbacks = [model_callbacks]
    model_types = {type(callback) for callback in model_callbacks}
    # an unmodified Callback instance is never replaced, as in Lightning
    trainer_types = {type(callback) for callback in trainer.callbacks} - {Callback}
    # Note: Lightning stops at the first matching Trainer type per model type (in set order); the
    # reference replaces every Trainer type that a model callback's type derives from.
    overridden = {
        kind
        for kind in trainer_types
        if any(issubclass(model_type, kind) for model_type in model_types)
    }
    if overridden:
        log.info(
            "The following callbacks returned in `LightningModule.configure_callbacks` will"
            " override existing callbacks passed to Trainer:"
            f" {', '.join(sorted(kind.__name__ for kind in overridden))}"
        )
    kept = [callback for callback in trainer.callbacks if type(callback) not in overridden]
    trainer.callbacks = reorder(kept + list(model_callbacks))


def reorder(callbacks):
    """Checkpoint callbacks go last (keeping their order), so they see everything the others did."""
    # Note: Lightning also moves its tuner callbacks first; the reference has none.
    others = [callback for callback in callbacks if not isinstance(callback, Checkpoint)]
    return others + [callback for callback in callbacks if isinstance(callback, Checkpoint)]


def _check_state_keys(callbacks):
    seen = set()
    for callback in callbacks:
        if not is_overridden("state_dict", callback, Callback):
            continue
        if callback.state_key in seen:
            name = type(callback).__name__
            raise RuntimeError(
                f"Found more than one stateful callback of type `{name}`. In the current"
                " configuration, this callback does not support being saved alongside other"
                f" instances of the same type. Please consult the documentation of `{name}`"
                " regarding valid settings for the callback state to be checkpointable. HINT: The"
                " `callback.state_key` must be unique among all callbacks in the Trainer."
            )
        seen.add(callback.state_key)
