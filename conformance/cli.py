"""The ``lightning-conformance`` command: run the clauses, list them, list the targets.

Exit codes: 0 nothing failed, 1 a clause failed (or could not run), 2 usage error; 130 and
143: SIGINT or SIGTERM stopped ``run``, ``check`` or ``report`` (``session.interrupts``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from lightning_conformance import flags
from lightning_conformance.flags import PROG, UsageError
from lightning_conformance.reports import terminal as _render
from lightning_conformance.session import interrupts

__all__ = ["main"]

# What the one line of an interrupted command counts.
_FINISHED = {"run": "clause runs", "check": "checks", "report": "outputs written"}


def main(argv: list[str] | None = None) -> int:
    """The ``lightning-conformance`` command; returns its exit code."""
    command = ""
    try:
        handlers = {"run": _run, "check": _check, "clauses": _clauses, "targets": _targets,
                    "diff": _diff, "report": _report}
        args, unknown = flags.parser(handlers).parse_known_args(argv)
        command = args.command
        if unknown:  # argparse would only know the command's name and point at the top help
            raise UsageError(f"unrecognized arguments: {' '.join(unknown)} (see {PROG} "
                             f"{command} --help)")
        flags.check_outputs(args)  # before anything runs
        if command not in _FINISHED:
            return args.handler(args)
        # pytest stops its session for a KeyboardInterrupt only; the others stop on theirs
        raising = KeyboardInterrupt if command == "run" else interrupts.Interrupted
        with interrupts.handling(raising):
            return args.handler(args)
    except (KeyboardInterrupt, interrupts.Interrupted) as error:
        return _interrupted(error, _FINISHED.get(command, ""))
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`lightning-conformance diff 1.9 2.6 | head`): not an error of
        # ours. Point stdout at devnull so that the interpreter's final flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _interrupted(error: BaseException, noun: str) -> int:
    """The one line of a command that a signal stopped; exit 128 + the signal's number."""
    if not isinstance(error, interrupts.Interrupted):
        signum = interrupts.received()
        if signum is None:  # a KeyboardInterrupt that no signal of ours raised
            raise error
        error = interrupts.Interrupted(signum)
    print(f"{PROG}: {error.line(noun)}", file=sys.stderr)
    return error.exit_code


def _check(args) -> int:
    # before the checks import torch, and the user's module Lightning (about 10 s)
    args.init_args = flags.init_args(args.init_args_json)
    flags.ddp_processes(args.ddp)
    if args.device == "cuda":
        flags.cuda_device()
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
    clause_ids = _clause_ids(args.clause)
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
    code = pytest.main(_pytest_args(args, targets, areas, clause_ids),
                       plugins=[capture, Progress(), interrupts.StopOnSignal()])
    elapsed = time.perf_counter() - started
    interrupts.settle()  # from here on only the reports are written; a signal waits for them
    collector = capture.collector
    signum = interrupts.received()
    if signum is not None:
        raise interrupts.stopped_run(collector, args.report_dir, signum)
    if code == pytest.ExitCode.INTERNAL_ERROR:
        print(f"{PROG}: pytest stopped with an internal error (see above)", file=sys.stderr)
        return 1
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED) or not collector:
        raise UsageError("no clause matched the selection (check --area, --clause and -k)")
    try:  # checked before the run; it may still fail (a full disk, a folder removed meanwhile)
        paths = collector.write(args.report_dir)
    except OSError as error:
        raise UsageError(f"--report-dir {args.report_dir}: {error}") from None
    print(_render.run_summary(collector, paths, elapsed))
    interrupts.raise_if_received(collector.runs())
    failed = any(collector.counts(name)[status]
                 for name in collector.targets for status in ("failed", "error"))
    return 1 if failed or collector.collection_errors or code != pytest.ExitCode.OK else 0


def _clause_ids(values) -> list[str]:
    from lightning_conformance import load_registry

    clauses = [value.upper() for value in values or ()]
    known = load_registry() if clauses else {}
    unknown = [clause for clause in clauses if clause not in known]
    if unknown:
        raise UsageError(f"unknown clause {', '.join(unknown)}: `{PROG} clauses` lists them")
    return clauses


def _pytest_args(args, targets, areas, clause_ids) -> list[str]:
    from lightning_conformance import clauses

    folder = str(Path(clauses.__file__).parent)
    argv = [folder, "-p", "no:cacheprovider", "-p", "no:terminal",
            "-o", "verbosity_assertions=2", "-o", "python_files=test_*.py",
            "-o", "filterwarnings=ignore::Warning", "--rootdir", folder]
    for spec in targets:
        argv += ["--target", spec]
    for area in areas:
        argv += ["--area", area]
    for clause in clause_ids:
        argv += ["--clause", clause]
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
    from lightning_conformance.spec.diff import differences, matrix_warning, render

    try:
        old = parse_version(args.old, where="OLD")
        new = parse_version(args.new, where="NEW")
    except ValueError as error:
        raise UsageError(f"{error}: give versions such as 2.0 or 2.6.6") from None
    warning = matrix_warning(old, new)
    if warning:  # an answer all the same: the clauses' version ranges cover any version
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
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
