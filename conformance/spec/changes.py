"""The named behaviour changes of Lightning that make clauses vary by version: the data.

Only an intended change of behaviour (Lightning's "Changed", "Removed", "Deprecated", an API
change) belongs here; a bug that Lightning fixed is a known deviation of the releases that have
it, never a change. ``contract.Contract.has`` reads this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

__all__ = ["CHANGES", "Change"]


@dataclass(frozen=True)
class Change:
    """One observable behaviour change of Lightning, in words, with its evidence."""

    name: str
    since: str
    before: str
    after: str
    evidence: str

    @property
    def since_version(self) -> Version:
        return Version(self.since)


CHANGES: dict[str, Change] = {
    change.name: change
    for change in (
        Change(
            "run_stage_zero_grad",
            "2.1.0",
            before="The module's zero_grad is called at the start of every evaluation loop.",
            after="The module's zero_grad is called once per stage, right after on_fit_start "
            "(or configure_model outside fit), and before in-fit validation through "
            "on_validation_model_zero_grad.",
            evidence="Lightning 2.1.0 CHANGELOG, PR #18710 (trainer/trainer.py::_run_stage)",
        ),
        Change(
            "configure_model_hook",
            "2.1.0",
            before="configure_sharded_model is the hook that builds the model inside the strategy.",
            after="configure_model is called after setup and before configure_optimizers.",
            evidence="Lightning 2.1.0 CHANGELOG, PR #18004 "
            "(trainer/call.py::_call_configure_model)",
        ),
        Change(
            "eval_mode_restored_without_train_call",
            "2.2.0",
            before="After every evaluation loop the trainer calls train() and on_*_model_train.",
            after="on_*_model_train is called only when overridden; otherwise each submodule's "
            "training flag is restored directly, without a train() call.",
            evidence="Lightning 2.2.0 CHANGELOG, PR #18951 (loops/evaluation_loop.py)",
        ),
        Change(
            "monitoring_callbacks_after_module",
            "2.0.0",
            before="Every callback's on_train_epoch_end runs before the module's.",
            after="Checkpoint and EarlyStopping callbacks run on_train_epoch_end after the "
            "module's; other callbacks run before it.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16567 (loops/fit_loop.py::on_advance_end)",
        ),
        Change(
            "prepare_data_only_if_overridden",
            "2.3.0",
            before="prepare_data is called on the datamodule and the module whether or not "
            "they override it.",
            after="prepare_data is called only on a datamodule or module that overrides it.",
            evidence="trainer/connectors/data_connector.py::prepare_data: the is_overridden "
            "checks are in 2.3.0 and absent in 2.2.5 (observed on both)",
        ),
        Change(
            "skipped_epoch_steps_epoch_schedulers",
            "2.6.0",
            before="When on_train_batch_start returns -1 the epoch ends at once; no scheduler "
            "is stepped for that batch.",
            after="When on_train_batch_start returns -1, epoch-interval schedulers are still "
            "stepped before the epoch ends.",
            evidence="loops/training_epoch_loop.py::advance: 2.5.6 raises StopIteration before "
            "update_lr_schedulers, 2.6.6 after it (observed on both)",
        ),
        Change(
            "epoch_end_hooks_removed",
            "2.0.0",
            before="training_epoch_end, validation_epoch_end and test_epoch_end get the step "
            "outputs, before on_*_epoch_end; the evaluation ones run even when not overridden.",
            after="Defining training_epoch_end, validation_epoch_end or test_epoch_end raises "
            "NotImplementedError when the stage starts.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16520 (trainer/configuration_validator.py)",
        ),
        Change(
            "manual_step_returns_mapping",
            "2.5.3",
            before="In manual optimization training_step may return None, a Tensor or a dict; "
            "any other Mapping raises MisconfigurationException.",
            after="In manual optimization training_step may return any Mapping; its copy "
            "reaches on_train_batch_end with the loss detached.",
            evidence="Lightning 2.5.3 CHANGELOG, PR #21011 (loops/optimization/manual.py::"
            "ManualResult.from_training_step_output); observed on 2.5.6 and 2.4.0",
        ),
        Change(
            "checkpoint_not_found_message",
            "2.1.0",
            before="A missing ckpt_path raises FileNotFoundError 'Checkpoint at <path> not found. "
            "Aborting training.'",
            after="A missing ckpt_path raises FileNotFoundError "
            "'Checkpoint file not found: <path>'.",
            evidence="io/torch_io.py::TorchCheckpointIO.load_checkpoint "
            "(observed on 2.0.9 and 2.1.4)",
        ),
        Change(
            "checkpoint_load_weights_only_false",
            "2.4.0",
            before="Checkpoints are read with torch.load's default weights_only (True on torch "
            ">= 2.6): a hyperparameter of a custom class cannot be unpickled.",
            after="Checkpoints are read with weights_only=False: any pickled object loads.",
            evidence="Lightning 2.4.0, fabric/utilities/cloud_io.py::_load "
            "(observed on 2.3.3 and 2.4.0)",
        ),
        Change(
            "weights_only_follows_torch_default",
            "2.6.0",
            before="Checkpoints are read with weights_only=False.",
            after="fit/validate/test/predict and load_from_checkpoint take weights_only=None, "
            "which leaves torch.load's default (True on torch >= 2.6) in force.",
            evidence="Lightning 2.6.0 CHANGELOG, PR #21072 (observed on 2.5.6 and 2.6.6)",
        ),
        Change(
            "mid_epoch_restart_consistency",
            "2.5.0",
            before="Resuming inside an epoch calls on_train_epoch_start again and re-runs the "
            "batch the checkpoint was saved in (one extra optimizer step).",
            after="Resuming inside an epoch skips on_train_epoch_start and runs only the batches "
            "after those the checkpoint counted.",
            evidence="Lightning 2.5.0 CHANGELOG, PR #20379 (observed on 2.4.0 and 2.5.6)",
        ),
        Change(
            "dataloader_idx_name_without_suffix",
            "2.5.3",
            before="self.log raises for any key containing '/dataloader_idx_', whatever "
            "add_dataloader_idx says.",
            after="A key containing '/dataloader_idx_' is accepted when add_dataloader_idx=False; "
            "it still raises when add_dataloader_idx=True.",
            evidence="Lightning 2.5.3 CHANGELOG, PR #20987 (core/module.py::LightningModule.log; "
            "observed on 2.4.0 and 2.5.6)",
        ),
        Change(
            "optimizer_idx_rejected_at_fit_start",
            "2.1.0",
            before="A training_step that requires optimizer_idx fails with a TypeError (missing "
            "argument) when the first batch calls it.",
            after="fit raises RuntimeError before training: remove optimizer_idx and use manual "
            "optimization.",
            evidence="core/optimizer.py::_validate_multiple_optimizers_support: the "
            "optimizer_idx check is in 2.1.4 and absent in 2.0.9 (observed on both)",
        ),
        Change(
            "double_precision_converts_input_first",
            "2.1.0",
            before="With precision='64-true' the transfer hooks get the batch as the dataloader "
            "made it; float tensors become float64 on their way into the *_step methods.",
            after="With precision='64-true' float batch tensors become float64 before "
            "on_before_batch_transfer (Precision.convert_input in the loops).",
            evidence="loops/training_epoch_loop.py::advance calls precision_plugin.convert_input "
            "in 2.1.4; 2.0.9 wraps the module in LightningDoublePrecisionModule (observed on both)",
        ),
        Change(
            "mixed_precision_plugin_renamed",
            "2.1.0",
            before="The GradScaler's state is saved under the checkpoint key "
            "'MixedPrecisionPlugin'.",
            after="The GradScaler's state is saved under the checkpoint key 'MixedPrecision'.",
            evidence="the key is the precision plugin's class __qualname__ (trainer/connectors/"
            "checkpoint_connector.py::dump_checkpoint); plugins/precision/amp.py names the class "
            "MixedPrecisionPlugin in 2.0.9 and MixedPrecision in 2.1.4",
        ),
        Change(
            "optimizer_idx_removed",
            "2.0.0",
            before="optimizer_step, optimizer_zero_grad, on_before_optimizer_step, "
            "configure_gradient_clipping and lr_scheduler_step receive optimizer_idx, even with "
            "one optimizer; so does training_step with several optimizers.",
            after="No hook receives optimizer_idx.",
            evidence="Lightning 2.0.0 CHANGELOG (Removed: the optimizer_idx arguments); the hook "
            "signatures of core/module.py in 2.0.9 have none (observed)",
        ),
        Change(
            "several_optimizers_need_manual",
            "2.0.0",
            before="Several optimizers work in automatic optimization: training_step runs once "
            "per optimizer with its optimizer_idx; without that parameter fit raises ValueError.",
            after="Several optimizers in automatic optimization make fit raise RuntimeError: "
            "only manual optimization supports them.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16539 (core/optimizer.py::"
            "_validate_multiple_optimizers_support; observed on 1.9.5 and 2.0.9)",
        ),
        Change(
            "toggle_optimizer_takes_optimizer",
            "2.0.0",
            before="toggle_optimizer(optimizer, optimizer_idx) and "
            "untoggle_optimizer(optimizer_idx) name the optimizer by its index too.",
            after="toggle_optimizer(optimizer) and untoggle_optimizer(optimizer) take the "
            "optimizer alone.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16560 (core/module.py::"
            "LightningModule.toggle_optimizer)",
        ),
        Change(
            "manual_output_error_without_epoch_end",
            "2.0.0",
            before="Another manual training_step output raises 'must either return a Tensor, a "
            "dict with extras to pass to `training_epoch_end` or have no return'.",
            after="Another manual training_step output raises 'must either return a Tensor or "
            "have no return'.",
            evidence="loops/optimization/manual.py::ManualResult.from_training_step_output no "
            "longer names training_epoch_end, removed in 2.0.0 (CHANGELOG, PR #16520); observed "
            "on 1.9.5 and 2.0.0",
        ),
        Change(
            "manual_none_output_empty_dict",
            "2.0.0",
            before="When a manual training_step returns None, on_train_batch_end gets an "
            "empty list as outputs.",
            after="When a manual training_step returns None, on_train_batch_end gets an "
            "empty dict.",
            evidence="1.9.5 loops/epoch/training_epoch_loop.py::"
            "_prepare_outputs_training_batch_end turns an empty output into []; 2.0.0 "
            "loops/training_epoch_loop.py::advance passes the output on unchanged (observed on "
            "both)",
        ),
        Change(
            "train_dataloader_before_train_mode",
            "2.0.0",
            before="fit calls the module's train() before train_dataloader.",
            after="fit calls train_dataloader before the module's train() (a call that 2.2 drops: "
            "eval_mode_restored_without_train_call).",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16726 (Loop.setup_data replaces "
            "trainer.reset_*_dataloader): 1.9.5 trainer/trainer.py::_run_train calls train() "
            "before the fit loop loads data; 2.0.0 loops/fit_loop.py::run calls setup_data first",
        ),
        Change(
            "log_dict_values_removed",
            "2.0.0",
            before="self.log accepts a dict of numbers or tensors as value; callback_metrics "
            "keeps it as a dict of tensors.",
            after="self.log raises ValueError for a dict value ('`dict` values cannot be logged').",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16389 (core/module.py::LightningModule.log)",
        ),
        Change(
            "log_every_n_steps_zero_disables_step_logs",
            "2.0.0",
            before="Trainer(log_every_n_steps=0) makes fit fail with ZeroDivisionError.",
            after="log_every_n_steps=0 sends no step values to the loggers; epoch values are "
            "still sent.",
            evidence="trainer/connectors/logger_connector/logger_connector.py::should_update_logs: "
            "the check for 0 is in 2.0.0 and absent in 1.9.5 (observed on both; no CHANGELOG "
            "entry)",
        ),
        Change(
            "use_distributed_sampler_flag",
            "2.0.0",
            before="Trainer(replace_sampler_ddp=False) keeps the loaders' samplers in "
            "distributed runs.",
            after="The flag is named use_distributed_sampler; replace_sampler_ddp is rejected.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16829 (trainer/trainer.py)",
        ),
        Change(
            "loop_state_keys_flattened",
            "2.0.0",
            before="A checkpoint of 2.0 or later loads in 1.9 with its weights, epoch and "
            "optimizer state, warning that it is newer, but resumes at global_step 0.",
            after="Loop progress is kept under 'epoch_loop.automatic_optimization' (no batch "
            "loop): checkpoints of 2.0 and later resume at their global_step.",
            evidence="Lightning 2.0.0 CHANGELOG, PRs #16172 and #16337 (utilities/migration/"
            "migration.py::_migrate_loop_structure_after_tbptt_removal); observed on 1.9.5 with "
            "the shipped 2.0.9 and 2.6.6 checkpoints",
        ),
        Change(
            "fault_tolerant_training_removed",
            "2.0.0",
            before="fit(ckpt_path=\"last\") without a checkpoint warns '... there is no fault "
            "tolerant or last checkpoint available. No checkpoint will be loaded.'",
            after="The warning reads '... there is no last checkpoint available. No checkpoint "
            "will be loaded.'",
            evidence="Lightning 2.0.0 CHANGELOG, PRs #16516 and #16533 (removed "
            "PL_FAULT_TOLERANT_TRAINING); trainer/connectors/checkpoint_connector.py::"
            "_parse_ckpt_path (observed on 1.9.5 and 2.0.9)",
        ),
        Change(
            "precision_flag_names",
            "2.0.0",
            before="precision takes 64, 32, 16 or 'bf16', reported as '64', '32', '16', 'bf16'; "
            "the 2.0 names are rejected. 16 on the CPU warns and runs as 'bf16'.",
            after="precision takes '64-true', '32-true', '16-mixed' or 'bf16-mixed', reported so; "
            "the 1.9 values still work, 16 and 'bf16' with a warning.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16783 (trainer/connectors/"
            "accelerator_connector.py; observed on 1.9.5 and 2.0.9)",
        ),
        Change(
            "invalid_precision_value_error",
            "2.0.0",
            before="An unknown precision raises MisconfigurationException 'Precision ... is "
            "invalid. Allowed precision values: ...'.",
            after="An unknown precision raises ValueError with the same message.",
            evidence="trainer/connectors/accelerator_connector.py raises MisconfigurationException "
            "in 1.9.5; 2.0.9 checks through lightning/fabric/connector.py::"
            "_convert_precision_to_unified_args, which raises ValueError (observed on both)",
        ),
        Change(
            "accelerator_auto_default",
            "2.0.0",
            before="The Trainer's accelerator defaults to None; the ValueError for an unknown "
            "accelerator name lists the registered names without 'auto'.",
            after="accelerator defaults to 'auto', and the ValueError for an unknown name lists "
            "'auto' first.",
            evidence="Lightning 2.0.0 CHANGELOG, PR #16847 (trainer/connectors/"
            "accelerator_connector.py::_check_config_and_set_final_flags; observed on 1.9.5 "
            "and 2.0.9)",
        ),
    )
}
