"""DDP clauses: sync_dist reductions, all_gather, gradient averaging, parameters in sync.

In scenario ``two_devices`` rank r logs the value r + 1 on each of its 4 batches per epoch.
"""

import pytest

from lightning_conformance import clause, requires
from lightning_conformance.clauses._ddp_scenarios import FitRecord
from lightning_conformance.ddp.phases import phase, records

SOURCE_SYNC = "tests/tests_pytorch/trainer/logging_/test_train_loop_logging.py::test_logging_sync_dist_true"
# 4 batches per rank; rank 0 logs 1.0, rank 1 logs 2.0 on each
SYNCED = {"mean": 1.5, "sum": 4 * 1.0 + 4 * 2.0, "max": 2.0, "min": 1.0}


@clause("DDP-019", "With sync_dist=True an epoch value is reduced over all ranks by its reduce_fx.",
        source=SOURCE_SYNC)
@requires("ddp")
@pytest.mark.parametrize("reduce_fx", sorted(SYNCED))
def test_sync_dist_epoch(target, reduce_fx):
    metrics = [r.callback_metrics for r in records(target, "two_devices", "fit", FitRecord)]

    assert [m[f"sync_{reduce_fx}"] for m in metrics] == [SYNCED[reduce_fx]] * 2


@clause("DDP-020", "With sync_dist=True an on_step value is reduced over the ranks at that step.",
        source=SOURCE_SYNC)
@requires("ddp")
def test_sync_dist_step(target):
    metrics = [r.callback_metrics for r in records(target, "two_devices", "fit", FitRecord)]

    # last step: batch_idx 3, so rank 0 logs 1 + 3 and rank 1 logs 2 + 3
    assert [m["step_sum"] for m in metrics] == [9.0, 9.0]


@clause("DDP-021", "Without sync_dist an epoch value is not reduced: each rank keeps its own.",
        source="lightning/pytorch/trainer/connectors/logger_connector/result.py::_ResultMetric.compute")
@requires("ddp")
def test_unsynced_epoch_value(target):
    metrics = [r.callback_metrics for r in records(target, "two_devices", "fit", FitRecord)]

    assert [m["local_mean"] for m in metrics] == [1.0, 2.0]


@clause("DDP-022", "An epoch-level tensor logged without sync_dist warns to use sync_dist=True.",
        source="lightning/pytorch/trainer/connectors/logger_connector/result.py::_ResultCollection._get_cache")
@requires("ddp")
def test_sync_dist_recommended(target):
    first = phase(target, "two_devices", "fit")[0]
    expected = ("It is recommended to use `self.log('local_mean', ..., sync_dist=True)` when "
                "logging on epoch level in distributed setting to accumulate the metric across "
                "devices.")

    assert expected in first.warnings
    assert not any("sync_" in w and "recommended" in w and "'sync_" in w
                   for w in first.warnings), "synced values must not warn"


@clause("DDP-023", "all_gather returns a (world_size, *shape) tensor of every rank's value in rank order.",
        source="lightning/pytorch/core/module.py::LightningModule.all_gather")
@requires("ddp")
def test_all_gather_tensor(target):
    gathered = [r.gathered for r in records(target, "two_devices", "fit", FitRecord)]

    assert [(g.shape, g.values) for g in gathered] == [([2, 1], [[0.0], [1.0]])] * 2


@clause("DDP-024", "all_gather of a dict gathers each tensor and number into world_size rows.",
        source="lightning/pytorch/core/module.py::LightningModule.all_gather")
@requires("ddp")
def test_all_gather_collection(target):
    gathered = [r.gathered for r in records(target, "two_devices", "fit", FitRecord)]

    assert [g.dict_shapes for g in gathered] == [{"t": [2], "n": [2]}] * 2


@clause("DDP-025", "Before each optimizer step every rank holds the mean of the ranks' own gradients.",
        source="https://pytorch.org/docs/stable/notes/ddp.html (gradients are averaged by allreduce)")
@requires("ddp")
def test_gradients_averaged(target):
    fit = records(target, "two_devices", "fit", FitRecord)
    local = [r.local_grads for r in fit]
    expected = [[(a + b) / 2 for a, b in zip(first, second, strict=True)]
                for first, second in zip(*local, strict=True)]

    for rank, grads in enumerate(r.grads for r in fit):
        assert len(grads) == len(expected)
        for step, (got, want) in enumerate(zip(grads, expected, strict=True)):
            assert got == pytest.approx(want, rel=1e-5, abs=1e-5), f"rank {rank}, step {step}"


@clause("DDP-026", "After every optimizer step the parameters are identical on every rank.",
        source="tests/tests_pytorch/strategies/test_ddp_integration.py")
@requires("ddp")
def test_parameters_in_sync(target):
    first, second = [r.params for r in records(target, "two_devices", "fit", FitRecord)]

    assert len(first) == len(second) == 8
    assert first == second
