"""``lightning-conformance check SPEC``: check a user's LightningModule, clause by clause.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 the input could not
be checked (it does not import, is not a LightningModule, has no data, bad arguments): ``run``
raises CheckInputError, which the CLI reports as every other usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys
import time
from pathlib import Path

from lightning_conformance.checks._base import CheckInputError
from lightning_conformance.checks._timeout import run_timeout
from lightning_conformance.reports import schema
from lightning_conformance.reports.model import Result
from lightning_conformance.reports.terminal import (
    check_header,
    check_summary,
    result_lines,
    stage_line,
    width,
    wrap,
)
from lightning_conformance.session import interrupts
from lightning_conformance.session.interrupts import Interrupted

__all__ = ["SpecFactory", "load_spec", "run"]


class SpecFactory:
    """A zero-argument factory for ``SPEC`` (with ``--init-args``) that knows its source."""

    def __init__(self, obj, import_lines: list[str], name: str, init_args: dict):
        self.obj, self.import_lines, self.name, self.init_args = obj, import_lines, name, init_args
        self.__qualname__ = name

    def __call__(self):
        return self.obj(**self.init_args)

    def reproduce(self) -> tuple[list[str], str]:
        arguments = f"**{self.init_args!r}" if self.init_args else ""
        return list(self.import_lines), f"{self.name}({arguments})"


def _after_installed(directory: str) -> None:
    """Make the modules of ``directory`` (the user's project) importable, after all else.

    Appended to sys.path, not put first as ``python -m`` does (pytest's ``--import-mode=append``
    makes the same choice). A submodule of the kit is found through its package, never through
    sys.path, but every top-level name imported for the first time from now on is looked up
    there: Lightning, when the user's module imports it, imports ``profile``, ``secrets``,
    ``yaml`` and ``sympy``, and a project's ``secrets.py`` would stand in for the standard
    library's if the project came first. Importing all that before the project goes first
    cannot be complete; taking the project out of sys.path after the import would lose it for
    the module's later imports and for the DDP ranks, which inherit this process's sys.path.
    The cost, a project module whose name an installed one takes, gets a one-line error
    (``_refuse_taken``).
    """
    if directory not in sys.path:
        sys.path.append(directory)


def _refuse_taken(name: str, own: Path, what: str, spec: str) -> None:
    """CheckInputError when ``name`` imports as something else than the project's ``own``."""
    found = importlib.util.find_spec(name)
    if found is None:
        return
    paths = ([found.origin] if found.has_location and found.origin else
             list(found.submodule_search_locations or ()))
    if any(own == Path(path).resolve() or own in Path(path).resolve().parents for path in paths):
        return
    elsewhere = paths[0] if paths else f"a {found.origin} module of Python"
    raise CheckInputError(f"{what} {spec!r}: {name!r} is already the name of {elsewhere}, so "
                          f"the project's {own.name} cannot be imported under it: rename it")


def _import_file(path: Path, what: str, spec: str):
    if not path.is_file():
        raise CheckInputError(f"no such file: {path}")
    directory = str(path.resolve().parent)
    _after_installed(directory)  # its sibling modules import, and its classes pickle
    _after_installed(os.getcwd())  # and so do the modules of the current project
    lines = [f"import sys; sys.path.insert(0, {directory!r})"]
    known = sys.modules.get(path.stem)
    if known is not None and getattr(known, "__file__", None) == str(path.resolve()):
        # SPEC and --datamodule in one file: import it once, so its classes stay the same
        # objects (pickling for DDP looks them up by name)
        return known, lines, path.stem
    # Its classes pickle under that name: it must not replace a module of that name
    _refuse_taken(path.stem, path.resolve(), what, spec)
    module_spec = importlib.util.spec_from_file_location(path.stem, path.resolve())
    if module_spec is None or module_spec.loader is None:
        raise CheckInputError(f"{path} cannot be imported as a Python module: name it NAME.py")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[path.stem] = module
    module_spec.loader.exec_module(module)
    return module, lines, path.stem


def _import_module(location: str, what: str, spec: str):
    _after_installed(os.getcwd())  # as with `python -m`, a module of the current project imports
    top = location.partition(".")[0]
    package, module = Path.cwd() / top, Path.cwd() / f"{top}.py"
    # (a folder without __init__.py yields to an installed package wherever it stands)
    own = package if (package / "__init__.py").is_file() else module if module.is_file() else None
    if own is not None:
        _refuse_taken(top, own.resolve(), what, spec)
    return importlib.import_module(location)


def load_spec(spec: str, init_args: dict | None = None, *, what: str = "SPEC") -> SpecFactory:
    """``package.module:Name`` or ``path/to/file.py:Name`` as a factory; CheckInputError if not."""
    location, _, name = spec.rpartition(":")
    if not location or not name.isidentifier():
        raise CheckInputError(f"{what} {spec!r} must look like package.module:Name or "
                              "path/to/file.py:Name")
    try:
        if location.endswith(".py") or os.sep in location:
            module, lines, module_name = _import_file(Path(location), what, spec)
        else:
            module, lines, module_name = _import_module(location, what, spec), [], location
    except (CheckInputError, Interrupted):
        raise
    except BaseException as error:  # a user's module may fail to import in any way
        raise CheckInputError(f"{what} {spec!r} does not import: {type(error).__name__}: "
                              f"{error}") from None
    obj = getattr(module, name, None)
    if obj is None:
        raise CheckInputError(f"{what} {spec!r}: {module_name} has no {name!r}")
    if not callable(obj):
        raise CheckInputError(f"{what} {spec!r}: {name} is a {type(obj).__name__}, not a "
                              "class or a factory")
    return SpecFactory(obj, [*lines, f"from {module_name} import {name}"], name,
                       dict(init_args or {}))


def _check_inputs(args) -> None:
    """Import SPEC (and --datamodule); the flags were checked before (``flags``, by the CLI)."""
    args.fit_timeout = run_timeout(args.fit_timeout, "--fit-timeout")  # before any import
    args.factory = load_spec(args.spec, args.init_args)
    _require_init_args(args.factory, args.spec)
    args.datamodule_factory = (load_spec(args.datamodule, what="--datamodule")
                               if args.datamodule else None)


# An example value per annotation, for the --init-args hint (any other: null)
_EXAMPLES = {"int": 1, "float": 0.01, "bool": True, "str": "text", "list": [], "dict": {}}


def _require_init_args(factory: SpecFactory, spec: str) -> None:
    """CheckInputError naming the arguments SPEC needs that --init-args does not give, with a
    JSON example, before a build fails on them."""
    try:
        parameters = inspect.signature(factory.obj).parameters.values()
    except (TypeError, ValueError):  # no signature to read: building it will say what it lacks
        return
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    missing = [p for p in parameters if p.kind in kinds and p.default is p.empty
               and p.name not in factory.init_args]
    if not missing:
        return
    example = {p.name: _EXAMPLES.get(getattr(p.annotation, "__name__", p.annotation))
               for p in missing}
    names = ", ".join(p.name for p in missing)
    raise CheckInputError(f"SPEC {spec!r}: {factory.name}() needs {names}: give "
                          f"{'it' if len(missing) == 1 else 'them'} with --init-args, e.g. "
                          f"--init-args '{json.dumps({**factory.init_args, **example})}'")


class _Stages:
    """Prints a line per stage of the checks (the checks of one module of checks/, in run
    order) as soon as its last check has a result, after the header naming the Lightning."""

    def __init__(self, spec: str, checks) -> None:
        self.spec, self.done = spec, 0
        self.seen: list[Result] = []
        self.stages: dict[str, list[str]] = {}
        for check in checks:
            self.stages.setdefault(_STAGES.get(_module_of(check), _module_of(check)),
                                   []).append(check.id)

    def __call__(self, result: Result) -> None:
        if not self.seen:
            _print(check_header(self.spec, result.subject))
        self.seen.append(result)
        stage, ids = list(self.stages.items())[self.done]
        if result.clause == ids[-1]:
            self.done += 1
            results = [r for r in self.seen if r.clause in ids]
            _print(stage_line(self.done, len(self.stages), stage, results))


def _print(line: str) -> None:
    """``line`` wrapped to the terminal, at once (a stage may be followed by a long one)."""
    print("\n".join(wrap(line, width())), flush=True)


def _module_of(check) -> str:
    return check.function.__module__.rpartition(".")[2]


# The stage of each module of checks/ (a module not listed is named as it is)
_STAGES = {
    "static": "static checks",
    "optimization": "configure_optimizers and monitors",
    "runs": "fit, validate, test and predict runs",
    "training": "training steps and seeded fits",
    "checkpoint": "checkpoint round trip and resume",
    "manual": "manual optimization",
    "devices": "devices and pickling",
    "ddp": "DDP",
}


def run(args) -> int:
    """The ``check`` command; returns the exit code (CheckInputError: the input is unusable;
    Interrupted: a signal stopped it, once the checks that finished are shown)."""
    from lightning_conformance.checks import CHECKS, check_module

    started = time.perf_counter()
    _check_inputs(args)
    try:
        results = check_module(args.factory, datamodule=args.datamodule_factory,
                               target=args.target, ddp=args.ddp, device=args.device,
                               on_fail=None, require_data=True, fit_timeout=args.fit_timeout,
                               on_result=_Stages(args.spec, CHECKS))
    except Interrupted as stop:
        _show_finished(args, stop)
        raise
    interrupts.settle()  # every check is done: a signal now waits for the output
    elapsed = time.perf_counter() - started
    scripts = _writing(_write_scripts, results, args.report_dir) if args.report_dir else {}
    for line in check_summary(results, scripts, elapsed):
        print(line)
    if args.json or args.junit:
        _writing(_write_reports, args, results)
    interrupts.raise_if_received(results)
    return 1 if any(r.status == "failed" for r in results) else 0


def _writing(write, *args):
    """``write(*args)``; its paths were checked before the checks ran, but writing may still
    fail (a full disk): CheckInputError, not a traceback."""
    try:
        return write(*args)
    except OSError as error:
        raise CheckInputError(f"could not write the results: {error}") from None


def _show_finished(args, stop: Interrupted) -> None:
    """Print the checks that finished before the signal (the header and the stage lines are
    out already); write their incomplete reports."""
    scripts = _write_scripts(stop.finished, args.report_dir) if args.report_dir else {}
    for result in stop.finished:
        for line in result_lines(result, scripts.get(result.clause), width()):
            print(line)
    if stop.finished and (args.json or args.junit):
        written = _write_reports(args, stop.finished, interrupted=True)
        stop.detail = "incomplete report: " + ", ".join(map(str, written))


def _write_reports(args, results: list[Result], interrupted: bool = False) -> list[Path]:
    """The JSON report (the schema ``run`` writes) and JUnit XML (the writer ``report`` uses);
    an interrupted check's beside, never over, the files named (``schema.place``)."""
    from lightning_conformance.reports.junit import junit_xml
    from lightning_conformance.reports.matrix import build_matrix, column_of

    first = results[0]
    assert first.subject is not None  # check_module names the module on every result
    report = schema.document(first.subject, first.contract, results, device=args.device,
                             interrupted=interrupted)
    written = [schema.write(args.json, report)] if args.json else []
    if args.junit:
        parsed = schema.Report(first.subject, first.contract, report["created"], tuple(results),
                               interrupted=interrupted)
        column = column_of(parsed, tuple(written))
        # one column: no other contract to compare with, so no clause registry is needed
        xml = junit_xml(build_matrix([column], registry={}))
        written.append(schema.place(args.junit, xml, interrupted))
    return written


def _write_scripts(results, directory: Path) -> dict[str, Path]:
    scripts = {}
    for result in results:
        if result.status == "failed" and result.reproduction:
            path = directory / f"reproduce_{result.clause.replace('-', '_')}.py"
            schema.write_text(path, result.reproduction)
            scripts[result.clause] = path
    return scripts
