"""ConformanceCallback watches real runs: silent on a clean one, each violation by its clause,
and the run's results are the same with and without it."""

import dataclasses
import pickle
import warnings

import lightning.pytorch as lpl
import pytest
import torch
from lightning.pytorch.utilities.exceptions import MisconfigurationException

from lightning_conformance import ConformanceCallback
from lightning_conformance.adapters.stage import neutral_settings
from lightning_conformance.checks import ConformanceError, ConformanceWarning
from lightning_conformance.checks._callback_checkpoints import resume_problem
from lightning_conformance.clauses._models import FEATURES, loader
from lightning_conformance.reports.model import Result, Subject
from tests.mutants import MUTANTS, mutant_target

RUN = {"max_epochs": 2, "limit_train_batches": 3, "limit_val_batches": 2,
       "num_sanity_val_steps": 0}


@dataclasses.dataclass
class Config:  # a custom class in hparams keeps torch.load(weights_only=True) from loading
    width: int = 2


def _init(self, width=2, extra=False):
    type(self).__mro__[1].__init__(self)
    self.layer = torch.nn.Linear(FEATURES, width)
    if extra:
        self.unused = torch.nn.Linear(2, 2)


def _training_step(self, batch, batch_idx):
    loss = self.layer(batch).sum()
    self.log("train_loss", loss)
    return loss


def _validation_step(self, batch, batch_idx):
    self.log("val_loss", self.layer(batch).sum())


def _sgd(self):
    return torch.optim.SGD(self.parameters(), lr=0.01)


def module_class(pl, **methods):
    """A small module class on ``pl`` with training and validation; ``methods`` replace parts."""
    namespace = {"__init__": _init, "training_step": _training_step,
                 "validation_step": _validation_step, "configure_optimizers": _sgd,
                 "train_dataloader": lambda self: loader(seed=1),
                 "val_dataloader": lambda self: loader(seed=2)}
    return type("Scenario", (pl.LightningModule,), namespace | methods)


def watch(pl, module, tmp_path, *, severity="log", save=False, ckpt_path=None, **settings):
    """Fit ``module`` with a ConformanceCallback; the callback and the trainer."""
    callback = ConformanceCallback(severity, namespace=pl)
    run = neutral_settings(str(tmp_path)) | RUN | settings
    trainer = pl.Trainer(**run | {"callbacks": [callback, *run.get("callbacks", [])]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(module, ckpt_path=ckpt_path)
        if save:
            trainer.save_checkpoint(tmp_path / "after-fit.ckpt")
    return callback, trainer


def clauses(callback) -> set[str]:
    return {result.clause for result in callback.results}


def test_clean_run_reports_nothing(tmp_path, capsys):
    callback, _ = watch(lpl, module_class(lpl)(), tmp_path, save=True)

    assert [] == callback.results
    assert "no contract violation seen in fit." in capsys.readouterr().out


def _manual(body):
    def training_step(self, batch, batch_idx):
        body(self, self.layer(batch).sum())

    def configure_optimizers(self):
        return [torch.optim.SGD(self.parameters(), lr=0.01),
                torch.optim.SGD(self.parameters(), lr=0.01)]

    return {"training_step": training_step, "configure_optimizers": configure_optimizers,
            "automatic_optimization": False}


def _steps_first_only(self, loss):
    first, _ = self.optimizers()
    self.manual_backward(loss)
    first.step()
    first.zero_grad()


def _bypasses_manual_backward(self, loss):
    first, second = self.optimizers()
    loss.backward()
    first.step()
    second.step()


def _plateau_on(monitor, strict=False):
    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.01)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {
            "scheduler": scheduler, "monitor": monitor, "strict": strict}}

    return configure_optimizers


def _one_cycle_per_epoch(self):
    optimizer = torch.optim.SGD(self.parameters(), lr=0.01)
    return [optimizer], [torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10)]


def _no_hparams_init(self, width):
    _init(self, width)


def _custom_hparams_init(self, config=Config()):  # noqa: B008 (the point of the scenario)
    _init(self, config.width)
    self.save_hyperparameters({"config": config})


def _nan_loss(self, batch, batch_idx):
    return self.layer(batch).sum() * 0 + torch.nan  # the weights stay finite


VIOLATIONS = {
    "loss-is-nan": ("MOD-014", {"training_step": _nan_loss}),
    "logs-nan": ("MOD-017", {"validation_step": lambda self, b, i: self.log("val", torch.nan)}),
    "unused-parameter": ("MOD-015", {"__init__": lambda self: _init(self, extra=True)}),
    "monitor-never-logged": ("MOD-008", {"configure_optimizers": _plateau_on("missing")}),
    "one-cycle-per-epoch": ("OPT-029", {"configure_optimizers": _one_cycle_per_epoch}),
    "second-optimizer-never-steps": ("MOD-026", _manual(_steps_first_only)),
    "loss-backward-in-manual": ("MOD-025", _manual(_bypasses_manual_backward)),
}


@pytest.mark.parametrize("scenario", VIOLATIONS)
def test_module_violation_is_reported_with_its_clause(tmp_path, scenario):
    expected, methods = VIOLATIONS[scenario]
    callback, _ = watch(lpl, module_class(lpl, **methods)(), tmp_path)

    assert {expected} == clauses(callback)


def test_checkpoint_needing_init_args_is_reported(tmp_path):
    module = module_class(lpl, __init__=_no_hparams_init)(width=2)
    callback, _ = watch(lpl, module, tmp_path, save=True)
    result = callback.results[0]

    assert {"MOD-022"} == clauses(callback)
    assert "['width']" in result.message
    assert (Result, Subject("module", "Scenario")) == (type(result), result.subject)
    assert f"\nMOD-022  FAILED   {result.sentence}\n" in callback.summary()  # as `check` prints


def test_checkpoint_refused_by_weights_only_load_names_the_object(tmp_path):
    callback, _ = watch(lpl, module_class(lpl, __init__=_custom_hparams_init)(), tmp_path,
                        save=True)

    assert [("MOD-023", "warned")] == [(r.clause, r.status) for r in callback.results]
    assert "Config" in callback.results[0].message


RAISING = {  # Lightning raises for these; the callback names the clause first
    "log-in-setup": ("LOG-005", MisconfigurationException,
                     {"setup": lambda self, stage: self.log("x", 1.0)}),
    "log-a-matrix": ("LOG-013", ValueError,
                     {"validation_step": lambda self, b, i: self.log("m", b)}),
    "strict-monitor-never-logged": ("MOD-008", MisconfigurationException,
                                    {"configure_optimizers": _plateau_on("missing", strict=True)}),
}


@pytest.mark.parametrize("scenario", RAISING)
def test_violation_that_lightning_raises_for_is_named_first(tmp_path, scenario, capsys):
    expected, error, methods = RAISING[scenario]
    callback = ConformanceCallback("log")
    trainer = lpl.Trainer(**neutral_settings(str(tmp_path)) | RUN | {"callbacks": [callback]})

    with pytest.raises(error):
        trainer.fit(module_class(lpl, **methods)())
    assert {expected} == clauses(callback)
    assert expected in capsys.readouterr().out  # the summary is printed on the way out


def test_resuming_reports_nothing_and_a_weights_only_checkpoint_is_named(tmp_path):
    _, trainer = watch(lpl, module_class(lpl)(), tmp_path, save=True)
    callback, resumed = watch(lpl, module_class(lpl)(), tmp_path, max_epochs=3,
                              ckpt_path=str(tmp_path / "after-fit.ckpt"))
    weights_only = {"epoch": 1, "global_step": 6, "state_dict": {}}

    assert ([], 9) == (callback.results, resumed.global_step)
    # Note: Lightning calls no callback's on_load_checkpoint for a checkpoint without
    # "callbacks" (a weights-only one), so the rule is checked directly here.
    assert "CKPT-023" == resume_problem(weights_only)[0]


def test_nan_weights_are_saved_as_they_are(tmp_path):
    nan_weights = {"training_step": lambda self, b, i: self.layer(b).sum() * torch.nan}
    callback, _ = watch(lpl, module_class(lpl, **nan_weights)(), tmp_path, save=True)

    assert "MOD-021" not in clauses(callback)  # NaN in the checkpoint equals NaN in the module


def _mutant_pl(mutant_id):
    return mutant_target(next(m for m in MUTANTS if m.id == mutant_id)).pl


TRAINER_VIOLATIONS = {  # mutants of the reference trainer that break the contract silently
    "callbacks-miss-train-batch-start": ("HOOK-013", {}),
    "epoch-hooks-allow-on-step": ("LOG-003", {"on_train_epoch_end": lambda self:
                                              self.log("x", 1.0, on_step=True)}),
    "multi-element-tensors-accepted": ("LOG-013", {"validation_step": lambda self, b, i:
                                                   self.log("m", b)}),
    "manual-backward-without-after-hook": ("MAN-005", _manual(lambda self, loss: (
        self.manual_backward(loss), [opt.step() for opt in self.optimizers()]))),
    "ckpt-epoch-after-fit-one-less": ("CKPT-007", {}),
}


@pytest.mark.parametrize("mutant", TRAINER_VIOLATIONS)
def test_trainer_violation_is_reported_with_its_clause(tmp_path, mutant):
    expected, methods = TRAINER_VIOLATIONS[mutant]
    pl = _mutant_pl(mutant)
    callback, _ = watch(pl, module_class(pl, **methods)(), tmp_path, save=True)

    assert expected in clauses(callback)


def test_the_run_is_the_same_with_and_without_the_callback(tmp_path):
    def fit(callbacks, root):
        lpl.seed_everything(7)
        module = module_class(lpl, configure_optimizers=_plateau_on("val_loss"))()
        checkpoint = lpl.callbacks.ModelCheckpoint(dirpath=root, save_last=True)
        trainer = lpl.Trainer(**neutral_settings(str(root)) | RUN | {
            "callbacks": [*callbacks, checkpoint], "enable_checkpointing": True})
        trainer.fit(module)
        saved = torch.load(checkpoint.last_model_path, weights_only=True)
        return module, trainer, saved

    plain, plain_trainer, plain_saved = fit([], tmp_path / "plain")
    watched, watched_trainer, watched_saved = fit([ConformanceCallback("log")], tmp_path / "cb")

    assert plain.state_dict().keys() == watched.state_dict().keys()
    assert all(torch.equal(v, watched.state_dict()[k]) for k, v in plain.state_dict().items())
    assert plain_trainer.global_step == watched_trainer.global_step
    assert plain_trainer.callback_metrics == watched_trainer.callback_metrics
    assert plain_saved.keys() == watched_saved.keys()
    assert plain_saved["callbacks"].keys() == watched_saved["callbacks"].keys()
    assert "log" not in vars(watched)  # the module's log is given back at teardown


def test_severity_error_raises_at_the_end_of_fit(tmp_path):
    module = module_class(lpl, **VIOLATIONS["loss-is-nan"][1])()

    with pytest.raises(ConformanceError, match="MOD-014"):
        watch(lpl, module, tmp_path, severity="error")


def test_severity_warn_warns_once_per_violation(tmp_path):
    callback = ConformanceCallback()  # severity="warn", namespace lightning.pytorch
    trainer = lpl.Trainer(**neutral_settings(str(tmp_path)) | RUN | {"callbacks": [callback]})

    with pytest.warns(ConformanceWarning, match="MOD-014") as record:
        trainer.fit(module_class(lpl, **VIOLATIONS["loss-is-nan"][1])())
    assert 1 == sum(issubclass(w.category, ConformanceWarning) for w in record)


def test_pytorch_lightning_namespace(tmp_path):
    import pytorch_lightning as ptl

    callback, _ = watch(ptl, module_class(ptl, **VIOLATIONS["loss-is-nan"][1])(), tmp_path)

    assert isinstance(callback, ptl.Callback) and not isinstance(callback, lpl.Callback)
    assert {"MOD-014"} == clauses(callback)


def test_callback_pickles_for_spawned_processes():
    callback = pickle.loads(pickle.dumps(ConformanceCallback("error")))

    assert isinstance(callback, lpl.Callback)
    assert ("error", []) == (callback.severity, callback.results)


def test_unknown_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        ConformanceCallback("loud")
