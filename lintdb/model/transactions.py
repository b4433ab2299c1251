"""Transaction regions: `async with con.transaction()`, `with session.begin()`, `engine.begin() as conn`,
and a helper that takes the connection when every call to it in the module is in one (the in-file
call graph)."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, unwrap_await
from lintdb.model.handles import Handles
from lintdb.model.tree import Tree

TRANSACTION_METHODS = frozenset({"transaction", "begin", "begin_nested"})
MAX_DEPTH = 5


class Transactions:
    """Transaction lookups over one module."""

    def __init__(self, tree: Tree, handles: Handles) -> None:
        self.tree = tree
        self.handles = handles
        self._callers: dict[str, list[cst.Call]] | None = None

    @staticmethod
    def opened_by(block: cst.With) -> set[str]:
        """The dotted names a `with` block holds a transaction on: `con` for `con.transaction()`, and both
        `engine` and `conn` for `engine.begin() as conn`."""
        found: set[str] = set()
        for item in block.items:
            opened = unwrap_await(item.item)
            if (
                isinstance(opened, cst.Call)
                and isinstance(opened.func, cst.Attribute)
                and opened.func.attr.value in TRANSACTION_METHODS
                and (receiver := dotted(opened.func.value)) is not None
            ):
                found.add(receiver)
                if item.asname is not None and (bound := dotted(item.asname.name)) is not None:
                    found.add(bound)
        return found

    def block(self, node: cst.CSTNode, connection: str | None = None) -> cst.With | None:
        """The innermost `with` block around ``node`` in its function that opens a transaction (on ``connection``)."""
        child = node
        for above in self.tree.ancestors(node):
            if isinstance(above, cst.With) and child is above.body:
                opened = self.opened_by(above)
                if opened and (connection is None or connection in opened):
                    return above
            if isinstance(above, (cst.FunctionDef, cst.ClassDef)):
                break
            child = above
        return None

    def in_transaction(self, node: cst.CSTNode, connection: str | None = None, depth: int = 0) -> bool:
        """Whether ``node`` runs inside a transaction (on ``connection`` when given): in a block that opens one,
        or in a helper every call of which, in this module, passes a connection in a transaction."""
        if self.block(node, connection) is not None:
            return True
        function = self.handles.enclosing_function(node)
        if function is None or depth >= MAX_DEPTH:
            return False
        params = [p.name.value for p in function.params.params]
        if connection is not None:
            root = connection.split(".")[0]
            if root not in params:
                return False
            index = params.index(root)
        calls = self.callers().get(function.name.value, [])
        if not calls:
            return False
        for call in calls:
            passed: str | None = None
            if connection is not None:
                method = isinstance(call.func, cst.Attribute)
                position = index - 1 if method and params and params[0] in ("self", "cls") else index
                arg = call_arg(call, position, root)
                passed = dotted(arg.value) if arg is not None else None
                if passed is None:
                    return False
                passed += connection[len(root) :]
            if not self.in_transaction(call, passed, depth + 1):
                return False
        return True

    def callers(self) -> dict[str, list[cst.Call]]:
        """Calls of the module's functions by name: `helper(...)` and `self.helper(...)`."""
        if self._callers is None:
            self._callers = {}
            for call in self.tree.calls:
                func = call.func
                if isinstance(func, cst.Name):
                    self._callers.setdefault(func.value, []).append(call)
                elif (
                    isinstance(func, cst.Attribute)
                    and isinstance(func.value, cst.Name)
                    and func.value.value
                    in (
                        "self",
                        "cls",
                    )
                ):
                    self._callers.setdefault(func.attr.value, []).append(call)
        return self._callers
