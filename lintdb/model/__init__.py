"""The per-file semantic model (see semantic.SemanticModel)."""

from lintdb.model.handles import Handle
from lintdb.model.semantic import SemanticModel
from lintdb.model.sql import SqlSite

__all__ = ["Handle", "SemanticModel", "SqlSite"]
