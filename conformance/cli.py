"""The ``lightning-conformance`` command: run the clauses, list them, list the targets.

Exit codes: 0 nothing failed, 1 a clause failed (or could not run), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from lightning_conformance.reports import terminal as _render
from lightning_conformance.reports.command import add_report_parser

__all__ = ["main"]

PROG = "lightning-conformance"
RUN_DESC = "Run every clause against every installed target (or the ones named)."
CLAUSES_DESC = "Print the clause registry."
TARGETS_DESC = "List the targets this environment can check, with their versions."
DIFF_DESC = ("List every clause whose expectation differs between two Lightning versions' "
             "contracts, with both expectations in words (from the registry; nothing runs).")
CHECK_DESC = "Check your own LightningModule against the contract, clause by clause (MOD)."
SPEC_DESC = ("package.module:Name or path/to/file.py:Name; Name is a LightningModule class "
             "or a zero-argument factory returning one")


class UsageError(Exception):
    """Bad input from the user: one line, exit code 2."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`lightning-conformance diff 1.9 2.6 | head`): not an error of
        # ours. Point stdout at devnull so that the interpreter's final flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help=RUN_DESC, description=RUN_DESC)
    run.add_argument("--target", action="append", help="target name or module:factory "
                     "(repeatable; default: every installed target)")
    run.add_argument("--area", action="append", help="only this area, e.g. HOOK (repeatable)")
    run.add_argument("--report-dir", default="conformance-report", type=Path,
                     help="directory for <target>.json reports (default: conformance-report)")
    run.add_argument("--contract", help="check against this Lightning version's contract")
    run.add_argument("-k", dest="keyword", help="pytest -k expression to select clauses")
    run.set_defaults(handler=_run)

    clauses = commands.add_parser("clauses", help=CLAUSES_DESC, description=CLAUSES_DESC)
    output = clauses.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--markdown", action="store_true", help="print CLAUSES.md")
    clauses.add_argument("--area", action="append", help="only this area (repeatable)")
    clauses.set_defaults(handler=_clauses)

    targets = commands.add_parser("targets", help=TARGETS_DESC, description=TARGETS_DESC)
    targets.set_defaults(handler=_targets)

    diff = commands.add_parser("diff", help=DIFF_DESC, description=DIFF_DESC)
    diff.add_argument("old", help="the Lightning version you are on, e.g. 2.0")
    diff.add_argument("new", help="the Lightning version you move to, e.g. 2.6")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(handler=_diff)
    _check_parser(commands)
    add_report_parser(commands, _report)
    return parser


def _check_parser(commands) -> None:
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
    check.set_defaults(handler=_check)


def _check(args) -> int:
    from lightning_conformance.checks import CheckInputError
    from lightning_conformance.checks.command import run

    try:
        return run(args)
    except CheckInputError as error:
        raise UsageError(error) from None


def _load_targets(specs) -> dict:
    from lightning_conformance.adapters import TargetError, installed_targets, load_target

    # Like `python -m` and pytest, let a module:factory spec name a module of the current project;
    # but after everything installed, so that no project file stands in for a module the kit,
    # torch or Lightning import later (why in checks/command.py, `_after_installed`).
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())

    loaded = {}  # spec -> target: pytest must be given the spec, which may be module:factory
    for spec in specs or installed_targets():
        try:
            loaded[spec] = load_target(spec)
        except TargetError as error:
            raise UsageError(error) from None
    return loaded


def _areas(values) -> list[str]:
    from lightning_conformance.spec.clause import AREAS

    areas = [value.upper() for value in values or ()]
    unknown = [area for area in areas if area not in AREAS]
    if unknown:
        raise UsageError(f"unknown area {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    return areas


def _run(args) -> int:
    import pytest

    areas = _areas(args.area)
    targets = _load_targets(args.target)
    if args.contract:
        from lightning_conformance.spec.contract import parse_version

        try:
            parse_version(args.contract, where="--contract")
        except ValueError as error:
            raise UsageError(error) from None
    from lightning_conformance.session.progress import Progress

    capture = _Capture()
    started = time.perf_counter()
    code = pytest.main(_pytest_args(args, targets, areas), plugins=[capture, Progress()])
    elapsed = time.perf_counter() - started
    collector = capture.collector
    if code == pytest.ExitCode.INTERNAL_ERROR:
        print(f"{PROG}: pytest stopped with an internal error (see above)", file=sys.stderr)
        return 1
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED) or not collector:
        raise UsageError("no clause matched the selection (check --area and -k)")
    paths = collector.write(args.report_dir)
    print(_render.run_summary(collector, paths, elapsed))
    failed = any(collector.counts(name)[status]
                 for name in collector.targets for status in ("failed", "error"))
    return 1 if failed or collector.collection_errors or code != pytest.ExitCode.OK else 0


def _pytest_args(args, targets, areas) -> list[str]:
    from lightning_conformance import clauses

    folder = str(Path(clauses.__file__).parent)
    argv = [folder, "-p", "no:cacheprovider", "-p", "no:terminal",
            "-o", "verbosity_assertions=2", "-o", "python_files=test_*.py",
            "-o", "filterwarnings=ignore::Warning", "--rootdir", folder]
    for spec in targets:
        argv += ["--target", spec]
    for area in areas:
        argv += ["--area", area]
    if args.contract:
        argv += ["--contract", args.contract]
    if args.keyword:
        argv += ["-k", args.keyword]
    return argv


class _Capture:
    """A pytest plugin that hands the session's result collector back to the CLI."""

    collector = None

    def pytest_sessionfinish(self, session):
        from lightning_conformance.session.state import state

        self.collector = state(session.config).collector


def _clauses(args) -> int:
    from lightning_conformance import load_registry

    areas = _areas(args.area)
    clauses = [c for c in load_registry().values() if not areas or c.area in areas]
    if args.json:
        print(json.dumps([c.as_dict() for c in clauses], indent=2))
    elif args.markdown:
        print(_render.clauses_markdown(clauses), end="")
    else:
        print(_render.clauses_text(clauses))
    return 0


def _report(args) -> int:
    from lightning_conformance.reports.command import write_reports
    from lightning_conformance.reports.matrix import ReportError

    try:
        return write_reports(args)
    except ReportError as error:
        raise UsageError(error) from None


def _diff(args) -> int:
    from lightning_conformance import load_registry
    from lightning_conformance.spec.contract import parse_version
    from lightning_conformance.spec.diff import differences, render

    try:
        old = parse_version(args.old, where="OLD")
        new = parse_version(args.new, where="NEW")
    except ValueError as error:
        raise UsageError(f"{error}: give versions such as 2.0 or 2.6.6") from None
    found = differences(load_registry(), old, new)
    if args.json:
        print(json.dumps({"old": str(old), "new": str(new),
                          "differences": [d.as_dict() for d in found]}, indent=2))
    else:
        print("\n".join(render(found, old, new)))
    return 0


def _targets(args) -> int:
    for target in _load_targets(None).values():
        capabilities = ", ".join(sorted(target.capabilities))
        version = str(target.version)
        print(f"{target.name:<20} {version:<12} contract {target.contract}  [{capabilities}]")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
