"""``save_hyperparameters`` and ``hparams``: the init arguments a checkpoint carries.

Lightning's ``core/mixins/hparams_mixin.py`` and ``utilities/parsing.py::save_hyperparameters``:
the arguments of the ``__init__`` that calls ``save_hyperparameters()`` (or the names, or the one
dict, it is given) become ``self.hparams``; checkpoints store them under ``hyper_parameters``
with the name ``hparams_name`` that ``load_from_checkpoint`` passes them back under.
"""

import copy
import inspect
import warnings

import torch

__all__ = ["AttributeDict", "HyperparametersMixin"]


_PRIMITIVES = (bool, int, float, str)  # rejected by name, as Lightning does


class AttributeDict(dict):
    """A dict whose keys can also be read and written as attributes (``hparams.lr``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as missing:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{key}'"
            ) from missing

    def __setattr__(self, key, value):
        self[key] = value


class HyperparametersMixin:
    """Gives a module or datamodule ``save_hyperparameters``, ``hparams``, ``hparams_initial``."""

    def save_hyperparameters(self, *args, ignore=None, frame=None, logger=True):
        """Store the caller's init arguments (or the names / the one object given) in ``hparams``.

        Args:
            args: nothing (all init arguments), argument names, or one dict of hyperparameters.
            ignore: argument names to leave out.
            frame: the frame to read the init arguments from (default: the caller's).
            logger: whether loggers receive the hyperparameters.
        """
        self._log_hyperparams = logger
        if len(args) == 1 and not isinstance(args[0], str) and not args[0]:
            return  # an empty container: nothing to save
        frame = frame or inspect.currentframe().f_back
        ignore = [ignore] if isinstance(ignore, str) else list(ignore or ())
        init_args = {k: v for k, v in _init_arguments(self, frame).items() if k not in ignore}
        objects = [arg for arg in args if not isinstance(arg, str)]
        if not args:
            hparams, name = init_args, "kwargs" if init_args else None
        elif len(objects) == 1:
            hparams = objects[0]
            names = [key for key, value in init_args.items() if value is hparams]
            name = names[0] if names else None
        else:
            hparams, name = {arg: init_args[arg] for arg in args if isinstance(arg, str)}, "kwargs"
        self._hparams_name = name
        self._set_hparams(hparams)
        for key, value in self._hparams.items():
            if isinstance(value, torch.nn.Module):
                warnings.warn(
                    f"Attribute {key!r} is an instance of `nn.Module` and is already saved during"
                    f" checkpointing. It is recommended to ignore them using"
                    f" `self.save_hyperparameters(ignore=[{key!r}])`.",
                    stacklevel=2,
                )
        self._hparams_initial = copy.deepcopy(self._hparams)

    def _set_hparams(self, hparams):
        if isinstance(hparams, _PRIMITIVES):
            raise ValueError(f"Primitives {_PRIMITIVES} are not allowed.")
        if not isinstance(hparams, dict):
            raise ValueError(f"Unsupported config type of {type(hparams)}.")
        self._hparams = AttributeDict(hparams)

    @property
    def hparams(self):
        """The saved hyperparameters (empty until ``save_hyperparameters`` is called)."""
        if not hasattr(self, "_hparams"):
            self._hparams = AttributeDict()
        return self._hparams

    @property
    def hparams_initial(self):
        """A copy of the hyperparameters as ``save_hyperparameters`` saved them."""
        if not hasattr(self, "_hparams_initial"):
            return AttributeDict()
        return copy.deepcopy(self._hparams_initial)


def _init_arguments(obj, frame):
    """The arguments of every ``__init__`` of ``obj`` on the stack; a subclass's values win.

    ``**kwargs`` are merged in; ``self``, ``*args`` and the ``__class__`` cell are left out.
    """
    frames = []
    while frame is not None and frame.f_code.co_name == "__init__":
        if frame.f_locals.get("self", None) is not obj:
            break
        frames.append(frame)
        frame = frame.f_back
    arguments = {}
    for init_frame in frames:  # from the caller outwards to the subclass's __init__
        arguments.update(_frame_arguments(init_frame))
    return arguments


def _frame_arguments(frame):
    code, local_vars = frame.f_code, frame.f_locals
    count = code.co_argcount + code.co_kwonlyargcount
    names = list(code.co_varnames[:count])[1:]  # without self
    arguments = {name: local_vars[name] for name in names if name in local_vars}
    if code.co_flags & inspect.CO_VARKEYWORDS:
        varkw = code.co_varnames[count + bool(code.co_flags & inspect.CO_VARARGS)]
        arguments.update(local_vars.get(varkw, {}))
    return arguments
