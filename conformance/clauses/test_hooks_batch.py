"""HOOK: the automatic-optimization batch: closure order, accumulation, clipping, -1."""

import torch

from lightning_conformance import clause
from lightning_conformance.clauses._expected import both, seq, train_batch, transfer

AUTOMATIC = "lightning/pytorch/loops/optimization/automatic.py"
EPOCH_LOOP = "lightning/pytorch/loops/training_epoch_loop.py"


def _fit(target, module=None, **kwargs):
    settings = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0} | kwargs
    return target.fit(module or target.module(), callbacks=[target.callback()], **settings)


def _batch_hooks(run, batch_idx: int) -> list[str]:
    """The hook names of one training batch, from its transfer hooks to on_train_batch_end."""
    starts = [i for i, e in enumerate(run.trace.events) if e.name == "Callback.on_train_batch_start"
              and e.args["batch_idx"] == batch_idx]
    start = starts[0] - len(transfer())
    end = run.trace.index("Module.on_train_batch_end", start)
    return run.trace.names()[start:end + 1]


@clause(
    "HOOK-013",
    "A training batch runs transfer hooks, on_train_batch_start, optimizer_step, on_train_batch_end.",
    source="tests/tests_pytorch/models/test_hooks.py::_auto_train_batch",
)
def test_automatic_batch_order(target):
    run = _fit(target)

    assert train_batch() == _batch_hooks(run, 0)


@clause(
    "HOOK-014",
    "optimizer_step runs the closure: training_step, zero_grad, backward, then on_before_optimizer_step.",
    source=f"{AUTOMATIC}::Closure",
)
def test_closure_runs_inside_optimizer_step(target):
    run = _fit(target, limit_train_batches=1)
    events = run.trace.events
    start = run.trace.index("Module.optimizer_step")
    depth = events[start].depth
    inside = [e.name for e in events[start + 1:] if e.depth == depth + 1]

    expected = ["Module.training_step", "Callback.on_before_zero_grad",
                "Module.on_before_zero_grad", "Module.optimizer_zero_grad",
                "Callback.on_before_backward", "Module.on_before_backward", "Module.backward",
                "Callback.on_after_backward", "Module.on_after_backward",
                "Callback.on_before_optimizer_step", "Module.on_before_optimizer_step",
                "Module.configure_gradient_clipping"]
    assert expected == inside[:len(expected)]


@clause(
    "HOOK-015",
    "optimizer_step receives the current epoch, the batch index in the epoch and the optimizer.",
    source="lightning/pytorch/core/module.py::LightningModule.optimizer_step",
)
def test_optimizer_step_arguments(target):
    run = _fit(target, max_epochs=2)

    expected = [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert expected == [(e.args["epoch"], e.args["batch_idx"])
                        for e in run.trace.calls("optimizer_step")]
    assert {"optimizer:SGD"} == {e.args["optimizer"] for e in run.trace.calls("optimizer_step")}


@clause(
    "HOOK-016",
    "A tensor returned by training_step reaches on_train_batch_end as {'loss': tensor}.",
    source="lightning/pytorch/loops/optimization/automatic.py::ClosureResult.from_training_step_output",
)
def test_tensor_output_wrapped_as_loss(target):
    run = _fit(target, limit_train_batches=1)

    assert [{"loss": "Tensor[]"}] * 2 == [e.args["outputs"] for e in run.trace.events
                                          if e.hook == "on_train_batch_end"]


@clause(
    "HOOK-017",
    "A dict returned by training_step reaches on_train_batch_end with all its keys.",
    source="lightning/pytorch/loops/optimization/automatic.py::ClosureResult.from_training_step_output",
)
def test_dict_output_passed_through(target):
    def training_step(self, batch, batch_idx):
        return {"loss": self.layer(batch).sum(), "extra": 7}

    run = _fit(target, target.module(overrides={"training_step": training_step}),
               limit_train_batches=1)

    assert {"loss": "Tensor[]", "extra": 7} == run.trace.calls("on_train_batch_end")[0].args[
        "outputs"]


@clause(
    "HOOK-018",
    "With accumulate_grad_batches=N, zero_grad hooks run only on the first batch of each window.",
    source=f"{AUTOMATIC}::_make_zero_grad_fn",
)
def test_accumulation_zero_grad_at_window_start(target):
    run = _fit(target, limit_train_batches=4, accumulate_grad_batches=2)

    assert [0, 2] == [e.args["batch_idx"] for e in run.trace.calls("optimizer_zero_grad")]
    assert 2 == len(run.trace.calls("on_before_zero_grad"))


@clause(
    "HOOK-019",
    "While accumulating, optimizer_step runs only at a window's end or the epoch's last batch.",
    source=f"{EPOCH_LOOP}::_should_accumulate",
)
def test_accumulation_steps_at_window_end(target):
    run = _fit(target, max_epochs=2, limit_train_batches=3, accumulate_grad_batches=2)

    expected = [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert expected == [(e.args["epoch"], e.args["batch_idx"])
                        for e in run.trace.calls("optimizer_step")]
    assert 4 == run.trainer.global_step
    assert 6 == len(run.trace.calls("backward"))


@clause(
    "HOOK-020",
    "An accumulating batch runs training_step and backward hooks without optimizer_step.",
    source=f"{AUTOMATIC}::AutomaticOptimization.run",
)
def test_accumulating_batch_hooks(target):
    run = _fit(target, limit_train_batches=2, accumulate_grad_batches=2)

    assert train_batch(step=False) == _batch_hooks(run, 0)
    assert train_batch(zero_grad=False) == _batch_hooks(run, 1)


@clause(
    "HOOK-021",
    "configure_gradient_clipping gets the Trainer's clip value and algorithm as given (None if unset).",
    source="lightning/pytorch/plugins/precision/precision.py::_clip_gradients",
)
def test_clipping_settings_reach_hook(target):
    norm = _fit(target, limit_train_batches=1, gradient_clip_val=0.5)
    value = _fit(target, limit_train_batches=1, gradient_clip_val=0.25,
                 gradient_clip_algorithm="value")

    # Note: the "norm" default is applied inside clip_gradients, not passed to the hook.
    assert (0.5, None) == _clip_args(norm)
    assert (0.25, "value") == _clip_args(value)


def _clip_args(run):
    args = run.trace.calls("configure_gradient_clipping")[0].args
    return args["gradient_clip_val"], args["gradient_clip_algorithm"]


def _grads_at_batch_end(target, **kwargs):
    seen = []

    def on_train_batch_end(self, outputs, batch, batch_idx):
        seen.append(torch.cat([p.grad.flatten() for p in self.parameters()]).clone())

    module = target.module(overrides={"on_train_batch_end": on_train_batch_end})
    _fit(target, module, limit_train_batches=2, **kwargs)
    return seen


@clause(
    "HOOK-022",
    "gradient_clip_val with the norm algorithm bounds the total gradient norm at the step.",
    source="lightning/pytorch/core/module.py::LightningModule.clip_gradients",
)
def test_clip_by_norm_bounds_gradients(target):
    unclipped = _grads_at_batch_end(target)
    clipped = _grads_at_batch_end(target, gradient_clip_val=0.01)

    assert all(g.norm() > 0.01 for g in unclipped)
    assert all(g.norm() <= 0.01 * (1 + 1e-4) for g in clipped)


@clause(
    "HOOK-023",
    "gradient_clip_algorithm='value' clamps every gradient element to the clip value.",
    source="lightning/pytorch/core/module.py::LightningModule.clip_gradients",
)
def test_clip_by_value_clamps_elements(target):
    unclipped = _grads_at_batch_end(target)
    clipped = _grads_at_batch_end(target, gradient_clip_val=0.05,
                                  gradient_clip_algorithm="value")

    assert all(g.abs().max() > 0.05 for g in unclipped)
    assert all(g.abs().max() <= 0.05 for g in clipped)


def _skip_from(batch):
    def on_train_batch_start(self, batch_, batch_idx):
        return -1 if batch_idx == batch else None

    return {"on_train_batch_start": on_train_batch_start}


@clause(
    "HOOK-024",
    "on_train_batch_start returning -1 ends the epoch: no step, no batch end, no validation.",
    source=f"{EPOCH_LOOP}::advance",
    changes=("skipped_epoch_steps_epoch_schedulers",),
)
def test_batch_start_minus_one_skips_rest_of_epoch(target, contract):
    module = target.module(scheduler=True, overrides=_skip_from(1))
    run = _fit(target, module, limit_train_batches=3, limit_val_batches=1,
               num_sanity_val_steps=0)

    expected = seq(
        both("on_train_epoch_start"),
        train_batch(),
        transfer(),
        both("on_train_batch_start"),
        ["Module.lr_scheduler_step"]
        if contract.has("skipped_epoch_steps_epoch_schedulers") else [],
        both("on_train_epoch_end"),
        both("on_train_end"),
    )
    start = run.trace.index("Callback.on_train_epoch_start")
    end = run.trace.index("Module.on_train_end")
    assert expected == run.trace.names()[start:end + 1]


@clause(
    "HOOK-025",
    "After on_train_batch_start returns -1, the next epoch starts again from batch 0.",
    source=f"{EPOCH_LOOP}::advance",
)
def test_batch_start_minus_one_next_epoch(target):
    run = _fit(target, target.module(overrides=_skip_from(1)), max_epochs=2,
               limit_train_batches=3)

    assert [(0, 0), (1, 0)] == [(e.args["epoch"], e.args["batch_idx"])
                                for e in run.trace.calls("optimizer_step")]
    assert 2 == run.trainer.current_epoch
    assert 2 == run.trainer.global_step
