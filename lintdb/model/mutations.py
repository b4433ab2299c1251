"""What a function does to a dict after binding it: `d["key"] = value` statements, and whether anything
else may change its keys (`d.update(...)`, `d[name] = ...`, `del d[...]`, `d |= ...`, `d.setdefault(...)`).

Also the values a module function returns at a tuple position (`url, args = _parse(url)`)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import children, string_value
from lintdb.model.tree import Tree

_CHANGING_METHODS = frozenset({"update", "setdefault", "pop", "popitem", "clear"})


@dataclass(frozen=True)
class SetItems:
    """The `d["key"] = value` statements of one name in one scope, in source order; ``unknown`` when
    something else in that scope may change the dict's keys."""

    items: tuple[tuple[str, cst.BaseExpression, cst.Assign], ...]
    unknown: bool


def _own_nodes(scope: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes of a function or module body, nested functions, classes and lambdas excluded."""
    found: list[cst.CSTNode] = []
    stack = [scope]
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and node is not scope:
            continue
        stack.extend(reversed(list(children(node))))
    return found


def set_items(scope: cst.CSTNode, name: str) -> SetItems:
    """The subscript assignments to the dict ``name`` in the body of ``scope`` (a function or the module)."""
    items: list[tuple[str, cst.BaseExpression, cst.Assign]] = []
    unknown = False
    for node in _own_nodes(scope):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                subscript = target.target
                if not (isinstance(subscript, cst.Subscript) and _is_name(subscript.value, name)):
                    continue
                key = _literal_key(subscript)
                if key is None or len(node.targets) != 1:
                    unknown = True
                else:
                    items.append((key, node.value, node))
        elif _changes(node, name):
            unknown = True
    return SetItems(tuple(items), unknown)


def _changes(node: cst.CSTNode, name: str) -> bool:
    """Whether ``node`` may change the keys of the dict ``name`` other than by `name["key"] = value`."""
    if isinstance(node, cst.AugAssign):
        return _is_name(node.target, name)
    if isinstance(node, cst.Del):
        return _deletes(node.target, name)
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and _is_name(node.func.value, name)
        and node.func.attr.value in _CHANGING_METHODS
    )


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _literal_key(subscript: cst.Subscript) -> str | None:
    if len(subscript.slice) != 1 or not isinstance(subscript.slice[0].slice, cst.Index):
        return None
    return string_value(subscript.slice[0].slice.value)


def _deletes(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Subscript):
        return _is_name(target.value, name)
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_deletes(e.value, name) for e in target.elements)
    return False


def precedes(tree: Tree, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """Whether ``first`` comes before ``second`` in the source (both in ``tree``)."""
    path_first = [first, *tree.ancestors(first)][::-1]
    path_second = [second, *tree.ancestors(second)][::-1]
    for index, (a, b) in enumerate(zip(path_first, path_second, strict=False)):
        if a is not b:
            siblings = list(children(path_first[index - 1])) if index else []
            return any(s is a for s in siblings[: next(i for i, s in enumerate(siblings) if s is b)])
    return False


def returned_at(function: cst.FunctionDef, position: int, arity: int) -> list[cst.BaseExpression]:
    """The element at ``position`` of every tuple ``function`` returns, or [] unless every `return`
    of the function itself returns a tuple of ``arity`` plain elements."""
    found: list[cst.BaseExpression] = []
    returns = [n for n in _own_nodes(function.body) if isinstance(n, cst.Return)]
    for statement in returns:
        value = statement.value
        if not isinstance(value, cst.Tuple) or len(value.elements) != arity:
            return []
        if any(isinstance(e, cst.StarredElement) for e in value.elements):
            return []
        found.append(value.elements[position].value)
    return found
