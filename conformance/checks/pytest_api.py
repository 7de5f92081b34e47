"""``parametrize_with_checks``: every check on every module, as its own pytest test.

Shaped like scikit-learn's decorator of the same name::

    @parametrize_with_checks([MNISTClassifier, make_small_gan])
    def test_lightning_contract(factory, check):
        check(factory)

Each (factory, check) pair is one test, with an id like
``MNISTClassifier-MOD-014-loss-is-finite-scalar``. ``check(factory)`` raises
``ConformanceError`` when the module fails the check, skips when the check does not apply,
and warns (``ConformanceWarning``) when it passes with a risk. The short runs the checks
read are shared by all tests of one factory, as in ``check_module``.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from lightning_conformance.checks import CHECKS
from lightning_conformance.checks._base import Check
from lightning_conformance.checks._context import Context
from lightning_conformance.checks._engine import ConformanceError, ConformanceWarning, evaluate
from lightning_conformance.checks._timeout import run_timeout
from lightning_conformance.reports.model import Result

__all__ = ["ModuleCheck", "parametrize_with_checks"]

_OPTIONS = ("datamodule", "target", "ddp", "device", "fit_timeout")


def parametrize_with_checks(factories, *, expected_failures=None, **check_kwargs):
    """Parametrize a test with ``factory`` and ``check``: one test per factory and check.

    Args:
        factories: LightningModule classes (built without arguments) or zero-argument
            callables returning a module; not instances, since every run builds its own.
        expected_failures: clause ID -> reason, for every factory; or factory -> {clause ID:
            reason}; or a callable taking the factory and returning such a dict. These
            checks are marked ``xfail(strict=True)``: a fix that makes them pass fails the
            test until the entry is removed.
        check_kwargs: ``datamodule``, ``target``, ``ddp``, ``device`` and ``fit_timeout``, as
            for check_module.
    """
    factories = list(factories)
    for factory in factories:
        _validate(factory)
    unknown = sorted(set(check_kwargs) - set(_OPTIONS))
    if unknown or check_kwargs.get("device", "cpu") not in ("cpu", "cuda"):
        raise TypeError(f"parametrize_with_checks takes {', '.join(_OPTIONS)} (device 'cpu' "
                        f"or 'cuda'), not {unknown or check_kwargs['device']!r}")
    run_timeout(check_kwargs.get("fit_timeout"))  # a bad one fails at collection, once
    runs = _Runs(check_kwargs)
    params = []
    for factory in factories:
        expected = _expected_for(expected_failures, factory)
        for check in CHECKS:
            marks = ()
            if check.id in expected:
                marks = pytest.mark.xfail(reason=expected[check.id], strict=True,
                                          raises=ConformanceError)
            params.append(pytest.param(factory, ModuleCheck(check, runs),
                                       id=f"{_name(factory)}-{check.id}-{_slug(check)}",
                                       marks=marks))
    return pytest.mark.parametrize(("factory", "check"), params)


class ModuleCheck:
    """One check, called with a factory by the test body: ``check(factory)``."""

    def __init__(self, check: Check, runs: _Runs):
        self.check, self._runs = check, runs

    def __repr__(self) -> str:
        return f"<{self.check.id} {self.check.sentence}>"

    def __call__(self, factory) -> Result:
        __tracebackhide__ = True  # the failure is the check's message, not this frame
        result = evaluate(self._runs.context(factory), self.check)
        if result.status == "skipped":
            pytest.skip(f"{result.clause}: {result.message}")
        if result.status == "warned":
            warnings.warn(f"{result.clause} {result.sentence} {result.message}",
                          ConformanceWarning, stacklevel=2)
        if result.status == "failed":
            error = ConformanceError([result])
            if result.reproduction and hasattr(error, "add_note"):
                error.add_note(f"reproduce it with:\n{result.reproduction}")
            raise error
        return result


class _Runs:
    """One check context per factory, built on first use and shared by its tests."""

    def __init__(self, check_kwargs: dict):
        self.kwargs = check_kwargs
        self._contexts: dict[int, Context | BaseException] = {}

    def context(self, factory) -> Context:
        if id(factory) not in self._contexts:
            try:
                self._contexts[id(factory)] = Context(factory, root=_scratch(), **self.kwargs)
            except Exception as error:  # every test of the factory reports the same error
                self._contexts[id(factory)] = error
        found = self._contexts[id(factory)]
        if isinstance(found, BaseException):
            raise found
        return found


def _scratch() -> Path:
    root = Path(tempfile.mkdtemp(prefix="lck-check-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _validate(factory) -> None:
    import torch

    if isinstance(factory, torch.nn.Module):
        raise TypeError(f"parametrize_with_checks got an instance of {type(factory).__name__}: "
                        "pass the class or a zero-argument factory, since every check run "
                        "builds a fresh module")
    if not callable(factory):
        raise TypeError(f"parametrize_with_checks needs classes or factories, not {factory!r}")


def _expected_for(expected_failures, factory) -> dict[str, str]:
    """The {clause ID: reason} that apply to ``factory``, each ID checked."""
    if expected_failures is None:
        return {}
    if callable(expected_failures):
        expected = dict(expected_failures(factory) or {})
    else:
        shared = {k: v for k, v in expected_failures.items() if isinstance(k, str)}
        expected = shared | dict(expected_failures.get(factory, {}))
    unknown = sorted(set(expected) - {check.id for check in CHECKS})
    if unknown:
        raise ValueError(f"expected_failures names {unknown}, which no check has; the "
                         f"checks are {CHECKS[0].id}..{CHECKS[-1].id}")
    return expected


def _name(factory) -> str:
    if isinstance(factory, functools.partial):
        factory = factory.func
    name = getattr(factory, "__name__", type(factory).__name__)
    return "lambda" if name == "<lambda>" else name


def _slug(check: Check) -> str:
    """``loss-is-finite-scalar`` for the check function ``loss_is_finite_scalar``."""
    name = getattr(check.function, "__name__", "")
    if name and name != "<lambda>":
        return name.strip("_").replace("_", "-")
    words = re.findall(r"[a-z0-9]+", check.sentence.lower())[:5]
    return "-".join(words)
