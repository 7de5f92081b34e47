"""The recorder: entry order, depth, summaries, JSON, and no change to the run's behaviour."""

import inspect

import torch

from lightning_conformance.adapters.trace import (
    Event,
    HookSequence,
    Recorder,
    Trace,
    diff_lines,
    summarise,
)


class Base:
    def hook(self, value):
        return value

    def outer(self):
        return self.hook(1)


class Child(Base):
    def outer(self):
        return self.hook(2) + 1


def test_events_are_recorded_in_entry_order_with_depth():
    obj = Child()
    recorder = Recorder()
    recorder.watch(obj, "Module", ["outer", "hook"])

    assert 3 == obj.outer()
    assert [("Module.outer", 0), ("Module.hook", 1)] == [
        (e.name, e.depth) for e in recorder.trace.events]
    assert {"value": 2} == recorder.trace.events[1].args


def test_wrapped_hook_keeps_identity_for_override_checks():
    obj = Child()
    Recorder().watch(obj, "Module", ["outer", "hook"])

    # Lightning's is_overridden compares the code of __wrapped__ with the parent's.
    assert obj.hook.__wrapped__.__code__ is Base.hook.__code__
    assert obj.outer.__wrapped__.__code__ is not Base.outer.__code__
    assert ["self", "value"] == inspect.getfullargspec(obj.hook).args
    assert ["value"] == list(inspect.signature(obj.hook).parameters)


def test_a_second_recorder_replaces_the_first_instead_of_wrapping_it():
    obj = Child()
    first, second = Recorder(), Recorder()
    first.watch(obj, "Module", ["outer", "hook"])
    second.watch(obj, "Module", ["outer", "hook"])

    assert 3 == obj.outer()
    assert [] == first.trace.events
    assert ["Module.outer", "Module.hook"] == second.trace.names()
    assert obj.hook.__wrapped__.__code__ is Base.hook.__code__


def test_missing_and_non_method_hooks_are_skipped():
    obj = Child()
    obj.attribute = 5
    recorder = Recorder()
    recorder.watch(obj, "Module", ["absent", "attribute"])

    assert 5 == obj.attribute
    assert [] == recorder.trace.events


def test_summaries_are_short_and_json_friendly():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)

    assert "Tensor[2, 3]" == summarise(torch.zeros(2, 3))
    assert "optimizer:SGD" == summarise(optimizer)
    assert {"loss": "Tensor[]", "n": 1} == summarise({"loss": torch.tensor(1.0), "n": 1})
    assert {"a": "dict[x, y]"} == summarise({"a": {"y": 1, "x": 2}})
    assert "device:cpu" == summarise(torch.device("cpu"))
    assert "callable" == summarise(lambda: None)


def test_trace_round_trips_through_json():
    trace = Trace([Event("Module", "setup", {"stage": "fit"}, 0)])

    assert trace.to_json() == Trace.from_json(trace.to_json()).to_json()
    assert ["Module.setup(stage='fit')"] == trace.render()
    assert HookSequence(["Module.setup"]) == trace.names()


def test_diff_lines_show_what_is_missing():
    lines = diff_lines(["a", "b"], ["a"])

    assert "-b" in lines
