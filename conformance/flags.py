"""The command line's flags: the parser of every command, with its one usage-error path
(``UsageError``: one line, exit 2), and the checks of flags that need nothing heavy, run before
any clause or check.

A bad flag must cost no time and no work: ``run`` used to find an unusable ``--report-dir``
only after the whole suite, and ``check`` a ``--ddp 1`` only after importing and building the
user's module. So these checks import neither torch (but for ``--device cuda``, which needs
it), nor Lightning, nor the user's code, and create nothing: an output path is checked, not
made, so that a run stopped by another bad flag leaves no empty folder behind.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from lightning_conformance.reports.command import OUTPUTS as REPORT_OUTPUTS

__all__ = ["OUTPUTS", "PROG", "FlagError", "UsageError", "check_outputs", "cuda_device",
           "ddp_processes", "init_args", "output_path", "parser"]

PROG = "lightning-conformance"
DESCRIPTION = "The lightning-conformance command: run the clauses, list them, list the targets."
RUN_DESC = "Run every clause against every installed target (or the ones named)."
CLAUSES_DESC = "Print the clause registry."
TARGETS_DESC = "List the targets this environment can check, with their versions."
DIFF_DESC = ("List every clause whose expectation differs between two Lightning versions' "
             "contracts, with both expectations in words (from the registry; nothing runs).")
CHECK_DESC = "Check your own LightningModule against the contract, clause by clause (MOD)."
SPEC_DESC = ("package.module:Name or path/to/file.py:Name; Name is a LightningModule class "
             "or a zero-argument factory returning one")


OUTPUT_KINDS = ("file", "dir")
# The output paths of each command: the flag's dest -> "file" or "dir"
OUTPUTS = {
    "run": {"report_dir": "dir"},
    "check": {"report_dir": "dir", "json": "file", "junit": "file"},
    "report": dict.fromkeys(REPORT_OUTPUTS, "file"),
}


class UsageError(Exception):
    """Bad input from the user: one line, exit code 2 (the CLI's one path to it)."""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors take the one path of every other usage error (one line,
    not argparse's usage block). Its subparsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


class FlagError(UsageError, ValueError):
    """A flag's value cannot be used: a usage error (exit code 2)."""


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


def parser(handlers: dict[str, Callable]) -> argparse.ArgumentParser:
    """The command line of ``lightning-conformance``; ``handlers``: command -> its function."""
    from lightning_conformance.adapters.base import kit_version
    from lightning_conformance.reports.command import add_report_parser

    parser = _Parser(prog=PROG, description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"{PROG} {kit_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help=RUN_DESC, description=RUN_DESC)
    run.add_argument("--target", action="append", help="target name or module:factory "
                     "(repeatable; default: every installed target)")
    run.add_argument("--area", action="append", help="only this area, e.g. HOOK (repeatable)")
    run.add_argument("--clause", action="append", help="only this clause, e.g. HOOK-007 "
                     "(repeatable; -k HOOK-007 selects it too)")
    run.add_argument("--report-dir", default="conformance-report", type=Path,
                     help="directory for <target>.json reports (default: conformance-report)")
    run.add_argument("--contract", help="check against this Lightning version's contract")
    run.add_argument("-k", dest="keyword", help="pytest -k expression to select clauses")
    run.set_defaults(handler=handlers["run"])

    clauses = commands.add_parser("clauses", help=CLAUSES_DESC, description=CLAUSES_DESC)
    output = clauses.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--markdown", action="store_true", help="print CLAUSES.md")
    clauses.add_argument("--area", action="append", help="only this area (repeatable)")
    clauses.set_defaults(handler=handlers["clauses"])

    targets = commands.add_parser("targets", help=TARGETS_DESC, description=TARGETS_DESC)
    targets.set_defaults(handler=handlers["targets"])

    diff = commands.add_parser("diff", help=DIFF_DESC, description=DIFF_DESC)
    diff.add_argument("old", help="the Lightning version you are on, e.g. 2.0")
    diff.add_argument("new", help="the Lightning version you move to, e.g. 2.6")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(handler=handlers["diff"])
    _check_parser(commands, handlers["check"])
    add_report_parser(commands, handlers["report"])
    return parser


def _check_parser(commands, handler: Callable) -> None:
    check = commands.add_parser("check", help=CHECK_DESC, description=CHECK_DESC)
    check.add_argument("spec", help=SPEC_DESC)
    check.add_argument("--datamodule", help="a LightningDataModule class or factory (SPEC form)")
    check.add_argument("--init-args", dest="init_args_json",
                       help="JSON object of keyword arguments for the class, e.g. '{\"lr\": 0.01}'")
    check.add_argument("--target", choices=("lightning", "pytorch_lightning"),
                       help="the Lightning to run on (default: the one the class derives from)")
    check.add_argument("--ddp", type=int, default=0, help="processes for the DDP checks (0: skip)")
    check.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                       help="cuda also runs the mixed-precision check (default: cpu)")
    check.add_argument("--fit-timeout", metavar="SECONDS",
                       help="stop a fit, validate, test or predict run after SECONDS; it fails "
                       "MOD-010..013 with where it hung (default: $LCK_FIT_TIMEOUT, else 300; "
                       "0: no limit)")
    check.add_argument("--report-dir", type=Path, help="write a reproduction script per failure")
    check.add_argument("--json", type=Path, help="write the JSON report to this file (the "
                       "schema of run's reports: `report` shows it as one more column)")
    check.add_argument("--junit", type=Path, help="write the results as JUnit XML to this file")
    check.set_defaults(handler=handler)
