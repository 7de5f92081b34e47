"""Differential testing: Hypothesis scenarios run on the reference and on Lightning 2.6.6.

Each scenario (``tests/differential/strategies.py``) is run on both targets and everything
observable is compared: the hook calls with their arguments, what a callback reads in its hooks
(counters, learning rates, the metrics dicts), the logger's calls, the end state, the
checkpoint's structure, and the resumed fit. A difference fails with Hypothesis' shrunk
scenario and the first divergent event.

Profiles: ``ci`` (the default: derandomised, 25 examples) and ``thorough`` (500 examples),
chosen with ``LCK_DIFFERENTIAL_PROFILE=thorough`` (``nox -s differential``).
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.differential.compare import first_divergence
from tests.differential.run import OutsideReference, run_scenario
from tests.differential.strategies import scenarios

pytest.importorskip("lightning")

_COMMON = {"deadline": None, "print_blob": True, "database": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", derandomize=True, max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
PROFILE = os.environ.get("LCK_DIFFERENTIAL_PROFILE", "ci")


@settings(settings.get_profile(PROFILE))
@given(scenario=scenarios())
def test_reference_and_lightning_agree(scenario):
    """The reference and Lightning 2.6.6 produce the same trace for every in-contract scenario."""
    try:
        reference = run_scenario(scenario, "reference")
    except OutsideReference as error:
        pytest.fail(f"the generator left the reference's contract: {error}")
    lightning = run_scenario(scenario, "lightning")

    assert None is first_divergence(reference, lightning), first_divergence(reference, lightning)
