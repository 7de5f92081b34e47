"""LOG: which values self.log accepts, how it stores them, and the values and options it rejects."""

import re

import pytest
import torch

from lightning_conformance import clause, requires
from lightning_conformance.clauses._logging import train_logging, training_step_logging

MODULE_LOG = "lightning/pytorch/core/module.py::LightningModule.log"
RESULT = "lightning/pytorch/trainer/connectors/logger_connector/result.py"
LOOP_LOGGING = "tests/tests_pytorch/trainer/logging_/test_train_loop_logging.py"


def _fit_logging(target, log, **kwargs):
    """Fit one epoch of 2 batches whose training_step calls ``log(self, batch_idx)``."""
    return train_logging(target, training_step_logging(target.pl, log), **kwargs)


@clause("LOG-010", "A Python number logged becomes a 0-dim float tensor in callback_metrics.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_number_becomes_float_tensor(target):
    run = _fit_logging(target, lambda self, i: self.log("n", 2.5))
    value = run.trainer.callback_metrics["n"]

    assert (torch.Size([]), True, 2.5) == (value.shape, value.is_floating_point(), value.item())


@clause("LOG-011", "A one-element tensor of any shape is accepted and stored squeezed to 0-dim.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_one_element_tensor_is_squeezed(target):
    run = _fit_logging(target, lambda self, i: self.log("t", torch.tensor([[2.5]])))

    assert torch.Size([]) == run.trainer.callback_metrics["t"].shape


@clause("LOG-012", "An integer tensor is logged as a float tensor, with a warning that it is cast.",
        source=f"{RESULT}::_ResultMetric.update")
@requires("logging")
def test_integer_tensor_is_cast(target):
    with pytest.warns(UserWarning, match=re.escape("but the value needs to be floating")):
        run = _fit_logging(target, lambda self, i: self.log("i", torch.tensor(4)))

    assert (True, 4.0) == (run.trainer.callback_metrics["i"].is_floating_point(),
                           run.trainer.callback_metrics["i"].item())


@clause("LOG-013", "Logging a tensor with several elements raises ValueError.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_multi_element_tensor_rejected(target):
    with pytest.raises(ValueError, match=re.escape("the tensor must have a single element")):
        _fit_logging(target, lambda self, i: self.log("t", torch.ones(2)))


@pytest.mark.parametrize(("value", "kind"), [(None, "NoneType"), ("text", "str"),
                                             ([1, 2], "list"), ({"a": 1.0}, "dict")])
@clause("LOG-014", "Logging None, a string, a list or a dict value raises ValueError naming its type.",
        source=f"{LOOP_LOGGING}::test_log_invalid_raises", changes=("log_dict_values_removed",))
@requires("logging")
def test_unsupported_types_rejected(target, contract, value, kind):
    if kind == "dict" and not contract.has("log_dict_values_removed"):
        run = _fit_logging(target, lambda self, i: self.log("v", value))
        stored = run.trainer.callback_metrics["v"]
        assert {"a": (True, 1.0)} == {key: (isinstance(item, torch.Tensor), item.item())
                                      for key, item in stored.items()}
    else:
        with pytest.raises(ValueError, match=re.escape(f"`{kind}` values cannot be logged")):
            _fit_logging(target, lambda self, i: self.log("v", value))


@clause("LOG-015", "log_dict logs every item under its own name with the same options.",
        source="lightning/pytorch/core/module.py::LightningModule.log_dict")
@requires("logging")
def test_log_dict_logs_each_item(target):
    def log(self, batch_idx):
        self.log_dict({"a": 1.0, "b": 2.0}, on_step=True, on_epoch=True, prog_bar=True)

    run = _fit_logging(target, log)

    assert {"a_step", "a_epoch", "b_step", "b_epoch"} == set(run.trainer.progress_bar_metrics)


@clause("LOG-016", "Logging a nested dictionary raises ValueError.",
        source=f"{LOOP_LOGGING}::test_log_invalid_raises")
@requires("logging")
def test_nested_dict_rejected(target):
    with pytest.raises(ValueError, match=re.escape("nested dictionaries cannot be logged")):
        _fit_logging(target, lambda self, i: self.log("d", {"a": {"b": 1.0}}))


@clause("LOG-017", "A logged torchmetrics Metric gives compute() as its epoch value, then is reset.",
        source="tests/tests_pytorch/core/test_metric_result_integration.py")
@requires("logging")
def test_metric_object_epoch_value(target):
    torchmetrics = pytest.importorskip("torchmetrics")

    def log(self, batch_idx):
        self.total.update(torch.tensor(float(batch_idx + 1)))
        self.log("total", self.total, on_step=False, on_epoch=True)

    module = training_step_logging(target.pl, log)
    module.total = torchmetrics.SumMetric()
    run = train_logging(target, module, max_epochs=2)

    assert (3.0, 0) == (run.trainer.callback_metrics["total"].item(), module.total.update_count)


@clause("LOG-018", "Values in callback_metrics are detached from the autograd graph.",
        source=f"{RESULT}::_ResultCollection.log")
@requires("logging")
def test_logged_values_detached(target):
    def log(self, batch_idx):
        self.log("loss", self.layer(torch.ones(1, 32)).sum())

    run = _fit_logging(target, log)

    assert False is run.trainer.callback_metrics["loss"].requires_grad


@clause("LOG-019", "self.log(..., logger=True) with no logger configured warns.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_logger_true_without_logger_warns(target):
    with pytest.warns(UserWarning, match=re.escape("but have no logger configured")):
        _fit_logging(target, lambda self, i: self.log("x", 1.0, logger=True))


@clause("LOG-020", "An unknown reduce_fx raises MisconfigurationException.",
        source=f"{RESULT}::_Metadata._parse_reduce_fx")
@requires("logging")
def test_invalid_reduce_fx(target):
    message = "Only `self.log(..., reduce_fx={min,max,mean,sum})` are supported"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _fit_logging(target, lambda self, i: self.log("x", 1.0, reduce_fx="median"))


@clause("LOG-021", "Logging one key twice in a hook with different options raises.",
        source=f"{RESULT}::_ResultCollection.log")
@requires("logging")
def test_same_key_different_options(target):
    def log(self, batch_idx):
        self.log("x", 1.0)
        self.log("x", 1.0, prog_bar=True)

    message = "You called `self.log(x, ...)` twice in `training_step` with different arguments"
    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _fit_logging(target, log)


@clause("LOG-022", "self.log(on_step=False, on_epoch=False) raises MisconfigurationException.",
        source=f"{RESULT}::_Metadata.__post_init__")
@requires("logging")
def test_neither_level_rejected(target):
    message = "`self.log(on_step=False, on_epoch=False)` is not useful"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _fit_logging(target, lambda self, i: self.log("x", 1.0, on_step=False, on_epoch=False))


@clause("LOG-023", "A key containing '/dataloader_idx_' raises while add_dataloader_idx is True.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_dataloader_idx_in_name_rejected(target):
    message = "but it should not contain information about `dataloader_idx`"

    with pytest.raises(target.pl.MisconfigurationException, match=re.escape(message)):
        _fit_logging(target, lambda self, i: self.log("x/dataloader_idx_0", 1.0))


@clause("LOG-051", "With add_dataloader_idx=False a key may contain '/dataloader_idx_' (since 2.5.3).",
        source=f"{MODULE_LOG}", changes=("dataloader_idx_name_without_suffix",))
@requires("logging")
def test_dataloader_idx_in_name_without_suffix(target, contract):
    def log(self, batch_idx):
        self.log("x/dataloader_idx_0", 1.0, add_dataloader_idx=False)

    if contract.has("dataloader_idx_name_without_suffix"):
        run = _fit_logging(target, log)
        assert "x/dataloader_idx_0" in run.trainer.callback_metrics
    else:
        with pytest.raises(target.pl.MisconfigurationException, match="dataloader_idx"):
            _fit_logging(target, log)


@clause("LOG-052", "A logged Python number becomes a tensor of torch's default float dtype.",
        source=f"{MODULE_LOG}")
@requires("logging")
def test_number_uses_default_dtype(target):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        run = _fit_logging(target, lambda self, i: self.log("n", 3.0))
    finally:
        torch.set_default_dtype(previous)

    assert torch.float64 == run.trainer.callback_metrics["n"].dtype
