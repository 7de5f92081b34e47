"""CKPT: checkpoints written by other releases load and resume on the target under test.

Each clause takes one shipped file from ``conformance/data/checkpoints/`` (made by
``python -m conformance.checkpoints generate`` under its writer: one epoch of a tiny module,
saved after fit) and checks it against the sidecar written beside it. The clause results per
writer are the cross-version matrix: writer (the clause) x loader (the target) -> pass or fail.
"""

import shutil

from conformance import clause, requires
from conformance.checkpoints import expected, shipped, tiny_module_class, weights_checksum

LOADING_DOC = "https://lightning.ai/docs/pytorch/stable/common/checkpointing_basic.html"
MIGRATION = "lightning/pytorch/utilities/migration/utils.py::_pl_migrate_checkpoint"


def _load_and_resume(target, writer: str, version: str):
    """load_from_checkpoint gives the sidecar's weights and hparams; fit resumes for one epoch."""
    source = shipped(writer, version)
    want = expected(source)
    path = target.root / source.name  # a copy: the shipped file stays untouched
    shutil.copyfile(source, path)
    cls = tiny_module_class(target.pl)

    model = cls.load_from_checkpoint(str(path))
    assert want["weights_sha256"] == weights_checksum(model.state_dict())
    assert want["hparams"] == dict(model.hparams)

    seen = []

    def on_train_start(self):
        lr = self.trainer.optimizers[0].param_groups[0]["lr"]
        seen.append((self.trainer.current_epoch, self.trainer.global_step, lr))

    resumed = type("Resumed", (cls,), {"on_train_start": on_train_start})()
    run = target.fit(resumed, ckpt_path=str(path), max_epochs=want["epoch"] + 1)
    assert [(want["epoch"], want["global_step"], want["lr"])] == seen
    # one more epoch of the writer's 2 batches
    assert (want["epoch"] + 1, want["global_step"] + 2) == (
        run.trainer.current_epoch, run.trainer.global_step)


@clause(
    "CKPT-043",
    "A checkpoint written by the reference trainer loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/checkpoints.py",
)
@requires("checkpoint")
def test_reference_checkpoint(target):
    _load_and_resume(target, "reference", "0.1.0")


@clause(
    "CKPT-044",
    "A checkpoint written by lightning 2.6.6 loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/checkpoints.py",
)
@requires("checkpoint")
def test_lightning_2_6_checkpoint(target):
    _load_and_resume(target, "lightning", "2.6.6")


@clause(
    "CKPT-045",
    "A checkpoint written by pytorch_lightning 2.0.9 loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/checkpoints.py",
)
@requires("checkpoint")
def test_pytorch_lightning_2_0_checkpoint(target):
    _load_and_resume(target, "pytorch_lightning", "2.0.9.post0")


@clause(
    "CKPT-046",
    "A checkpoint written by pytorch_lightning 1.9.5 is migrated, then loads and resumes.",
    source=f"{MIGRATION}; conformance/checkpoints.py",
)
@requires("checkpoint")
def test_pytorch_lightning_1_9_checkpoint(target):
    # 2.0 renamed the fit loop's progress keys (the batch and optimizer loops were removed): a
    # 1.9 file resumes only through that migration (the reference's: reference/migration.py).
    _load_and_resume(target, "pytorch_lightning", "1.9.5")
