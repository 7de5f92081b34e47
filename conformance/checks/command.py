"""``lightning-conformance check SPEC``: check a user's LightningModule, clause by clause.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 the input could not
be checked (it does not import, is not a LightningModule, has no data, bad arguments): ``run``
raises CheckInputError, which the CLI reports as every other usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

from lightning_conformance.checks._base import CheckInputError
from lightning_conformance.checks._timeout import run_timeout
from lightning_conformance.reports import schema
from lightning_conformance.reports.model import Result
from lightning_conformance.reports.terminal import check_summary

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
    except CheckInputError:
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


def _init_args(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckInputError(f"--init-args is not valid JSON ({error.msg}): pass an object "
                              """such as '{"lr": 0.01}'""") from None
    if not isinstance(value, dict):
        raise CheckInputError("--init-args must be a JSON object such as '{\"lr\": 0.01}'")
    return value


def _validate(args) -> None:
    if args.ddp < 0 or args.ddp == 1:
        raise CheckInputError(f"--ddp {args.ddp}: use 0 (no DDP checks) or 2 and more processes")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise CheckInputError("--device cuda: torch sees no CUDA device on this machine; "
                                  "run without --device cuda")


def _check_inputs(args) -> None:
    args.fit_timeout = run_timeout(args.fit_timeout, "--fit-timeout")  # before any import
    args.init_args = _init_args(args.init_args_json)
    args.factory = load_spec(args.spec, args.init_args)
    args.datamodule_factory = (load_spec(args.datamodule, what="--datamodule")
                               if args.datamodule else None)
    _validate(args)


def run(args) -> int:
    """The ``check`` command; returns the exit code (CheckInputError: the input is unusable)."""
    from lightning_conformance.checks import check_module

    started = time.perf_counter()
    _check_inputs(args)
    results = check_module(args.factory, datamodule=args.datamodule_factory,
                           target=args.target, ddp=args.ddp, device=args.device,
                           on_fail=None, require_data=True, fit_timeout=args.fit_timeout)
    elapsed = time.perf_counter() - started
    scripts = _write_scripts(results, args.report_dir) if args.report_dir else {}
    for line in check_summary(args.spec, results, scripts, elapsed):
        print(line)
    if args.json or args.junit:
        _write_reports(args, results)
    return 1 if any(r.status == "failed" for r in results) else 0


def _write_reports(args, results: list[Result]) -> None:
    """The JSON report (the schema ``run`` writes) and JUnit XML (the writer ``report`` uses)."""
    from lightning_conformance.reports.junit import junit_xml
    from lightning_conformance.reports.matrix import build_matrix, column_of

    first = results[0]
    assert first.subject is not None  # check_module names the module on every result
    report = schema.document(first.subject, first.contract, results, device=args.device)
    if args.json:
        schema.write(args.json, report)
    if args.junit:
        parsed = schema.Report(first.subject, first.contract, report["created"], tuple(results))
        column = column_of(parsed, (args.json,) if args.json else ())
        # one column: no other contract to compare with, so no clause registry is needed
        _write(args.junit, junit_xml(build_matrix([column], registry={})))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _write_scripts(results, directory: Path) -> dict[str, Path]:
    scripts = {}
    for result in results:
        if result.status == "failed" and result.reproduction:
            path = directory / f"reproduce_{result.clause.replace('-', '_')}.py"
            _write(path, result.reproduction)
            scripts[result.clause] = path
    return scripts
