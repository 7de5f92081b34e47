"""HOOK: where validation runs inside fit: sanity check, limits, intervals, train/eval mode."""

import torch

from lightning_conformance import clause
from lightning_conformance.clauses._expected import both, eval_loop, seq

EPOCH_LOOP = "lightning/pytorch/loops/training_epoch_loop.py"
EVAL_LOOP = "lightning/pytorch/loops/evaluation_loop.py"


def _fit(target, module=None, **kwargs):
    settings = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 1,
                "num_sanity_val_steps": 0} | kwargs
    return target.fit(module or target.module(), callbacks=[target.callback()], **settings)


def _validations_after(run) -> list[tuple[int | None, int]]:
    """(epoch, batch_idx) of the training batch after which each in-fit validation ran."""
    positions: list[tuple[int | None, int]] = []
    last: int | None = None
    epoch: int | None = None
    for event in run.trace.events:
        if event.name == "Module.on_train_batch_end":
            last = event.args["batch_idx"]
        elif event.name == "Module.optimizer_step":
            epoch = event.args["epoch"]
        elif event.name == "Module.on_validation_start" and last is not None:
            positions.append((epoch, last))
    return positions


@clause(
    "HOOK-026",
    "The sanity check runs min(num_sanity_val_steps, val batches) batches, before train_dataloader.",
    source="lightning/pytorch/trainer/trainer.py::_run_sanity_check",
)
def test_sanity_check_batches(target):
    run = _fit(target, limit_val_batches=3, num_sanity_val_steps=2)
    names = run.trace.names()
    start = names.index("Callback.on_sanity_check_start")
    end = names.index("Callback.on_sanity_check_end")

    assert 2 == names[start:end].count("Module.validation_step")
    assert end < names.index("Module.train_dataloader")
    assert 3 == names[end:].count("Module.validation_step")


@clause(
    "HOOK-027",
    "num_sanity_val_steps=0 skips the sanity check; val_dataloader is called after train_dataloader.",
    source="lightning/pytorch/trainer/trainer.py::_run_sanity_check",
)
def test_no_sanity_check(target):
    run = _fit(target, num_sanity_val_steps=0)
    names = run.trace.names()

    assert "Callback.on_sanity_check_start" not in names
    assert names.index("Module.train_dataloader") < names.index("Module.val_dataloader")
    assert names.index("Module.val_dataloader") < names.index("Module.on_train_start")


@clause(
    "HOOK-028",
    "limit_val_batches=0 skips every validation hook, the sanity check and val_dataloader.",
    source="lightning/pytorch/loops/fit_loop.py::setup_data",
)
def test_limit_val_batches_zero(target):
    run = _fit(target, limit_val_batches=0, num_sanity_val_steps=2)
    names = run.trace.names()

    assert [] == [name for name in names if "validation" in name or "sanity" in name
                  or name.endswith("val_dataloader")]
    assert 2 == names.count("Module.training_step")


@clause(
    "HOOK-029",
    "limit_train_batches=0 skips train_dataloader and all train hooks; fit start/end still run.",
    source="lightning/pytorch/loops/fit_loop.py::skip",
)
def test_limit_train_batches_zero(target):
    run = _fit(target, limit_train_batches=0)
    names = run.trace.names()

    assert [] == [name for name in names if "train" in name and name != "Module.train"]
    assert {"Module.on_fit_start", "Module.on_fit_end", "Module.teardown"} <= set(names)


@clause(
    "HOOK-030",
    "In-fit validation runs after the batch's on_train_batch_end and before on_train_epoch_end.",
    source="tests/tests_pytorch/models/test_hooks.py::test_trainer_model_hook_system_fit",
    changes=("eval_mode_restored_without_train_call", "run_stage_zero_grad",
             "epoch_end_hooks_removed"),
)
def test_validation_inside_epoch(target, contract):
    run = _fit(target, limit_train_batches=1)
    start = run.trace.index("Module.on_train_batch_end")

    expected = seq(
        ["Module.on_train_batch_end"],
        eval_loop(contract, "validation", 1, dataloader=False, in_fit=True),
        both("on_train_epoch_end"),
    )
    assert expected == run.trace.names()[start:start + len(expected)]


@clause(
    "HOOK-031",
    "Before in-fit validation on_validation_model_zero_grad runs; before the sanity check it does not.",
    source=f"{EPOCH_LOOP}::on_advance_end",
    versions=">=2.1",
)
def test_validation_model_zero_grad_placement(target):
    run = _fit(target, num_sanity_val_steps=1)
    names = run.trace.names()
    sanity_end = names.index("Callback.on_sanity_check_end")

    assert "Module.on_validation_model_zero_grad" not in names[:sanity_end]
    assert 1 == names.count("Module.on_validation_model_zero_grad")
    zero_grad = names.index("Module.on_validation_model_zero_grad")
    assert ["Module.zero_grad", "Module.on_validation_model_eval"] == names[zero_grad + 1:
                                                                           zero_grad + 3]


@clause(
    "HOOK-032",
    "An integer val_check_interval=k validates after every k-th training batch of the epoch.",
    source=f"{EPOCH_LOOP}::_should_check_val_fx",
)
def test_val_check_interval_int(target):
    run = _fit(target, limit_train_batches=4, val_check_interval=2)

    assert [(0, 1), (0, 3)] == _validations_after(run)


@clause(
    "HOOK-033",
    "A float val_check_interval=f validates after each fraction f of the epoch's batches.",
    source=f"{EPOCH_LOOP}::_should_check_val_fx",
)
def test_val_check_interval_float(target):
    run = _fit(target, limit_train_batches=4, val_check_interval=0.5)

    assert [(0, 1), (0, 3)] == _validations_after(run)


@clause(
    "HOOK-034",
    "check_val_every_n_epoch=n validates only at the end of every n-th epoch.",
    source=f"{EPOCH_LOOP}::_should_check_val_epoch",
)
def test_check_val_every_n_epoch(target):
    run = _fit(target, max_epochs=3, check_val_every_n_epoch=2)

    assert [(1, 1)] == _validations_after(run)


@clause(
    "HOOK-035",
    "on_validation_model_eval, which puts the module in eval mode, precedes on_validation_start.",
    source=f"{EVAL_LOOP}::_on_evaluation_model_eval",
)
def test_eval_mode_hook_first(target):
    seen = []

    def on_validation_start(self):
        seen.append(self.training)

    run = _fit(target, target.module(overrides={"on_validation_start": on_validation_start}))
    names = run.trace.names()
    start = names.index("Module.on_validation_model_eval")

    assert ["Module.on_validation_model_eval", "Module.train"] == names[start:start + 2]
    assert start < names.index("Callback.on_validation_start")
    assert [False] == seen


@clause(
    "HOOK-036",
    "on_validation_model_train is called after validation only when the module overrides it.",
    source=f"{EVAL_LOOP}::_on_evaluation_model_train",
    versions=">=2.2",
    changes=("eval_mode_restored_without_train_call",),
)
def test_validation_model_train_only_if_overridden(target):
    plain = _fit(target)
    module = target.module(overrides={"on_validation_model_train": lambda self: self.train()})
    overridden = _fit(target, module)
    names = overridden.trace.names()
    end = names.index("Module.on_validation_end")

    assert "Module.on_validation_model_train" not in plain.trace.names()
    assert ["Module.on_validation_model_train", "Module.train"] == names[end + 1:end + 3]


@clause(
    "HOOK-037",
    "After validation every submodule is back in its previous mode; a frozen one stays in eval.",
    source="tests/tests_pytorch/models/test_hooks.py::test_train_eval_mode_restored",
    versions=">=2.2",
)
def test_train_mode_restored_after_validation(target):
    seen = []

    def configure_model(self):
        self.frozen = torch.nn.Linear(2, 2).eval()

    def on_train_batch_start(self, batch, batch_idx):
        seen.append((self.training, self.layer.training, self.frozen.training))

    module = target.module(overrides={"configure_model": configure_model,
                                      "on_train_batch_start": on_train_batch_start})
    _fit(target, module, limit_train_batches=2, val_check_interval=1, num_sanity_val_steps=1)

    assert [(True, True, False)] * 2 == seen
