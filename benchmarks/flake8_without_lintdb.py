"""Run flake8 with the lintdb plugin hidden, to time "flake8 alone" in the same environment."""

from __future__ import annotations

import sys
from collections.abc import Generator

from flake8.main.cli import main
from flake8.plugins import finder

_found = finder._find_importlib_plugins


def _without_lintdb() -> Generator[finder.Plugin, None, None]:
    yield from (p for p in _found() if p.entry_point.name != "LDB")


finder._find_importlib_plugins = _without_lintdb
sys.exit(main())
