"""Qualified names from the file's own imports (`import asyncpg as pg`: `pg.connect` is `asyncpg.connect`).

The binding nearest to a use decides: a name a function assigns is local to it and no longer the
import, as in Python. Relative imports bind names that resolve to nothing."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import dotted
from lintdb.model.tree import Scope, Tree


def _module_name(node: cst.BaseExpression) -> str:
    name = dotted(node)
    assert name is not None
    return name


def imported_as(binder: cst.CSTNode, parent: cst.CSTNode | None) -> str | None:
    """The qualified name an import alias binds (None for anything else and for relative imports)."""
    if not isinstance(binder, cst.ImportAlias):
        return None
    if isinstance(parent, cst.Import):
        full = _module_name(binder.name)
        return full if binder.asname is not None else full.split(".")[0]
    if isinstance(parent, cst.ImportFrom) and not parent.relative and parent.module is not None:
        return f"{_module_name(parent.module)}.{_module_name(binder.name)}"
    return None


class Names:
    """The resolver of qualified names over one module's scopes."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        # what a name bound in a scope is imported as: computed once per (scope, name), not once per use
        self._imported: dict[tuple[int, str], frozenset[str]] = {}

    def binding_scope(self, name: cst.Name) -> Scope | None:
        """The scope whose binding of ``name`` a use sees (class bodies are skipped from inner scopes)."""
        scope: Scope | None = self.tree.scope(name)
        first = scope
        while scope is not None:
            if name.value in scope.global_names:
                scope = self.tree.root
                continue
            if name.value in scope.bindings and (scope is first or not isinstance(scope.node, cst.ClassDef)):
                return scope
            scope = scope.parent
        return None

    def bindings(self, name: cst.Name) -> list[cst.CSTNode]:
        """What binds ``name`` where it is used: import aliases, assignments, parameters, ..."""
        scope = self.binding_scope(name)
        return scope.bindings[name.value] if scope is not None else []

    def qualified_names(self, expr: cst.CSTNode) -> set[str]:
        """Every qualified name the dotted expression may stand for (several for `try: import a as x /
        except ImportError: import b as x`); empty when its root is not imported or is rebound."""
        path = dotted(expr) if isinstance(expr, cst.BaseExpression) else None
        if path is None:
            return set()
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        assert isinstance(root, cst.Name)
        rest = path[len(root.value) :]
        return {target + rest for target in self._imported_names(root)}

    def _imported_names(self, name: cst.Name) -> frozenset[str]:
        """What the import aliases binding ``name`` where it is used import (empty when any binding is not
        an import)."""
        scope = self.binding_scope(name)
        if scope is None:
            return frozenset()
        key = (id(scope), name.value)
        found = self._imported.get(key)
        if found is None:
            targets = [imported_as(b, self.tree.parent(b)) for b in scope.bindings[name.value]]
            found = frozenset() if None in targets else frozenset(t for t in targets if t is not None)
            self._imported[key] = found
        return found
