"""One fast walk over a LibCST tree: each node's parent, and the scope each name is bound or used in.

LibCST's own visitors rebuild every node they pass; this walk only reads the dataclass fields that
can hold code (whitespace, commas and parentheses are skipped), which is several times cheaper."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from lintdb.cst_helpers import children, dotted

ScopeNode = cst.Module | cst.FunctionDef | cst.ClassDef | cst.Lambda


def calls_under(node: cst.CSTNode) -> list[cst.Call]:
    """Every call under ``node`` in source order, nested functions, classes and lambdas excluded."""
    found: list[cst.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and current is not node:
            continue
        stack.extend(reversed(list(children(current))))
    return found


@dataclass
class Scope:
    """A module, function, class or lambda body, and the names bound in it (in source order)."""

    node: ScopeNode
    parent: Scope | None
    bindings: dict[str, list[cst.CSTNode]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)

    def bind(self, name: str, binder: cst.CSTNode) -> None:
        """Record that ``binder`` (an import alias, an assignment, a `for`, a parameter...) binds ``name``
        (in the module's scope for a name the scope declares `global`)."""
        scope = self
        if name in self.global_names:
            while scope.parent is not None:
                scope = scope.parent
        scope.bindings.setdefault(name, []).append(binder)


class Tree:
    """Parents and scopes of one module, from one walk."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.parents: dict[int, cst.CSTNode] = {}
        self.scope_of_name: dict[int, Scope] = {}
        self.scopes: dict[int, Scope] = {}
        self.functions: list[cst.FunctionDef] = []
        self.calls: list[cst.Call] = []  # every call in the module, in source order
        # `a.b = value` anywhere, by dotted target (`self.x` in a method is keyed `ClassName.x`)
        self.attribute_values: dict[str, list[cst.BaseExpression]] = {}
        root = Scope(module, None)
        self.scopes[id(module)] = root
        self.root = root
        self._walk(module, root)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node directly above ``node`` (None for the module and for nodes outside this tree)."""
        return self.parents.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The nodes above ``node``, nearest first."""
        current = self.parents.get(id(node))
        while current is not None:
            yield current
            current = self.parents.get(id(current))

    def scope(self, node: cst.CSTNode) -> Scope:
        """The scope whose code ``node`` belongs to (a function's decorators and defaults belong outside it)."""
        known = self.scope_of_name.get(id(node))
        if known is not None:
            return known
        child = node
        for above in self.ancestors(node):
            if isinstance(above, cst.FunctionDef) and (child is above.body or child is above.params):
                return self.scopes[id(above)]
            if isinstance(above, cst.Lambda) and (child is above.body or child is above.params):
                return self.scopes[id(above)]
            if isinstance(above, cst.ClassDef) and child is above.body:
                return self.scopes[id(above)]
            child = above
        return self.root

    def _walk(self, node: cst.CSTNode, scope: Scope) -> None:
        parents = self.parents
        stack: list[tuple[cst.CSTNode, Scope]] = [(node, scope)]
        while stack:
            current, where = stack.pop()
            inner = where
            if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                inner = self._open(current, where)
            elif isinstance(current, cst.Name):
                self.scope_of_name[id(current)] = where
            elif isinstance(current, cst.Call):
                self.calls.append(current)
            self._bindings(current, where)
            kids = list(children(current))
            for kid in reversed(kids):
                parents[id(kid)] = current
                stack.append((kid, self._child_scope(current, kid, where, inner)))

    @staticmethod
    def _child_scope(node: cst.CSTNode, kid: cst.CSTNode, outer: Scope, inner: Scope) -> Scope:
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return inner if kid is node.body or kid is node.params else outer
        if isinstance(node, cst.ClassDef):
            return inner if kid is node.body else outer
        return outer

    def _open(self, node: cst.FunctionDef | cst.ClassDef | cst.Lambda, outer: Scope) -> Scope:
        inner = Scope(node, outer)
        self.scopes[id(node)] = inner
        if isinstance(node, cst.FunctionDef):
            self.functions.append(node)
            outer.bind(node.name.value, node)
        elif isinstance(node, cst.ClassDef):
            outer.bind(node.name.value, node)
            return inner
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            inner.bind(param.name.value, param)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                inner.bind(star.name.value, star)
        return inner

    def _bindings(self, node: cst.CSTNode, scope: Scope) -> None:
        """Record the names a statement or expression binds in ``scope``."""
        if isinstance(node, cst.Assign):
            for target in node.targets:
                self._targets(target.target, node, scope)
                self._attribute(target.target, node.value, scope)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            self._targets(node.target, node, scope)
            if isinstance(node, cst.AnnAssign) and node.value is not None:
                self._attribute(node.target, node.value, scope)
        elif isinstance(node, cst.For):
            self._targets(node.target, node, scope)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            self._targets(node.asname.name, node, scope)
        elif isinstance(node, cst.NamedExpr):
            self._targets(node.target, node, scope)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            self._targets(node.name.name, node, scope)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            scope.global_names.update(n.name.value for n in node.names)
        elif isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.bind(alias.asname.name.value, alias)
                elif isinstance(node, cst.Import):
                    scope.bind((dotted(alias.name) or "").split(".")[0], alias)
                elif isinstance(alias.name, cst.Name):
                    scope.bind(alias.name.value, alias)

    def _attribute(self, target: cst.BaseExpression, value: cst.BaseExpression, scope: Scope) -> None:
        if not isinstance(target, cst.Attribute):
            return
        path = dotted(target)
        if path is None:
            return
        root, _, rest = path.partition(".")
        method = scope.node
        if isinstance(method, cst.FunctionDef) and scope.parent is not None:
            owner = scope.parent.node
            params = method.params.params
            if isinstance(owner, cst.ClassDef) and params and params[0].name.value == root:
                path = f"{owner.name.value}.{rest}"
        self.attribute_values.setdefault(path, []).append(value)

    def _targets(self, target: cst.BaseExpression, binder: cst.CSTNode, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.bind(target.value, binder)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value, binder, scope)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, binder, scope)
