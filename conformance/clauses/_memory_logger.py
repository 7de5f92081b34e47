"""An in-memory logger on any target's ``pl.Logger``: the logger step axis made observable."""

from __future__ import annotations

__all__ = ["build_logger"]


def build_logger(pl):
    """A fresh logger that keeps every ``log_metrics`` and ``log_hyperparams`` call in order.

    ``logger.calls`` is a list of ``(metrics, step)`` exactly as the Trainer passed them;
    ``logger.floats()`` gives the same with every value turned into a Python float, which is
    what clauses compare (Lightning converts tensors to floats before calling a logger).
    """

    class MemoryLogger(pl.Logger):
        def __init__(self):
            super().__init__()
            self.calls = []
            self.hyperparams = []
            self.statuses = []

        @property
        def name(self):
            return "memory"

        @property
        def version(self):
            return 0

        def log_metrics(self, metrics, step=None):
            self.calls.append((dict(metrics), step))

        def log_hyperparams(self, params, *args, **kwargs):
            self.hyperparams.append(params)

        def finalize(self, status):
            self.statuses.append(status)

        def floats(self):
            return [({key: float(value) for key, value in metrics.items()}, step)
                    for metrics, step in self.calls]

        def keys(self):
            """Every metric name sent, in first-seen order."""
            return list(dict.fromkeys(key for metrics, _ in self.calls for key in metrics))

    return MemoryLogger()
