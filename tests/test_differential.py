"""Differential testing: Hypothesis scenarios run on the reference and on Lightning 2.6.6.

Each scenario (``tests/differential/strategies.py``) runs on both targets and everything they
let a user observe is compared: every hook call with its arguments, what a callback reads in its
hooks (global_step, current_epoch, learning rates, the three metrics dicts), the logger's
``log_metrics`` calls, the end state, the checkpoint's contents, and a fit resumed from it. A
difference fails with Hypothesis' shrunk scenario and the first divergent event.

Profiles: ``ci`` (the default: derandomised, 25 examples, what plain ``python -m pytest`` runs)
and ``thorough`` (500 random examples), chosen with ``LCK_DIFFERENTIAL_PROFILE=thorough``
(``nox -s differential``).
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.differential.compare import first_divergence
from tests.differential.run import OutsideReference, run_scenario
from tests.differential.scenario import (
    Checkpointing,
    LogCall,
    ModelCheckpointing,
    Optimization,
    Scenario,
    TrainerSettings,
)
from tests.differential.strategies import scenarios

pytest.importorskip("lightning")

PROFILE_VARIABLE = "LCK_DIFFERENTIAL_PROFILE"
_COMMON = {"deadline": None, "print_blob": True, "database": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", derandomize=True, max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
PROFILE = os.environ.get(PROFILE_VARIABLE, "ci")

# The smallest scenarios that showed each difference found so far (see
# conformance/CONTRACT_CHANGELOG.md); they run on every profile.
_MID_EPOCH_SANITY = Scenario(
    trainer=TrainerSettings(max_epochs=2, limit_train_batches=3, limit_val_batches=2,
                            num_sanity_val_steps=1),
    checkpoint=Checkpointing(at=("batch", 0, 1)),
)
_LAST_BATCH = Scenario(
    trainer=TrainerSettings(max_epochs=2, limit_train_batches=2), train_batches=2,
    checkpoint=Checkpointing(at=("batch", 0, 1)),
)
_MAX_STEPS_EPOCH_END = Scenario(
    trainer=TrainerSettings(max_epochs=2, max_steps=1, limit_train_batches=1.0),
    checkpoint=Checkpointing(at=("epoch_end", 0), resume_steps=2),
)
_EPOCH_DURING_SANITY = Scenario(
    trainer=TrainerSettings(max_epochs=2, limit_train_batches=1, limit_val_batches=1,
                            num_sanity_val_steps=1),
    train_batches=1, checkpoint=Checkpointing(at=("epoch_end", 0)),
)
_SKIPPED_BATCH_PROGRESS = Scenario(
    trainer=TrainerSettings(max_epochs=2, limit_train_batches=3), skip_rest_of_epoch_at=1,
    checkpoint=Checkpointing(at=("fit_end",), resume_epochs=1),
)
_SAVE_LAST_AT_TRAIN_END = Scenario(
    trainer=TrainerSettings(max_epochs=2, limit_train_batches=2),
    model_checkpoint=ModelCheckpointing(every_n_epochs=3, save_last=True),
)


_MANUAL_BACKWARD_LOGS = Scenario(
    trainer=TrainerSettings(max_epochs=1, limit_train_batches=1.0, limit_val_batches=1.0),
    train_batches=1, val_batches=1, optimization=Optimization(manual=True),
    logs=(LogCall("training_step", "v0"), LogCall("on_before_backward", "v1"),
          LogCall("backward", "v2")),
)


# the first fit's ModelCheckpoint replaced (deleted) the file that the epoch-1 checkpoint
# still names; the resumed fit replaces it again
_REMOVE_MISSING_TOP_K = Scenario(
    trainer=TrainerSettings(max_epochs=3, limit_train_batches=1.0, limit_val_batches=0),
    train_batches=1, checkpoint=Checkpointing(at=("batch", 1, 0)),
    model_checkpoint=ModelCheckpointing(),
)


class Divergence(AssertionError):
    """The target and Lightning observably differ; the message shows the first divergent event."""


def _check(scenario, target="reference"):
    """Fail with the first divergent event of ``target`` and Lightning on ``scenario``."""
    try:
        observed = run_scenario(scenario, target)
    except OutsideReference as error:
        raise Divergence(f"the generator left the reference's contract: {error}") from None
    divergence = first_divergence(observed, run_scenario(scenario, "lightning"))
    if divergence is not None:
        # Hypothesis adds the shrunk scenario to this error as "Falsifying example: ..."
        raise Divergence(divergence)


# The scenarios above: they run on every profile (the exploration need not draw them again).
FOUND = {"mid_epoch_sanity": _MID_EPOCH_SANITY, "last_batch": _LAST_BATCH,
         "max_steps_epoch_end": _MAX_STEPS_EPOCH_END, "epoch_during_sanity": _EPOCH_DURING_SANITY,
         "skipped_batch_progress": _SKIPPED_BATCH_PROGRESS,
         "save_last_at_train_end": _SAVE_LAST_AT_TRAIN_END,
         "manual_backward_logs": _MANUAL_BACKWARD_LOGS,
         "remove_missing_top_k": _REMOVE_MISSING_TOP_K}


@pytest.mark.parametrize("scenario", FOUND.values(), ids=FOUND.keys())
def test_found_differences_stay_fixed(scenario):
    """Every difference the generator found and the reference fixed stays fixed."""
    _check(scenario)


@settings(settings.get_profile(PROFILE))
@given(scenario=scenarios())
def test_reference_and_lightning_agree(scenario):
    """The reference and Lightning 2.6.6 produce the same trace for every in-contract scenario."""
    _check(scenario)


def test_a_broken_reference_fails_with_the_first_divergent_event():
    """A mutant of the reference that runs the sanity check on a mid-epoch resume is caught."""
    with pytest.raises(Divergence) as failure:
        _check(_MID_EPOCH_SANITY, "tests.mutants:ckpt_mid_epoch_resume_sanity_checks")

    assert "resume hook" in str(failure.value)
    assert "on_sanity_check_start" in str(failure.value)


def test_the_profile_comes_from_the_environment():
    """``LCK_DIFFERENTIAL_PROFILE`` names a registered profile (ci by default)."""
    assert PROFILE in ("ci", "thorough")
    assert 500 == settings.get_profile("thorough").max_examples
