"""Checks of command-line flags that need nothing heavy, run before any clause or check.

A bad flag must cost no time and no work: ``run`` used to find an unusable ``--report-dir``
only after the whole suite, and ``check`` a ``--ddp 1`` only after importing and building the
user's module. So these checks import neither torch (but for ``--device cuda``, which needs
it), nor Lightning, nor the user's code, and create nothing: an output path is checked, not
made, so that a run stopped by another bad flag leaves no empty folder behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lightning_conformance.reports.command import OUTPUTS as REPORT_OUTPUTS

__all__ = ["OUTPUTS", "FlagError", "check_outputs", "cuda_device", "ddp_processes", "init_args",
           "output_path"]

OUTPUT_KINDS = ("file", "dir")
# The output paths of each command: the flag's dest -> "file" or "dir"
OUTPUTS = {
    "run": {"report_dir": "dir"},
    "check": {"report_dir": "dir", "json": "file", "junit": "file"},
    "report": dict.fromkeys(REPORT_OUTPUTS, "file"),
}


class FlagError(ValueError):
    """A flag's value cannot be used; the CLI reports it as a usage error (exit code 2)."""


def check_outputs(args) -> None:
    """FlagError naming the first output path of the parsed ``args`` that cannot be written."""
    for dest, kind in OUTPUTS.get(args.command, {}).items():
        path = getattr(args, dest)
        if path is not None and str(path) != "-":  # "-": stdout
            output_path(f"--{dest.replace('_', '-')}", path, kind)


def output_path(flag: str, path: str | Path, kind: str) -> None:
    """FlagError when ``path`` cannot be written as a ``kind`` ("file" or "dir") by ``flag``."""
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"kind must be one of {OUTPUT_KINDS}, not {kind!r}")
    problem = _dir_problem(Path(path)) if kind == "dir" else _file_problem(Path(path))
    if problem:
        raise FlagError(f"{flag} {path}: {problem}")


def _file_problem(path: Path) -> str:
    if path.is_dir():
        return "is a directory; give a file name"
    if path.exists():
        return "" if os.access(path, os.W_OK) else "the file is not writable"
    return _creatable(path.parent)


def _dir_problem(path: Path) -> str:
    if path.is_dir():
        writable = os.access(path, os.W_OK | os.X_OK)
        return "" if writable else "the directory is not writable"
    if path.exists():
        return "is a file, not a directory"
    return _creatable(path)


def _creatable(folder: Path) -> str:
    """Why the folder ``folder`` (which may not exist yet) cannot hold new files ("" if it can)."""
    existing = Path(os.path.abspath(folder))
    while not existing.exists():  # Path.exists is False below a file too (ENOTDIR)
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, so nothing can be written below it"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return ""


def ddp_processes(count: int) -> int:
    """``--ddp``'s value, if usable: 0 (no DDP checks) or at least 2 processes."""
    if count < 0 or count == 1:
        raise FlagError(f"--ddp {count}: use 0 (no DDP checks) or 2 and more processes")
    return count


def init_args(text: str | None) -> dict:
    """``--init-args``'s JSON object (empty when the flag is not given)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise FlagError(f"--init-args is not valid JSON ({error.msg}): pass an object "
                        """such as '{"lr": 0.01}'""") from None
    if not isinstance(value, dict):
        raise FlagError("--init-args must be a JSON object such as '{\"lr\": 0.01}'")
    return value


def cuda_device() -> None:
    """FlagError when torch sees no CUDA device (this imports torch, and only torch)."""
    import torch

    if not torch.cuda.is_available():
        raise FlagError("--device cuda: torch sees no CUDA device on this machine; "
                        "run without --device cuda")
