"""LOG: which hook a ``self.log`` call counts for, where one hook runs inside another.

Found by differential testing (tests/test_differential.py) against Lightning 2.6.6.
"""

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._manual import manual_module, manual_step

MODULE = "lightning/pytorch/core/module.py"


def _logs_x(value):
    """A ``backward`` that logs ``x`` for the epoch, then back-propagates."""

    def backward(self, loss, *args, **kwargs):
        self.log("x", value, on_epoch=True)
        loss.backward(*args, **kwargs)

    return backward


@clause(
    "LOG-053",
    "In manual optimization, self.log in backward counts as training_step's: one metric per name.",
    source=f"{MODULE}::LightningModule.manual_backward",
)
@requires("logging", "manual_optimization")
def test_manual_backward_logs_as_training_step(target):
    # Note: manual_backward calls backward directly, not as a hook, so the key is
    # "training_step.x" for both calls: the epoch value is the mean of 1 and 3 over two batches.
    def training_step(self, batch, batch_idx):
        self.log("x", 1.0, on_epoch=True)
        return manual_step(self, batch, batch_idx)  # manual_backward runs backward in here

    module = manual_module(target, training_step=training_step,
                           overrides={"backward": _logs_x(3.0)})
    run = target.fit(module, max_epochs=1, limit_train_batches=2, limit_val_batches=0)

    metrics = run.trainer.callback_metrics
    assert (3.0, pytest.approx(2.0)) == (metrics["x_step"].item(), metrics["x_epoch"].item())
