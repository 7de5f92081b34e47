"""The mutant catalogue: deliberate breaks of the reference, each with the clauses it must fail.

``kills`` is the exact set of clauses that fail on the mutant: the clause it was written for
and the other clauses that observe the same broken rule. ``tests/test_mutants.py`` checks
that set against a real run, so a clause that stops catching its mutant shows up at once.
"""

from ._load import Mutant

__all__ = ["MUTANTS"]


def _m(id, kills, file, old, new):
    return Mutant(id, frozenset(kills.split()), file, old, new)


MUTANTS = [
    # The first mutant is also used by tests/test_plugin.py: keep HOOK-001 out of its kills.
    _m("no-configure-model", "HOOK-008 HOOK-037 HOOK-056",
       "trainer.py",
       'if is_overridden("configure_model", model, LightningModule):\n'
       '            self._call_module("configure_model")',
       'if False:\n            self._call_module("configure_model")'),
    _m("no-run-stage-zero-grad",
       "HOOK-001 HOOK-002 HOOK-003 HOOK-010 HOOK-050 HOOK-051 HOOK-052 HOOK-055 HOOK-056",
       "trainer.py",
       "        self.lightning_module.zero_grad()\n        if self.state.fn",
       "        if self.state.fn"),
    _m("configure-callbacks-after-prepare-data", "HOOK-009",
       "trainer.py",
       "        attach_model_callbacks(self)  # configure_callbacks\n"
       "        verify_configuration(self, model)  # HOOK-040 ... HOOK-046\n"
       "        self._prepare_data()\n",
       "        verify_configuration(self, model)  # HOOK-040 ... HOOK-046\n"
       "        self._prepare_data()\n"
       "        attach_model_callbacks(self)  # configure_callbacks\n"),
    _m("datamodule-prepare-data-always", "HOOK-004",
       "calls.py",
       'if self.datamodule is not None and is_overridden(\n'
       '            "prepare_data", self.datamodule, LightningDataModule\n        ):',
       "if self.datamodule is not None:"),
    _m("module-prepare-data-first", "HOOK-007",
       "calls.py",
       '        if self.datamodule is not None and is_overridden(\n'
       '            "prepare_data", self.datamodule, LightningDataModule\n        ):\n'
       '            self._call_datamodule("prepare_data")\n'
       '        if is_overridden("prepare_data", self.lightning_module, LightningModule):\n'
       '            self._call_module("prepare_data")',
       '        if is_overridden("prepare_data", self.lightning_module, LightningModule):\n'
       '            self._call_module("prepare_data")\n'
       '        if self.datamodule is not None and is_overridden(\n'
       '            "prepare_data", self.datamodule, LightningDataModule\n        ):\n'
       '            self._call_datamodule("prepare_data")'),
    _m("datamodule-setup-last", "HOOK-005 HOOK-007",
       "calls.py",
       '        if self.datamodule is not None:\n'
       '            self._call_datamodule("setup", stage=stage)\n'
       '        self._call("setup", stage=stage)  # callbacks, then the module',
       '        self._call("setup", stage=stage)  # callbacks, then the module\n'
       '        if self.datamodule is not None:\n'
       '            self._call_datamodule("setup", stage=stage)'),
    _m("datamodule-teardown-last", "HOOK-006",
       "calls.py",
       '        if self.datamodule is not None:\n'
       '            self._call_datamodule("teardown", stage=stage)\n'
       '        self._call("teardown", stage=stage)',
       '        self._call("teardown", stage=stage)\n'
       '        if self.datamodule is not None:\n'
       '            self._call_datamodule("teardown", stage=stage)'),
    _m("module-before-callbacks",
       "HOOK-001 HOOK-002 HOOK-003 HOOK-005 HOOK-006 HOOK-007 HOOK-010 HOOK-013 HOOK-014 HOOK-020 HOOK-024 HOOK-030 HOOK-036 HOOK-038 HOOK-047 HOOK-050 HOOK-051 HOOK-052 HOOK-055",
       "calls.py",
       "        self._call_callbacks(hook, *args, **kwargs)\n"
       "        return self._call_module(hook, *args, **kwargs)",
       "        output = self._call_module(hook, *args, **kwargs)\n"
       "        self._call_callbacks(hook, *args, **kwargs)\n        return output"),
    _m("no-monitoring-exception", "HOOK-039",
       "calls.py",
       '_MONITORING_CALLBACKS_AFTER_MODULE = frozenset({"on_train_epoch_end"})',
       "_MONITORING_CALLBACKS_AFTER_MODULE = frozenset()"),
    _m("checkpoint-callbacks-not-last", "HOOK-047",
       "callback_list.py",
       "    return others + [callback for callback in callbacks if isinstance(callback, Checkpoint)]",
       "    return list(callbacks)"),
    _m("configure-callbacks-appends", "HOOK-048",
       "callback_list.py",
       "        if any(issubclass(model_type, kind) for model_type in model_types)",
       "        if False"),
    _m("module-saves-before-callbacks", "HOOK-049",
       "checkpoint.py",
       "    if not weights_only:\n        for callback in trainer.callbacks:\n"
       "            callback.on_save_checkpoint(trainer, module, checkpoint)\n"
       '    trainer._call_module("on_save_checkpoint", checkpoint)',
       '    trainer._call_module("on_save_checkpoint", checkpoint)\n'
       "    if not weights_only:\n        for callback in trainer.callbacks:\n"
       "            callback.on_save_checkpoint(trainer, module, checkpoint)"),
    _m("current-epoch-never-advances", "HOOK-003 HOOK-011 HOOK-012 HOOK-015 HOOK-019 HOOK-025 HOOK-034",
       "fit_loop.py",
       "        self.epochs_completed += 1\n",
       "\n"),
    _m("max-steps-off-by-one", "HOOK-012",
       "fit_loop.py",
       "self.max_steps != -1 and self.optimizer_steps >= self.max_steps",
       "self.max_steps != -1 and self.optimizer_steps > self.max_steps"),
    _m("callbacks-miss-train-batch-start",
       "HOOK-001 HOOK-002 HOOK-003 HOOK-013 HOOK-020 HOOK-024",
       "fit_loop.py",
       'response = trainer._call("on_train_batch_start", batch, batch_idx)',
       'response = trainer._call_module("on_train_batch_start", batch, batch_idx)'),
    _m("minus-one-ignored", "HOOK-024 HOOK-025",
       "fit_loop.py",
       "skip_rest_of_epoch = response == -1",
       "skip_rest_of_epoch = False"),
    _m("minus-one-stops-fit", "HOOK-025",
       "fit_loop.py",
       "            if skip_rest_of_epoch:\n                self.is_last_batch = True\n",
       "            if skip_rest_of_epoch:\n                self.is_last_batch = True\n"
       "                trainer.should_stop = True\n"),
    _m("no-validation-model-zero-grad",
       "HOOK-002 HOOK-003 HOOK-010 HOOK-030 HOOK-031",
       "fit_loop.py",
       "            if not self.should_accumulate():  # gradients would hold memory during validation",
       "            if False:"),
    _m("val-dataloader-loaded-late", "HOOK-003 HOOK-027 HOOK-030",
       "fit_loop.py",
       "if self.should_check_val_epoch() and self.val_loop.loaders is None:",
       "if False:"),
    _m("int-interval-ignored", "HOOK-032 HOOK-033",
       "fit_loop.py",
       "            return (current + 1) % trainer.val_check_batch == 0",
       "            return self.is_last_batch"),
    _m("float-interval-rounded-up", "HOOK-033",
       "fit_loop.py",
       "        return max(1, int(self.max_batches * interval))",
       "        return max(1, int(self.max_batches * interval) + (interval < 1))"),
    _m("check-val-epoch-off-by-one", "HOOK-034",
       "fit_loop.py",
       "cve is None or (self.trainer.current_epoch + 1) % cve == 0",
       "cve is None or self.trainer.current_epoch % cve == 0"),
    _m("limit-train-zero-loads-data", "HOOK-029",
       "fit_loop.py",
       "        if trainer.limit_train_batches == 0:\n            return\n"
       "        (loader,) = flatten_loaders",
       "        (loader,) = flatten_loaders"),
    _m("accumulation-never-steps-late", "HOOK-019 HOOK-020",
       "fit_loop.py",
       "        window_closed = self.batches_ready % self.trainer.accumulate_grad_batches == 0",
       "        window_closed = True"),
    _m("zero-grad-every-batch", "HOOK-018 HOOK-020",
       "optimization.py",
       "starts_window = batch_idx % trainer.accumulate_grad_batches == 0",
       "starts_window = True"),
    _m("closure-also-run-outside-step",
       "HOOK-001 HOOK-002 HOOK-003 HOOK-013 HOOK-019 HOOK-020 HOOK-024 HOOK-028",
       "optimization.py",
       "        else:\n            trainer._call_module(\n",
       "        else:\n            closure()\n            trainer._call_module(\n"),
    _m("optimizer-step-arguments-swapped", "HOOK-011 HOOK-015 HOOK-019 HOOK-025 HOOK-032 HOOK-033",
       "optimization.py",
       "                trainer.current_epoch,\n                batch_idx,\n"
       "                trainer._lightning_optimizers[0],",
       "                batch_idx,\n                trainer.current_epoch,\n"
       "                trainer._lightning_optimizers[0],"),
    _m("outputs-lose-loss", "HOOK-016 HOOK-017",
       "optimization.py",
       'return {"loss": self.loss, **self.extra}',
       "return dict(self.extra)"),
    _m("outputs-lose-extra-keys", "HOOK-017",
       "optimization.py",
       'extra = {key: value for key, value in output.items() if key != "loss"}',
       "extra = {}"),
    _m("clip-algorithm-filled-in", "HOOK-021",
       "optimization.py",
       "gradient_clip_algorithm=trainer.gradient_clip_algorithm,",
       'gradient_clip_algorithm=trainer.gradient_clip_algorithm or "norm",'),
    _m("clip-norm-ignored", "HOOK-022",
       "module.py",
       "            torch.nn.utils.clip_grad_norm_(parameters, clip_val)",
       "            pass"),
    _m("clip-value-ignored", "HOOK-023",
       "module.py",
       "            torch.nn.utils.clip_grad_value_(parameters, clip_value=clip_val)",
       "            pass"),
    _m("sanity-check-runs-all-batches", "HOOK-026",
       "evaluation_loop.py",
       "        return [min(self.trainer.num_sanity_val_steps, batches) for batches in self._max_batches]",
       "        return self._max_batches"),
    _m("limit-test-zero-loads-data", "HOOK-055",
       "evaluation_loop.py",
       "if limit == 0 or not is_overridden(step_name, trainer.lightning_module, LightningModule):",
       "if not is_overridden(step_name, trainer.lightning_module, LightningModule):"),
    _m("limit-val-zero-still-validates", "HOOK-028",
       "properties.py",
       "            and self.limit_val_batches > 0",
       "            and self.limit_val_batches >= 0"),
    _m("test-uses-val-limit", "HOOK-051 HOOK-055",
       "evaluation_loop.py",
       "limit = trainer.limit_test_batches if trainer.testing else trainer.limit_val_batches",
       "limit = trainer.limit_val_batches"),
    _m("eval-mode-after-start",
       "HOOK-002 HOOK-003 HOOK-030 HOOK-031 HOOK-035 HOOK-050 HOOK-051",
       "evaluation_loop.py",
       '            trainer._call_module(f"on_{noun}_model_eval")\n'
       '            trainer._call(f"on_{noun}_start")',
       '            trainer._call(f"on_{noun}_start")\n'
       '            trainer._call_module(f"on_{noun}_model_eval")'),
    _m("model-train-hook-always-called",
       "HOOK-002 HOOK-003 HOOK-030 HOOK-036 HOOK-037 HOOK-050 HOOK-051",
       "evaluation_loop.py",
       'if is_overridden(f"on_{noun}_model_train", module, LightningModule):',
       "if True:"),
    _m("train-modes-not-restored", "HOOK-037",
       "evaluation_loop.py",
       "            submodule.training = modes[name]",
       "            submodule.training = True"),
    _m("dataloader-idx-not-passed", "HOOK-054",
       "evaluation_loop.py",
       "    return (batch, batch_idx, dataloader_idx) if num_dataloaders > 1 else (batch, batch_idx)",
       "    return (batch, batch_idx)"),
    _m("predictions-drop-last", "HOOK-053",
       "prediction_loop.py",
       "        return predictions[0] if len(self.loaders) == 1 else predictions",
       "        return predictions[0][:-1] if len(self.loaders) == 1 else predictions"),
    _m("training-epoch-end-allowed", "HOOK-040",
       "configuration.py",
       '    _reject_legacy_hook(model, "training_epoch_end", "on_train_epoch_end", "HOOK-040")\n',
       "\n"),
    _m("validation-epoch-end-allowed", "HOOK-041",
       "configuration.py",
       '    _reject_legacy_hook(model, "validation_epoch_end", "on_validation_epoch_end", "HOOK-041")\n',
       "\n"),
    _m("legacy-hooks-allowed-in-evaluation", "HOOK-041 HOOK-042",
       "configuration.py",
       '    _reject_legacy_hook(model, legacy_name, f"on_{legacy_name}", legacy_clause)\n',
       "\n"),
    _m("training-step-optional", "HOOK-043",
       "configuration.py",
       '    _require(\n        model, "training_step", "HOOK-043",',
       '    (lambda *args: None)(\n        model, "training_step", "HOOK-043",'),
    _m("configure-optimizers-optional", "HOOK-044",
       "configuration.py",
       '    _require(\n        model, "configure_optimizers", "HOOK-044",',
       '    (lambda *args: None)(\n        model, "configure_optimizers", "HOOK-044",'),
    _m("evaluation-steps-optional", "HOOK-045 HOOK-046",
       "configuration.py",
       '    _require(\n        model, step_name, step_clause,',
       '    (lambda *args: None)(\n        model, step_name, step_clause,'),
]
