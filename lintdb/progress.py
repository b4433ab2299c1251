"""Progress of a long `lintdb check` on a terminal: one line on stderr, rewritten in place and erased at
the end. Nothing when stderr is not a terminal (CI logs, pipes, files), under `CI`, or for machine formats."""

from __future__ import annotations

import os
import time
from typing import TextIO

_ERASE = "\r\x1b[K"
INTERVAL_SECONDS = 0.1


class Progress:
    """Call with (files done, total); call ``close()`` before printing the report."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (self.shown and now - self.last < INTERVAL_SECONDS and done < total):
            return
        self.stream.write(f"{_ERASE}lintdb: checked {done} of {total} files")
        self.stream.flush()
        self.shown, self.last = True, now

    def close(self) -> None:
        """Erase the line, so that the report starts on a clean one."""
        if self.shown:
            self.stream.write(_ERASE)
            self.stream.flush()
            self.shown = False
