"""DDP clauses: checkpoint writes, ModelCheckpoint decisions and loggers on every rank."""

from lightning_conformance import clause, requires
from lightning_conformance.clauses._ddp_scenarios import FitRecord
from lightning_conformance.ddp.phases import records

# 2 epochs with ModelCheckpoint(save_top_k=1, save_last=True), then trainer.save_checkpoint
SAVED_FILES = ["checkpoints/epoch=0-step=4.ckpt", "checkpoints/epoch=1-step=8.ckpt",
               "checkpoints/last.ckpt", "manual.ckpt"]


@clause("DDP-027", "Only global rank 0 writes checkpoint files; the other ranks write none.",
        source="lightning/pytorch/strategies/ddp.py (save_checkpoint writes if is_global_zero)")
@requires("ddp")
def test_rank_zero_writes(target):
    writes = [r.writes for r in records(target, "two_devices", "fit", FitRecord)]

    assert writes[1] == []
    assert [path for path in writes[0] if path.endswith(".ckpt")] == SAVED_FILES


@clause("DDP-028", "Every rank builds each checkpoint: on_save_checkpoint runs on all ranks for every save.",
        source="lightning/pytorch/trainer/trainer.py::Trainer.save_checkpoint (dump on all ranks)")
@requires("ddp")
def test_every_rank_dumps(target):
    saves = [r.saves for r in records(target, "two_devices", "fit", FitRecord)]

    # 2 epochs x (top-k + last) + trainer.save_checkpoint; Lightning 2.1 links last.ckpt to
    # the top-k file instead of dumping it (2 top-k + 1)
    assert saves[0] in (3, 5)
    assert saves[1] == saves[0]


@clause("DDP-029", "ModelCheckpoint's best path, best score and last path are the same on every rank.",
        source="lightning/pytorch/callbacks/model_checkpoint.py (decisions broadcast from rank 0)")
@requires("ddp")
def test_checkpoint_decisions_agree(target):
    first, second = [r.checkpoint for r in records(target, "two_devices", "fit", FitRecord)]

    assert first == second
    assert first.best_model_path in SAVED_FILES
    assert first.last_model_path == "checkpoints/last.ckpt"


@clause("DDP-030", "A custom Logger without rank_zero_only gets log_metrics calls on every rank.",
        source="tests/tests_pytorch/trainer/logging_/test_distributed_logging.py::test_all_rank_logging_ddp_cpu")
@requires("ddp")
def test_custom_logger_every_rank(target):
    calls = [r.logger_calls for r in records(target, "two_devices", "fit", FitRecord)]

    assert calls[0] > 0
    assert calls[0] == calls[1]
