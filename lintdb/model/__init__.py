"""The per-file semantic model (see semantic.SemanticModel). Its names are imported on first use, so that
the project files (project.py, project_index.py) can be read without LibCST, as the cache does."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lintdb.model.handles import Handle
    from lintdb.model.semantic import SemanticModel
    from lintdb.model.sql import SqlSite

__all__ = ["Handle", "SemanticModel", "SqlSite"]
_HOMES = {"Handle": "lintdb.model.handles", "SemanticModel": "lintdb.model.semantic", "SqlSite": "lintdb.model.sql"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
