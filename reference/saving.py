"""Reading checkpoint files and ``LightningModule.load_from_checkpoint``.

Lightning's ``core/saving.py`` (``_load_from_checkpoint``, ``_load_state``) and
``TorchCheckpointIO.load_checkpoint``: load the file, merge the saved ``hyper_parameters`` with
the keyword arguments (these win), build the class, call ``configure_model`` when overridden,
then ``on_load_checkpoint``, then ``load_state_dict``.
"""

import inspect
import os

import torch

from .data import is_overridden

__all__ = ["HPARAMS_KEY", "HPARAMS_NAME_KEY", "ModelIO", "load_checkpoint_file"]

HPARAMS_KEY = "hyper_parameters"
HPARAMS_NAME_KEY = "hparams_name"


def load_checkpoint_file(path, map_location=None, weights_only=None):
    """``torch.load`` a checkpoint; a missing file raises Lightning's FileNotFoundError.

    ``weights_only=None`` leaves the choice to torch (``True`` from torch 2.6), as Lightning 2.6
    does: a checkpoint holding objects other than tensors and primitives then fails to unpickle.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Checkpoint file not found: {path}")
    return torch.load(path, map_location=map_location, weights_only=weights_only)


class _RestrictedClassmethod:
    """A classmethod that refuses to run on an instance (Lightning 2.1+)."""

    def __init__(self, method):
        self.method, self.name = method, method.__name__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner):
        if instance is not None:
            raise TypeError(
                f"The classmethod `{owner.__name__}.{self.name}` cannot be called on an"
                " instance. Please call it on the class type and make sure the return value is"
                " used."
            )
        return self.method.__get__(owner, owner)


def _load_from_checkpoint(cls, checkpoint_path, map_location=None, hparams_file=None,
                          strict=None, weights_only=None, **kwargs):  # fmt: skip
    """Build a ``cls`` from a checkpoint: its saved hyperparameters (``kwargs`` win), its weights.

    Args:
        checkpoint_path: the checkpoint file.
        map_location: passed to ``torch.load`` (default: keep CPU storages where they are).
        hparams_file: not supported by the reference (Lightning reads .yaml/.csv files).
        strict: whether the state dict must match exactly (default: ``cls.strict_loading``).
        weights_only: passed to ``torch.load`` (``None``: torch's default).
        kwargs: init arguments that replace the saved hyperparameters.
    """
    if hparams_file is not None:
        from .errors import unsupported

        raise unsupported("`load_from_checkpoint(hparams_file=...)`", "it reads no hparams files")
    location = map_location or (lambda storage, location: storage)
    checkpoint = load_checkpoint_file(checkpoint_path, location, weights_only)
    checkpoint.setdefault(HPARAMS_KEY, {})
    checkpoint[HPARAMS_KEY].update(kwargs)
    model = _load_state(cls, checkpoint, strict, kwargs)
    tensors = (t for t in checkpoint["state_dict"].values() if isinstance(t, torch.Tensor))
    first = next(tensors, None)
    # the model goes where its (mapped) weights are
    return model if first is None else model.to(first.device)


def _init_kwargs(cls, checkpoint, new_kwargs):
    """The saved hyperparameters updated by ``new_kwargs``, filtered to what ``__init__`` takes."""
    parameters = inspect.signature(cls.__init__).parameters
    kinds = {p.kind for p in parameters.values()}
    names = [
        name for name, p in list(parameters.items())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]  # fmt: skip
    loaded = dict(checkpoint.get(HPARAMS_KEY, {}))
    args_name = checkpoint.get(HPARAMS_NAME_KEY)
    if args_name and args_name in names:
        loaded = {args_name: loaded}  # hparams saved from one config object
    kwargs = {**loaded, **new_kwargs}
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        kwargs = {key: value for key, value in kwargs.items() if key in names}
    return kwargs


def _load_state(cls, checkpoint, strict, new_kwargs):
    model = cls(**_init_kwargs(cls, checkpoint, new_kwargs))
    if model._strict_loading is not None and strict is not None and strict != model.strict_loading:
        raise ValueError(
            f"You set `.load_from_checkpoint(..., strict={strict!r})` which is in conflict with"
            f" `{cls.__name__}.strict_loading={model.strict_loading!r}. Please set the same value"
            " for both of them."
        )
    from .module import LightningModule

    if is_overridden("configure_model", model, LightningModule):
        model.configure_model()
    model.on_load_checkpoint(checkpoint)
    strict = model.strict_loading if strict is None else strict
    model.load_state_dict(checkpoint["state_dict"], strict=strict)
    return model


class ModelIO:
    """``load_from_checkpoint`` and ``strict_loading``, mixed into ``LightningModule``."""

    _strict_loading = None
    load_from_checkpoint = _RestrictedClassmethod(_load_from_checkpoint)

    @property
    def strict_loading(self):
        """Whether checkpoints must match the state dict exactly (default ``True``)."""
        return True if self._strict_loading is None else self._strict_loading

    @strict_loading.setter
    def strict_loading(self, strict):
        self._strict_loading = strict
