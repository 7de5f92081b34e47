"""DDP clauses: DistributedSampler insertion, shards and epochs (scenario ``two_devices``).

The scenario's train set has 16 items and its val set 8, batch size 2; feature 0 of each
item is its index, so the records name the items each rank saw.
"""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._ddp_scenarios import (
    TRAIN_ITEMS,
    VAL_ITEMS,
    FitRecord,
    ModuleRecord,
)
from lightning_conformance.ddp.phases import records

SOURCE = "tests/tests_pytorch/trainer/test_dataloaders.py::test_dataloader_distributed_sampler"


@clause("DDP-012", "The train loader gets a DistributedSampler: shuffle on, one replica per rank, its rank.",
        source=SOURCE)
@requires("ddp")
def test_train_sampler(target):
    samplers = [r.train_sampler for r in records(target, "two_devices", "fit", FitRecord)]

    # Lightning 1.9 inserts a DistributedSamplerWrapper, a DistributedSampler subclass
    assert [(s.distributed, s.num_replicas, s.rank, s.shuffle) for s in samplers] \
        == [(True, 2, 0, True), (True, 2, 1, True)]


@clause("DDP-013", "The val loader gets a DistributedSampler that does not shuffle.",
        source=SOURCE)
@requires("ddp")
def test_val_sampler(target):
    samplers = [r.val_sampler for r in records(target, "two_devices", "fit", FitRecord)]

    assert [(s.distributed, s.num_replicas, s.rank, s.shuffle) for s in samplers] \
        == [(True, 2, 0, False), (True, 2, 1, False)]


@clause("DDP-014", "In each train epoch the ranks see disjoint shards that together cover the dataset.",
        source="tests/tests_pytorch/trainer/test_dataloaders.py::test_distributed_sampler_without_global_seed")
@requires("ddp")
def test_disjoint_shards(target):
    batches = [r.batches for r in records(target, "two_devices", "fit", FitRecord)]

    for epoch in (0, 1):
        first, second = (set(rank[epoch]) for rank in batches)
        assert first.isdisjoint(second), f"epoch {epoch}: both ranks saw {first & second}"
        assert first | second == set(range(TRAIN_ITEMS))


@clause("DDP-015", "The train sampler's set_epoch(current_epoch) runs before each epoch's first batch.",
        source="lightning/pytorch/loops/fit_loop.py::_FitLoop.on_advance_start")
@requires("ddp")
def test_set_epoch(target):
    fit = records(target, "two_devices", "fit", FitRecord)

    assert [r.sampler_epochs for r in fit] == [[(0, 0), (1, 1)], [(0, 0), (1, 1)]]
    # a new epoch reshuffles: the order of a rank's shard changes
    assert all(r.batches[0] != r.batches[1] for r in fit)


@clause("DDP-016", "A loader that already has a DistributedSampler keeps it, with its seed and shuffle.",
        source="tests/tests_pytorch/trainer/test_dataloaders.py::test_dataloader_distributed_sampler_already_attached")
@requires("ddp")
def test_own_sampler_kept(target):
    fit = records(target, "two_devices", "own_sampler", FitRecord)

    assert [(r.train_sampler.type, r.train_sampler.seed, r.train_sampler.shuffle) for r in fit] \
        == [("DistributedSampler", 11, False)] * 2
    assert [r.batches[0] for r in fit] == [list(range(0, TRAIN_ITEMS, 2)),
                                           list(range(1, TRAIN_ITEMS, 2))]


@clause("DDP-017", "With use_distributed_sampler=False the loaders are kept as given: every rank sees all data.",
        source="https://lightning.ai/docs/pytorch/stable/common/trainer.html#use-distributed-sampler",
        changes=("use_distributed_sampler_flag",))
@requires("ddp")
def test_no_distributed_sampler(target):
    fit = records(target, "two_devices", "no_distributed_sampler", FitRecord)

    assert [r.train_sampler.type for r in fit] == ["SequentialSampler"] * 2
    assert [r.batches[0] for r in fit] == [list(range(TRAIN_ITEMS))] * 2


@clause("DDP-018", "Validation is sharded too: each rank validates its own half of the val set, in order.",
        source="lightning/pytorch/trainer/connectors/data_connector.py::_requires_distributed_sampler")
@requires("ddp")
def test_val_shards(target):
    validate = records(target, "two_devices", "validate", ModuleRecord)

    assert [r.val_batches for r in validate] == [list(range(0, VAL_ITEMS, 2)),
                                                 list(range(1, VAL_ITEMS, 2))]
