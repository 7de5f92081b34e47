"""HOOK: the hook order of validate, test and predict."""

from lightning_conformance import clause
from lightning_conformance.clauses._expected import (
    both,
    eval_loop,
    predict_loop,
    prepare_data,
    seq,
    sharded_model,
)

HOOKS_TEST = "tests/tests_pytorch/models/test_hooks.py"


def _stage_start(contract) -> list[str]:
    zero_grad = ["Module.zero_grad"] if contract.has("run_stage_zero_grad") else []
    return seq(["Module.configure_callbacks"], prepare_data(contract), both("setup"),
               sharded_model(contract), zero_grad)


@clause(
    "HOOK-050",
    "validate runs setup, zero_grad, the validation loop and teardown, with no fit hooks.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_eval",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden",
             "eval_mode_restored_without_train_call", "configure_model_hook",
             "epoch_end_hooks_removed"),
)
def test_validate_hook_order(target, contract):
    run = target.validate(target.module(), callbacks=[target.callback()], limit_val_batches=2)

    expected = seq(_stage_start(contract), eval_loop(contract, "validation", 2), both("teardown"))
    assert expected == run.trace.names()
    assert {"validate"} == {e.args["stage"] for e in run.trace.events if e.hook == "setup"}


@clause(
    "HOOK-051",
    "test runs setup, zero_grad, the test loop and teardown, with no fit hooks.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_eval",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden",
             "eval_mode_restored_without_train_call", "configure_model_hook",
             "epoch_end_hooks_removed"),
)
def test_test_hook_order(target, contract):
    run = target.test(target.module(), callbacks=[target.callback()], limit_test_batches=2)

    expected = seq(_stage_start(contract), eval_loop(contract, "test", 2), both("teardown"))
    assert expected == run.trace.names()


@clause(
    "HOOK-052",
    "predict runs setup, zero_grad, the predict loop and teardown, with no fit hooks.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_predict",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden", "configure_model_hook"),
)
def test_predict_hook_order(target, contract):
    run = target.predict(target.module(), callbacks=[target.callback()],
                         limit_predict_batches=2)

    expected = seq(_stage_start(contract), predict_loop(contract, 2), both("teardown"))
    assert expected == run.trace.names()


@clause(
    "HOOK-053",
    "predict returns the list of predict_step outputs, one per batch, in order.",
    source=f"{HOOKS_TEST}::test_hooks_with_different_argument_names",
)
def test_predict_returns_outputs(target):
    run = target.predict(target.module(), limit_predict_batches=3)

    assert 3 == len(run.result)
    assert [(2, 2)] * 3 == [tuple(output.shape) for output in run.result]


@clause(
    "HOOK-054",
    "With two val dataloaders, validate runs all of loader 0, then loader 1, passing dataloader_idx.",
    source="lightning/pytorch/loops/evaluation_loop.py::_build_kwargs",
)
def test_two_val_dataloaders(target):
    from lightning_conformance.clauses._models import loader

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        return {"x": self.layer(batch).sum()}

    module = target.module(overrides={
        "val_dataloader": lambda self: [loader(seed=2), loader(seed=5)],
        "validation_step": validation_step,
    })
    run = target.validate(module, limit_val_batches=2)

    expected = [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert expected == [(e.args["batch_idx"], e.args["dataloader_idx"])
                        for e in run.trace.calls("validation_step")]
    assert [0, 0, 1, 1] == [e.args["dataloader_idx"]
                            for e in run.trace.calls("on_validation_batch_start")]
    assert 2 == len(run.result)


@clause(
    "HOOK-055",
    "limit_test_batches=0 skips test_dataloader and the test loop; setup and teardown still run.",
    source=f"{HOOKS_TEST}::test_trainer_model_hook_system_eval",
    changes=("run_stage_zero_grad", "prepare_data_only_if_overridden", "configure_model_hook"),
)
def test_limit_test_batches_zero(target, contract):
    run = target.test(target.module(), callbacks=[target.callback()], limit_test_batches=0)

    assert seq(_stage_start(contract), both("teardown")) == run.trace.names()


@clause(
    "HOOK-056",
    "Outside fit an overridden configure_model runs after setup, before the stage's loop.",
    source="lightning/pytorch/trainer/call.py::_call_configure_model",
    versions=">=2.1",
    changes=("configure_model_hook", "prepare_data_only_if_overridden"),
)
def test_configure_model_outside_fit(target, contract):
    def module():
        return target.module(overrides={"configure_model": lambda self: None})

    runs = [target.validate(module(), limit_val_batches=1),
            target.test(module(), limit_test_batches=1),
            target.predict(module(), limit_predict_batches=1)]

    expected = seq(["Module.configure_callbacks"], prepare_data(contract),
                   ["Module.setup", "Module.configure_model", "Module.zero_grad"])
    for run in runs:
        assert expected == run.trace.names()[:len(expected)]
