"""The pytest plugin (entry point ``pytest11``): runs conformance clauses against targets.

Targets are resolved like pytest-timeout resolves its settings: ``--target`` (repeatable)
→ the ``LCK_TARGET`` environment variable (comma-separated) → the ``lck_target`` ini value
→ ``reference``. Nothing is imported until a test asks for the ``target`` fixture, so the
plugin costs nothing in projects that only have it installed.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from lightning_conformance import clauses
from lightning_conformance.session.state import STATE, SessionState, clause_id, item_target, state
from lightning_conformance.spec.clause import REGISTRY
from lightning_conformance.spec.contract import Contract

TARGET_DESC = (
    "target to check: reference, lightning, pytorch_lightning, an entry-point name or "
    "module:factory (repeatable; env LCK_TARGET, ini lck_target; default reference)"
)
CONTRACT_DESC = "check every target against this Lightning version's contract (default: its own)"
AREA_DESC = "only run clauses of this area, e.g. HOOK (repeatable)"
CLAUSE_DESC = "only run this clause, e.g. HOOK-007 (repeatable; -k HOOK-007 selects it too)"
REPORT_DESC = "write one JSON report per target into this directory"

# The kit's package and its clause files, wherever they are installed. In a source checkout
# the folder is conformance/, not lightning_conformance/, so pytest would import a clause file
# under a name of its folder's (conformance.clauses.test_x) and register every clause twice.
_KIT_DIR = Path(clauses.__file__).resolve().parent.parent
_CLAUSES_DIR = Path(clauses.__file__).resolve().parent


class ClauseModule(pytest.Module):
    """A clause file of the kit, imported under its package name, never by its path."""

    def _getobj(self):
        return importlib.import_module(f"{clauses.__name__}.{self.path.stem}")


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path, parent):
    # A plain directory: pytest's Package would import the kit's __init__.py by path too.
    if path.resolve() == _KIT_DIR or _KIT_DIR in path.resolve().parents:
        return pytest.Dir.from_parent(parent, path=path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    if module_path.resolve().parent == _CLAUSES_DIR:
        return ClauseModule.from_parent(parent, path=module_path)
    return None


def pytest_addoption(parser):
    group = parser.getgroup("lightning-conformance")
    group.addoption("--target", action="append", dest="lc_targets", help=TARGET_DESC)
    group.addoption("--contract", dest="lc_contract", help=CONTRACT_DESC)
    group.addoption("--area", action="append", dest="lc_areas", help=AREA_DESC)
    group.addoption("--clause", action="append", dest="lc_clauses", help=CLAUSE_DESC)
    group.addoption("--conformance-report", dest="lc_report_dir", help=REPORT_DESC)
    parser.addini("lck_target", TARGET_DESC)


def pytest_configure(config):
    config.addinivalue_line("markers", "clause(id): the conformance clause this test checks")
    config.addinivalue_line("markers", "requires(*capabilities): target capabilities needed")
    config.stash[STATE] = SessionState(config)
    config.pluginmanager.register(config.stash[STATE], "lightning-conformance-state")
    reportchars = getattr(config.option, "reportchars", None)
    if reportchars is not None and "s" not in reportchars:  # a skip is never silent
        config.option.reportchars = reportchars + "sxX"


def pytest_report_header(config):
    current = state(config)
    contract_version = current.contract_version or "each target's own version"
    return f"lightning-conformance: targets {', '.join(current.specs)} " \
           f"(from {current.where}); contract {contract_version}"


def pytest_collection(session):
    # Targets named explicitly are loaded before collection, so that a bad one is one usage
    # error rather than a collection error per clause file.
    current = state(session.config)
    if current.where != "default":
        current.adapters()


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        adapters = state(metafunc.config).adapters()
        metafunc.parametrize("lc_adapter", list(adapters.values()), ids=list(adapters),
                             scope="session")


@pytest.fixture
def target(lc_adapter, tmp_path, request):
    """The target under test, bound to this clause's temp dir and contract."""
    from lightning_conformance.session.harness import Harness

    clause = REGISTRY.get(clause_id(request.node) or "")
    contract = Contract(state(request.config).collector.contracts[lc_adapter.name])
    declared = frozenset(clause.changes) if clause else frozenset()
    return Harness(lc_adapter, tmp_path, contract.restricted(declared))


@pytest.fixture
def contract(target):
    """The contract version this clause checks, restricted to the changes it declares."""
    return target.contract


@pytest.hookimpl(tryfirst=True)  # before pytest's -k: the clause IDs become keywords here
def pytest_collection_modifyitems(config, items):
    current = state(config)
    if current.collector is None:
        return
    from lightning_conformance.session.items import apply_selection

    apply_selection(config, items, current)


def pytest_collection_finish(session):
    current = state(session.config)
    if current.collector is None:
        return
    from lightning_conformance.session.items import header_line

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(header_line(current.collector))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    identifier, adapter = clause_id(item), item_target(item)
    if identifier and adapter is not None:
        report.user_properties.append(("clause", identifier))
        report.user_properties.append(("target", adapter.name))
        if report.failed:
            clause = REGISTRY.get(identifier)
            contract_version = state(item.config).collector.contracts[adapter.name]
            report.sections.append((
                f"clause {identifier}",
                f"{clause.sentence if clause else ''}\nsource: {clause.source if clause else ''}"
                f"\ntarget: {adapter.name} {adapter.version} (contract {contract_version})",
            ))
    return report


def pytest_sessionfinish(session):
    current = state(session.config)
    if current.collector is None:
        return
    report_dir = session.config.getoption("lc_report_dir")
    if report_dir:  # a session stopped by Ctrl-C writes its reports marked interrupted
        current.collector.write(Path(report_dir),
                                interrupted=session.exitstatus == pytest.ExitCode.INTERRUPTED)


def pytest_terminal_summary(terminalreporter, config):
    current = state(config)
    if current.collector is None:
        return
    from lightning_conformance.session.items import summary_lines

    terminalreporter.section("lightning-conformance")
    for line in summary_lines(current.collector):
        terminalreporter.write_line(line)


def pytest_assertrepr_compare(config, op, left, right):
    from lightning_conformance.adapters.trace import HookSequence, diff_lines

    sequences = isinstance(left, list) and isinstance(right, list)
    if op == "==" and sequences and HookSequence in (type(left), type(right)):
        return [
            f"hook sequences differ: expected {len(left)} calls, got {len(right)}",
            *diff_lines(left, right),
        ]
    return None
