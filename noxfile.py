"""nox sessions for lightning-conformance. ``nox --list`` shows them.

torch is installed once per checkout, into a base environment under .nox/; every session's
environment sees it through a .pth file and installs only its own Lightning, so the nine
releases of conformance/spec/versions.py share one torch. LCK_TORCH is the pip requirement of
that torch, pip options allowed (default: the CPU build the kit is developed on,
``torch==2.13.0``; e.g. ``LCK_TORCH="torch==2.13.0 --index-url URL"``).
"""

import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
TORCH = os.environ.get("LCK_TORCH", "torch==2.13.0")
# The base environment, shared by every session: torch, the kit's light dependencies and
# the heavy ones every Lightning release pulls in (a release that needs other versions of
# them installs its own, which shadow the base's).
BASE = ROOT / ".nox" / "_torch_base"
BASE_REQUIREMENTS = ["pytest>=7.4", "packaging>=23", "numpy", "torchmetrics", "aiohttp",
                     "pyyaml", "tqdm"]
MATRIX_DIR = ROOT / "matrix-report"
MYPY_TREE = ROOT / "build" / "mypy"  # see [tool.mypy] in pyproject.toml
LOG_DIR = MATRIX_DIR / "logs"  # beside, not inside, the report folder each session empties
# versions running at once in `matrix`, and the limit for one version (install and run)
MATRIX_JOBS = int(os.environ.get("LCK_MATRIX_JOBS", "2"))
MATRIX_TIMEOUT = float(os.environ.get("LCK_MATRIX_TIMEOUT", "1200"))
PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


def _load_versions():
    """conformance/spec/versions.py, loaded by path: importing the package would need pytest."""
    spec = importlib.util.spec_from_file_location("lck_versions",
                                                  ROOT / "conformance" / "spec" / "versions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


VERSIONS = _load_versions()
MATRIX, LATEST = VERSIONS.MATRIX, VERSIONS.LATEST
# every target at the latest version (lightning and pytorch_lightning 2.6.6), for the kit's tests
LATEST_REQUIREMENTS = [requirement for release in MATRIX if release.version == LATEST.version
                       for requirement in release.requirements]


@nox.session
def tests(session):
    """Run the kit's own tests (tests/) on the latest Lightning."""
    _install(session, LATEST_REQUIREMENTS, kit=("-e", ".[dev]"))
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
@nox.parametrize("release", [nox.param(release, id=release.id) for release in MATRIX])
def conformance(session, release):
    """Run every clause on one Lightning release, against that release's own contract."""
    _install(session, release.requirements)
    report_dir = MATRIX_DIR / release.id
    shutil.rmtree(report_dir, ignore_errors=True)  # a stale report must not pass for this run
    # The clauses train tiny models: a second OpenMP thread costs a third more CPU time and
    # wins nothing, and `matrix` runs versions side by side.
    threads = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    session.run("lightning-conformance", "run", "--target", release.target,
                "--report-dir", str(report_dir), *session.posargs, env=threads)


@nox.session
def matrix(session):
    """Run `conformance` for every release (LCK_MATRIX_JOBS at once) and render the reports.

    ``nox -s matrix -- --report-only`` renders the reports already in matrix-report/ (from
    per-version CI jobs, say); other arguments go to every ``lightning-conformance run``.
    """
    _install(session, [])  # builds the torch base once, before versions share it in parallel
    if session.posargs[:1] == ["--report-only"]:
        failed = [release.id for release in MATRIX
                  if (MATRIX_DIR / release.id).exists() and not _outcome(release, 0)[1]]
    else:
        shutil.rmtree(MATRIX_DIR, ignore_errors=True)  # no report of an earlier run may count
        started = time.perf_counter()
        failed, seconds = _run_matrix(session.posargs)
        elapsed = time.perf_counter() - started
        session.log(f"matrix: {len(MATRIX)} versions in {elapsed:.0f} s")
        # read by `python -m benchmarks` (benchmarks/suite.py: matrix_time) for the 10-minute target
        MATRIX_DIR.mkdir(parents=True, exist_ok=True)
        (MATRIX_DIR / "timing.json").write_text(json.dumps({
            "elapsed_s": round(elapsed, 1), "versions": len(MATRIX), "failed": failed,
            "jobs": MATRIX_JOBS, "release_s": seconds, "measured_by": "nox -s matrix"}))
    markdown = MATRIX_DIR / "matrix.md"
    session.run("lightning-conformance", "report", str(MATRIX_DIR), "--markdown", str(markdown),
                "--html", str(MATRIX_DIR / "matrix.html"),
                "--junit", str(MATRIX_DIR / "junit.xml"))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and markdown.exists():
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(markdown.read_text(encoding="utf-8") + "\n")
    if failed:
        session.error(f"{len(failed)} version(s) fail their own contract: {', '.join(failed)} "
                      f"(logs: {LOG_DIR.relative_to(ROOT)}/<id>.log)")


@nox.session
def check(session):
    """Check your LightningModule: nox -s check -- package.module:Model [check options]."""
    if not session.posargs:
        session.error("name the module to check: nox -s check -- package.module:Model")
    _install(session, LATEST.requirements)
    session.run("lightning-conformance", "check", *session.posargs)


@nox.session
def examples(session):
    """Train each example of examples/ for a few batches and run every check on it."""
    _install(session, LATEST.requirements)
    session.run("python", "-m", "pytest", "tests/test_examples.py", "-q", "-p", "no:cacheprovider",
                *session.posargs)


@nox.session
def gpu(session):
    """Run the DEV and DDP areas on the latest Lightning: meant for a machine with CUDA.

    On a CPU-only machine every CUDA clause skips with its reason (LCK_TORCH picks the torch
    build of the base environment).
    """
    _install(session, LATEST_REQUIREMENTS)
    targets = ["reference", *(r.target for r in MATRIX if r.version == LATEST.version)]
    arguments = [argument for target in targets for argument in ("--target", target)]
    session.run("lightning-conformance", "run", *arguments, "--area", "DEV", "--area", "DDP",
                "--report-dir", "gpu-report", *session.posargs)


@nox.session
def lint(session):
    """Lint with ruff; type-check adapters/ and conformance/ with mypy ([tool.mypy])."""
    # mypy reads the types of torch and Lightning, so the session has them, as `tests` does
    _install(session, LATEST_REQUIREMENTS, kit=("-e", ".[dev]"))
    session.run("ruff", "check", "conformance", "reference", "adapters", "tests", "examples",
                "benchmarks", "noxfile.py")
    _mypy_tree()
    session.run("mypy")


def _mypy_tree() -> None:
    """Lay the installed package out for mypy under build/mypy/: a folder per package of
    pyproject's package-dir, holding links to its folder's files and subfolders."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: nox itself depends on tomli there
        import tomli as tomllib

    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"]
    shutil.rmtree(MYPY_TREE, ignore_errors=True)
    for package in sorted(mapping, key=lambda name: name.count(".")):  # parents first
        place = MYPY_TREE.joinpath(*package.split("."))
        place.mkdir(parents=True)
        mapped_here = {name.rpartition(".")[2] for name in mapping
                       if name.rpartition(".")[0] == package}
        for child in (ROOT / mapping[package]).iterdir():
            if child.name not in mapped_here and child.name != "__pycache__":
                (place / child.name).symlink_to(child)


# The sessions of the kit's other tools (flake, coverage, differential, bench) follow the
# helpers below; they install through _install too.


def _install(session, requirements, kit=("--no-deps", "-e", ".")) -> None:
    """Install requirements over the base's torch, then the kit; skipped when done already.

    The kit goes in with --no-deps by default: its own requirements name Lightning 2, which
    would replace a 1.9 under test. Pinning the base's exact torch makes pip fail loudly,
    rather than download a second torch, if a release asks for one the base does not satisfy.
    """
    torch_version = _link_torch_base(session)
    wanted = {"requirements": [f"torch=={torch_version}", *requirements], "kit": list(kit),
              "pyproject": hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()}
    stamp = Path(session.virtualenv.location) / "lck-installed.json"
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        session.log(f"installed already: {' '.join(wanted['requirements'])} and the kit "
                    "(nox --no-reuse-existing-virtualenvs installs anew)")
        return
    session.install(*wanted["requirements"])
    session.install(*kit)
    stamp.write_text(json.dumps(wanted))


def _link_torch_base(session) -> str:
    """Let the session's environment see the base's packages; return the base's torch version."""
    base_site, torch_version = _torch_base(session)
    # asked of the environment's python directly: session.run is skipped under --install-only
    site = Path(subprocess.run([Path(session.bin) / "python", "-c", PURELIB], check=True,
                               text=True, capture_output=True).stdout.strip())
    if site.parent.name != Path(base_site).parent.name:  # lib/python3.X must match
        session.error(f"{site} and the torch base {base_site} are for different Pythons: "
                      f"remove {BASE} or run nox with the Python it was built with")
    # The environment's own site-packages stays first on sys.path, so what a session installs
    # (an older setuptools, its Lightning) shadows the base's copy.
    (site / "_lck_torch_base.pth").write_text(base_site + "\n")
    return torch_version


def _torch_base(session) -> tuple[str, str]:
    """The environment that holds torch, made on first use: (its site-packages, torch version)."""
    stamp = BASE / "lck-torch-base.json"
    wanted = [*shlex.split(TORCH), *BASE_REQUIREMENTS]
    if stamp.exists():
        recorded = json.loads(stamp.read_text())
        if recorded["requirements"] == wanted:
            return recorded["site_packages"], recorded["torch"]
    session.log(f"building the torch base in {BASE}: {' '.join(wanted)}")
    shutil.rmtree(BASE, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(BASE)], check=True)
    python = str(BASE / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", *wanted], check=True)
    query = PURELIB + "; import importlib.metadata as m; print(m.version('torch'))"
    site, torch_version = subprocess.run([python, "-c", query], check=True, text=True,
                                         capture_output=True).stdout.split()
    # written last: an interrupted build leaves no stamp and is built again next time
    stamp.write_text(json.dumps({"requirements": wanted, "site_packages": site,
                                 "torch": torch_version}))
    return site, torch_version


def _run_matrix(posargs) -> tuple[list[str], dict[str, float]]:
    """Run every release's `conformance` session in its own nox; return the ids that failed
    and each release's seconds."""
    failed, done, times = [], 0, {}
    with ThreadPoolExecutor(max_workers=max(1, MATRIX_JOBS)) as pool:
        futures = {pool.submit(_run_release, release, posargs): release for release in MATRIX}
        for future in as_completed(futures):
            release, (code, seconds) = futures[future], future.result()
            outcome, ok = _outcome(release, code)
            done += 1
            times[release.id] = round(seconds, 1)
            print(f"[{done}/{len(MATRIX)}] {release.target} {release.version}: {outcome} "
                  f"({seconds:.0f} s)", flush=True)
            if not ok:
                failed.append(release.id)
    return failed, times


def _run_release(release, posargs) -> tuple[int, float]:
    """One `nox -s conformance(<id>)`, its output in matrix-report/logs/<id>.log."""
    log = LOG_DIR / f"{release.id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"),
               "-s", f"conformance({release.id})", "--", *posargs]
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as output:
        # its own process group, so that a timeout ends pip or pytest and their children too
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=MATRIX_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
            output.write(f"\nlck matrix: killed after {MATRIX_TIMEOUT:.0f} s\n")
    return code, time.perf_counter() - started


def _outcome(release, code) -> tuple[str, bool]:
    """(`320 passed, 0 failed, 8 skipped`, whether the release met its contract)."""
    report = MATRIX_DIR / release.id / f"{release.target}.json"
    if not report.exists():
        return f"no report: exit {code}, see {LOG_DIR.relative_to(ROOT)}/{release.id}.log", False
    data = json.loads(report.read_text())
    counts = data["counts"]
    parts = [f"{counts['passed']} passed", f"{counts['failed'] + counts['error']} failed",
             f"{counts['skipped']} skipped"]
    parts += [f"{counts[status]} {status}" for status in ("xfailed", "xpassed") if counts[status]]
    version = data["subject"]["version"]
    ran = version == release.version  # not another release of the namespace
    if not ran:
        parts.append(f"but {release.target} {version} ran")
    return ", ".join(parts), code == 0 and ran


@nox.session
def flake(session):
    """Run the clauses 20 times in random order on reference and lightning: none may change.

    pytest-randomly is installed in this session only (other sessions keep pytest's order);
    ``nox -s flake -- --runs 3`` runs fewer, ``-- --seed N`` replays; see tests/flake.py.
    Each run's reports go to flake-report/run-NN/, the comparison to flake-report/flake.json.
    """
    _install(session, [*LATEST.requirements, "pytest-randomly"])
    session.run("python", "-m", "tests.flake", "--target", "reference", "--target", "lightning",
                *session.posargs)


# The kill matrix is left out of `coverage`: its mutants are copies of reference/ outside
# the measured packages, and it takes most of the test time.
_KILL_MATRIX = ("test_reference_passes_every_clause", "test_mutant_fails_exactly_its_clauses",
                "test_mutation_score_is_100_percent")


@nox.session
def coverage(session):
    """Measure line and branch coverage of reference/, conformance/, adapters/ (at least 90%).

    The clause suite on reference and lightning, then the kit's tests, run under coverage.py
    with subprocesses and DDP ranks measured too ([tool.coverage] in pyproject.toml); the
    data is combined, reported in the terminal and in htmlcov/index.html.
    """
    _install(session, LATEST_REQUIREMENTS, kit=("-e", ".[dev]"))
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "conformance/clauses", "-q", "-p",
                "no:cacheprovider", "--target", "reference", "--target", "lightning")
    deselect = [f"--deselect=tests/test_mutants.py::{test}" for test in _KILL_MATRIX]
    session.run("coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", *deselect,
                *session.posargs)
    session.run("coverage", "combine", "-q")
    session.run("coverage", "html", "-q")  # first: a report under 90% still leaves the pages
    session.run("coverage", "report")  # fails under [tool.coverage.report] fail_under (90)


@nox.session
def differential(session):
    """Run the differential test (reference vs lightning 2.6.6) with 500 Hypothesis examples.

    tests/test_differential.py; plain pytest runs its small derandomised "ci" profile instead.
    """
    _install(session, LATEST_REQUIREMENTS, kit=("-e", ".[dev]"))
    session.run("python", "-m", "pytest", "tests/test_differential.py", "-p", "no:cacheprovider",
                *session.posargs,
                env={"LCK_DIFFERENTIAL_PROFILE": "thorough"})


@nox.session
def bench(session):
    """Measure DESIGN.md's performance targets: step overhead, suite and matrix times.

    ``python -m benchmarks`` (options after ``--``, e.g. ``-- --repeats 9 --json bench.json``);
    it fails when the reference exceeds 1.2x a hand-written loop, a target's suite 60 s or the
    matrix 10 minutes.
    """
    _install(session, LATEST_REQUIREMENTS)
    session.run("python", "-m", "benchmarks", *session.posargs)
