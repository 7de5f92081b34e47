import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd=None, env=None, timeout=600):
    """Run the installed ``lightning-conformance`` entry point in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from lightning_conformance.cli import main; "
         "sys.exit(main(sys.argv[1:]))", *args],
        cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli
