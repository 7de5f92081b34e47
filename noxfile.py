"""nox sessions for lightning-conformance. ``nox --list`` shows them.

torch is pinned to the CPU build this project is developed on; set LCK_TORCH to change it.
"""

import os

import nox

TORCH = os.environ.get("LCK_TORCH", "torch==2.13.0")
TARGETS = ("reference", "lightning", "pytorch_lightning")

nox.options.sessions = ["tests", "conformance"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session):
    """Run the kit's own tests (tests/)."""
    session.install(TORCH, "-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
@nox.parametrize("target", TARGETS)
def conformance(session, target):
    """Run every clause against one target and write its JSON report."""
    session.install(TORCH, "-e", ".")
    session.run("lightning-conformance", "run", "--target", target,
                "--report-dir", "conformance-report", *session.posargs)


@nox.session
def gpu(session):
    """Run the DEV and DDP areas on every target: meant for a machine with CUDA.

    On a CPU-only machine every CUDA clause skips with its reason (LCK_TORCH picks the torch
    build to install).
    """
    session.install(TORCH, "-e", ".")
    targets = [argument for target in TARGETS for argument in ("--target", target)]
    session.run("lightning-conformance", "run", *targets, "--area", "DEV", "--area", "DDP",
                "--report-dir", "gpu-report", *session.posargs)


@nox.session
def lint(session):
    """Lint with ruff."""
    session.install("ruff")
    session.run("ruff", "check", "conformance", "reference", "adapters", "tests", "examples",
                "noxfile.py")
