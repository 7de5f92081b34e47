"""DDP clauses: ranks, rank-zero utilities, the backend and prepare_data on real ranks.

Scenario ``two_devices`` runs two processes on one node; ``two_nodes`` runs two simulated
nodes of one process each (torchrun's environment, 127.0.0.1, gloo).
"""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._ddp_scenarios import FitRecord
from lightning_conformance.ddp.phases import phase, records

SOURCE_RANKS = "lightning/pytorch/strategies/ddp.py (global_rank = node_rank * devices + local_rank)"


@clause("DDP-001", "Each rank's trainer reports its global and local rank, node rank, world size and node count.",
        source=SOURCE_RANKS)
@requires("ddp")
def test_trainer_ranks(target):
    ranks = [r.ranks.trainer for r in records(target, "two_devices", "fit", FitRecord)]

    assert [(r.global_rank, r.local_rank, r.node_rank, r.world_size, r.num_nodes)
            for r in ranks] == [(0, 0, 0, 2, 1), (1, 1, 0, 2, 1)]


@clause("DDP-002", "LightningModule.global_rank and local_rank equal the trainer's on every rank.",
        source="tests/tests_pytorch/core/test_lightning_module.py::test_property_global_rank")
@requires("ddp")
def test_module_ranks(target):
    ranks = [r.ranks for r in records(target, "two_devices", "fit", FitRecord)]

    assert [(r.module.global_rank, r.module.local_rank) for r in ranks] == [
        (r.trainer.global_rank, r.trainer.local_rank) for r in ranks
    ]
    assert [r.module.global_rank for r in ranks] == [0, 1]


@clause("DDP-003", "trainer.is_global_zero is True on global rank 0 and False on every other rank.",
        source="lightning/pytorch/trainer/trainer.py::Trainer.is_global_zero")
@requires("ddp")
def test_is_global_zero(target):
    ranks = [r.ranks for r in records(target, "two_devices", "fit", FitRecord)]

    assert [r.trainer.is_global_zero for r in ranks] == [True, False]


@clause("DDP-004", "A rank_zero_only function runs on global rank 0 and returns None on the other ranks.",
        source="lightning_utilities/core/rank_zero.py::rank_zero_only")
@requires("ddp")
def test_rank_zero_only(target):
    fit = records(target, "two_devices", "fit", FitRecord)

    assert [r.rank_zero_only for r in fit] == ["ran", None]


@clause("DDP-005", "rank_zero_warn emits its warning on global rank 0 only.",
        source="lightning_utilities/core/rank_zero.py::rank_zero_warn")
@requires("ddp")
def test_rank_zero_warn(target):
    outcomes = phase(target, "two_devices", "fit")

    assert [[w for w in r.warnings if w.startswith("rank_zero_warn from")] for r in outcomes] \
        == [["rank_zero_warn from rank 0"], []]


@clause("DDP-006", "On CPU, DDP's process group uses the gloo backend.",
        source="tests/tests_pytorch/strategies/test_ddp.py::test_ddp_process_group_backend")
@requires("ddp")
def test_gloo_backend(target):
    fit = records(target, "two_devices", "fit", FitRecord)

    assert [r.backend for r in fit] == ["gloo", "gloo"]


@clause("DDP-007", "During fit trainer.model is a DistributedDataParallel wrapping the LightningModule.",
        source="lightning/pytorch/strategies/ddp.py::DDPStrategy._setup_model")
@requires("ddp")
def test_model_wrapped(target):
    fit = records(target, "two_devices", "fit", FitRecord)

    assert [r.model_type for r in fit] == ["DistributedDataParallel", "DistributedDataParallel"]


@clause("DDP-008", "On one node, prepare_data runs on local rank 0 only while setup runs on every rank.",
        source="lightning/pytorch/trainer/connectors/data_connector.py::prepare_data")
@requires("ddp")
def test_prepare_data_local_rank_zero(target):
    fit = records(target, "two_devices", "fit", FitRecord)

    assert [r.prepare_data for r in fit] == [1, 0]
    assert [len(r.setup) for r in fit] == [1, 1]


@clause("DDP-009", "With two nodes of one device each, global rank equals node rank and local rank is 0.",
        source=SOURCE_RANKS)
@requires("ddp")
def test_two_node_ranks(target):
    ranks = [r.ranks.trainer for r in records(target, "two_nodes", "per_node", FitRecord)]

    assert [(r.global_rank, r.local_rank, r.node_rank, r.world_size, r.num_nodes)
            for r in ranks] == [(0, 0, 0, 2, 2), (1, 0, 1, 2, 2)]


@clause("DDP-010", "With prepare_data_per_node=True (default), prepare_data runs on every node's local rank 0.",
        source="https://lightning.ai/docs/pytorch/stable/data/datamodule.html#prepare-data")
@requires("ddp")
def test_prepare_data_per_node(target):
    fit = records(target, "two_nodes", "per_node", FitRecord)

    assert [r.prepare_data for r in fit] == [1, 1]


@clause("DDP-011", "With prepare_data_per_node=False, prepare_data runs on global rank 0 only.",
        source="https://lightning.ai/docs/pytorch/stable/data/datamodule.html#prepare-data")
@requires("ddp")
def test_prepare_data_once(target):
    fit = records(target, "two_nodes", "once", FitRecord)

    assert [r.prepare_data for r in fit] == [1, 0]
