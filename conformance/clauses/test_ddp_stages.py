"""DDP clauses: what a stage refuses or warns about on several ranks."""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._ddp_scenarios import ForkedRecord
from lightning_conformance.ddp.phases import phase, records

NONE_STEP = ("Skipping the `training_step` by returning None in distributed training is not "
             "supported.")
VALIDATE_WARNING = ("Using `DistributedSampler` with the dataloaders. During `trainer.validate()`, "
                    "it is recommended to use `Trainer(devices=1, num_nodes=1)`")


@clause("DDP-031", "A training_step that returns None in distributed training raises a RuntimeError.",
        source="lightning/pytorch/loops/optimization/automatic.py::_AutomaticOptimization._training_step",
        versions=">=2.3")
@requires("ddp")
def test_none_step_rejected(target):
    outcomes = phase(target, "two_devices", "none_step", error_expected=True)

    for outcome in outcomes:
        assert outcome.error is not None, "the run went on"
        assert outcome.error.type == "RuntimeError"
        assert outcome.error.message.startswith(NONE_STEP)


@clause("DDP-032", "trainer.validate on several ranks warns that the DistributedSampler may repeat samples.",
        source="lightning/pytorch/trainer/connectors/data_connector.py::_DataConnector._resolve_sampler")
@requires("ddp")
def test_validate_warns(target):
    first, second = phase(target, "two_devices", "validate")

    matching = [w for w in first.warnings if w.startswith(VALIDATE_WARNING)]
    assert len(matching) == 1, first.warnings
    assert not any(w.startswith(VALIDATE_WARNING) for w in second.warnings)


@clause("DDP-033", "After a ddp_fork fit the launching process holds rank 0's weights and callback_metrics.",
        source="lightning/pytorch/strategies/launchers/multiprocessing.py::_MultiProcessingLauncher._recover_results_in_main_process")
@requires("ddp", "ddp_fork")
def test_fork_results_from_rank_zero(target):
    (record,) = records(target, "forked", "fit", ForkedRecord)
    main, (rank_zero, rank_one) = record.main, record.ranks

    assert main.params == rank_zero.params
    assert main.callback_metrics == rank_zero.callback_metrics
    assert (main.callback_metrics["local_mean"], rank_one.callback_metrics["local_mean"]) \
        == (1.0, 2.0)


@clause("DDP-034", "After a ddp_fork fit the launching process's global_step is still 0.",
        source="lightning/pytorch/strategies/launchers/multiprocessing.py (loop progress is not sent back)")
@requires("ddp", "ddp_fork")
def test_fork_progress_not_transferred(target):
    (record,) = records(target, "forked", "fit", ForkedRecord)

    assert [rank.global_step for rank in record.ranks] == [4, 4]
    assert record.main.global_step == 0
