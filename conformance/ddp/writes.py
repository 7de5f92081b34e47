"""Files a rank creates or replaces under a directory, seen through Python's audit hooks."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["FileWrites"]


class FileWrites:
    """Every path under ``root`` opened for writing, renamed or linked to, in order.

    An audit hook cannot be removed, so one ``FileWrites`` lives as long as the rank; a phase
    reads what it wrote with ``since(len(writes.paths))`` taken at its start.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = os.path.realpath(root)
        self.paths: list[str] = []
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path, mode, flags = args[0], args[1], args[2]
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else \
                bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing:
                self._note(path)
        elif event in ("os.rename", "os.replace", "os.symlink") and len(args) > 1:
            self._note(args[1])  # Lightning 2.1 links last.ckpt to the top-k file

    def _note(self, path: str | bytes | os.PathLike[str]) -> None:
        path = os.path.realpath(os.fsdecode(path))
        # the harness's own files (a rank's stderr, its record being written) are not the run's
        if path.startswith(self.root + os.sep) and not path.endswith((".stderr", ".partial")):
            self.paths.append(os.path.relpath(path, self.root))

    def since(self, start: int) -> list[str]:
        """The distinct paths written after the first ``start`` writes, sorted."""
        return sorted(set(self.paths[start:]))
