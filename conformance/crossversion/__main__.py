"""``python -m lightning_conformance.crossversion``: the checkpoint generator's command."""

import sys

from lightning_conformance.crossversion.generate import main

sys.exit(main())
