"""The Logger interface the Trainer sends metrics to (Lightning's ``loggers.Logger``)."""

from abc import ABC, abstractmethod

__all__ = ["Logger"]


class Logger(ABC):
    """Base class for experiment loggers: ``log_metrics`` and ``log_hyperparams`` are required."""

    @property
    @abstractmethod
    def name(self):
        """The experiment name."""

    @property
    @abstractmethod
    def version(self):
        """The experiment version."""

    @property
    def root_dir(self):
        return None

    @property
    def log_dir(self):
        return None

    @property
    def save_dir(self):
        return None

    @property
    def group_separator(self):
        return "/"

    @abstractmethod
    def log_metrics(self, metrics, step=None):
        """Record ``metrics`` (name -> float) at ``step``."""

    @abstractmethod
    def log_hyperparams(self, params, *args, **kwargs):
        """Record hyperparameters."""

    def log_graph(self, model, input_array=None):  # noqa: B027 (an optional hook)
        """Record the model graph (nothing by default)."""

    def save(self):  # noqa: B027 (an optional hook)
        """Save log data (nothing by default)."""

    def finalize(self, status):
        """Called when the run ends with ``status`` ("success", "failed", ...)."""
        self.save()

    def after_save_checkpoint(self, checkpoint_callback):  # noqa: B027 (an optional hook)
        """Called after a checkpoint callback saved a checkpoint."""
