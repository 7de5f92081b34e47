"""CKPT: checkpoints written by other releases load and resume on the target under test.

Each clause takes one shipped file from ``conformance/crossversion/data/checkpoints/`` (made by
``python -m lightning_conformance.crossversion generate`` under its writer: one epoch of a tiny module,
saved after fit) and checks it against the sidecar written beside it. The clause results per
writer are the cross-version matrix: writer (the clause) x loader (the target) -> pass or fail.
"""

import re
import shutil

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.crossversion.generate import (
    expected,
    shipped,
    tiny_module_class,
    weights_checksum,
)

LOADING_DOC = "https://lightning.ai/docs/pytorch/stable/common/checkpointing_basic.html"
MIGRATION = "lightning/pytorch/utilities/migration/utils.py::_pl_migrate_checkpoint"
# What 1.9 says of a checkpoint written by a later release (it reads it all the same).
NEWER = "which is newer than your current Lightning version"


def _load_and_resume(target, writer: str, version: str, *, steps_restored: bool = True):
    """load_from_checkpoint gives the sidecar's weights and hparams; fit resumes for one epoch.

    ``steps_restored=False`` is a 1.9 loader reading a 2.x file (change
    "loop_state_keys_flattened"): it warns that the file is newer and resumes at global_step 0.
    """
    source = shipped(writer, version)
    want = expected(source)
    path = target.root / source.name  # a copy: the shipped file stays untouched
    shutil.copyfile(source, path)
    cls = tiny_module_class(target.pl)

    if steps_restored:
        model = cls.load_from_checkpoint(str(path))
    else:
        with pytest.warns(UserWarning, match=re.escape(NEWER)):
            model = cls.load_from_checkpoint(str(path))
    assert want["weights_sha256"] == weights_checksum(model.state_dict())
    assert want["hparams"] == dict(model.hparams)

    seen = []

    def on_train_start(self):
        lr = self.trainer.optimizers[0].param_groups[0]["lr"]
        seen.append((self.trainer.current_epoch, self.trainer.global_step, lr))

    resumed = type("Resumed", (cls,), {"on_train_start": on_train_start})()
    run = target.fit(resumed, ckpt_path=str(path), max_epochs=want["epoch"] + 1)
    step = want["global_step"] if steps_restored else 0
    assert [(want["epoch"], step, want["lr"])] == seen
    # one more epoch of the writer's 2 batches
    assert (want["epoch"] + 1, step + 2) == (run.trainer.current_epoch, run.trainer.global_step)


@clause(
    "CKPT-043",
    "A checkpoint written by the reference trainer loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/crossversion/generate.py",
    changes=("loop_state_keys_flattened",),
)
@requires("checkpoint")
def test_reference_checkpoint(target, contract):
    # the reference writes the 2.x layout (and names 2.6.6 as the file's Lightning version)
    _load_and_resume(target, "reference", "0.1.0",
                     steps_restored=contract.has("loop_state_keys_flattened"))


@clause(
    "CKPT-044",
    "A checkpoint written by lightning 2.6.6 loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/crossversion/generate.py",
    changes=("loop_state_keys_flattened",),
)
@requires("checkpoint")
def test_lightning_2_6_checkpoint(target, contract):
    _load_and_resume(target, "lightning", "2.6.6",
                     steps_restored=contract.has("loop_state_keys_flattened"))


@clause(
    "CKPT-045",
    "A checkpoint written by pytorch_lightning 2.0.9 loads and resumes with its weights and counters.",
    source=f"{LOADING_DOC}; conformance/crossversion/generate.py",
    changes=("loop_state_keys_flattened",),
)
@requires("checkpoint")
def test_pytorch_lightning_2_0_checkpoint(target, contract):
    _load_and_resume(target, "pytorch_lightning", "2.0.9.post0",
                     steps_restored=contract.has("loop_state_keys_flattened"))


@clause(
    "CKPT-046",
    "A checkpoint written by pytorch_lightning 1.9.5 is migrated, then loads and resumes.",
    source=f"{MIGRATION}; conformance/crossversion/generate.py",
)
@requires("checkpoint")
def test_pytorch_lightning_1_9_checkpoint(target):
    # 2.0 renamed the fit loop's progress keys (the batch and optimizer loops were removed): a
    # 1.9 file resumes only through that migration (the reference's: reference/migration.py).
    _load_and_resume(target, "pytorch_lightning", "1.9.5")
