"""Fixes several rules share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import libcst as cst

from lintdb.cst_helpers import dotted, leading_lines, with_leading_lines
from lintdb.diagnostics import Applicability
from lintdb.flow import Step
from lintdb.rule import FixSpec, Replace, TextEdit


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        parts = (dotted(node) or "").split(".")
        self.names.update(".".join(parts[: i + 1]) for i in range(len(parts)) if parts[0])


def mentions(statement: cst.CSTNode, names: set[str]) -> bool:
    """Whether a statement uses any of the (possibly dotted) names."""
    finder = _Names()
    statement.visit(finder)
    return bool(finder.names & names)


def wrap_in_transaction(step: Step, connection: str, names: set[str], applicability: Applicability) -> FixSpec:
    """Wrap ``step``'s statement, and the following statements of its block up to the last that uses
    one of ``names``, in `async with <connection>.transaction():`."""
    suite = list(step.suite)
    first = suite.index(step.statement)
    last = max(i for i in range(first, len(suite)) if i == first or mentions(suite[i], names))
    wrapped = [
        with_leading_lines(s, ()) if i == first else s for i, s in enumerate(suite[first : last + 1], start=first)
    ]
    block = cst.With(
        items=[cst.WithItem(cst.Call(cst.Attribute(cst.parse_expression(connection), cst.Name("transaction"))))],
        body=cst.IndentedBlock(body=wrapped),
        asynchronous=cst.Asynchronous(),
        leading_lines=leading_lines(suite[first]),
    )
    changes = [Replace(suite[first], cst.FlattenSentinel([block]))]
    changes += [Replace(s, cst.RemovalSentinel.REMOVE) for s in suite[first + 1 : last + 1]]
    return FixSpec(tuple(changes), applicability, f"Run the statements inside `async with {connection}.transaction():`")


ImportAnchor = tuple[cst.BaseStatement, bool]


def imported_name(module: cst.Module, sources: frozenset[str], name: str) -> tuple[str | None, ImportAnchor | None]:
    """The local name under which ``name`` is imported from one of ``sources`` and, when it must be
    imported, where (a statement, and whether the import goes before it). (None, None) when the name
    is used for something else."""
    last_import: cst.BaseStatement | None = None
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                last_import = statement
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and dotted(small.module) in sources
                and not isinstance(small.names, cst.ImportStar)
            ):
                for alias in small.names:
                    if alias.name.value == name:
                        return (
                            alias.asname.name.value
                            if alias.asname and isinstance(alias.asname.name, cst.Name)
                            else name
                        ), None
    if mentions(module, {name}):
        return None, None
    if last_import is not None:
        return name, (last_import, False)
    first = module.body[0] if module.body else None
    return (name, (first, True)) if first is not None else (None, None)


def add_import(anchor: ImportAnchor, statement: str) -> Replace:
    """Insert an import statement after (or before) the anchor statement."""
    at, before = anchor
    new = cst.parse_statement(statement + "\n")
    return Replace(at, cst.FlattenSentinel([new, at] if before else [at, new]))


class _Uses(cst.CSTVisitor):
    """How often each name is used, imports aside."""

    def __init__(self) -> None:
        super().__init__()
        self.uses: Counter[str] = Counter()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.uses[node.value] += 1


def _uses(nodes: Sequence[cst.CSTNode]) -> Counter[str]:
    finder = _Uses()
    for node in nodes:
        node.visit(finder)
    return finder.uses


def _new_nodes(change: Replace) -> Sequence[cst.CSTNode]:
    if isinstance(change.new, cst.FlattenSentinel):
        return list(change.new.nodes)
    return [] if isinstance(change.new, cst.RemovalSentinel) else [change.new]


def _bound_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None:
        return alias.asname.name.value if isinstance(alias.asname.name, cst.Name) else None
    return (dotted(alias.name) or "").split(".")[0] or None


def _without(small: cst.BaseSmallStatement, unused: set[str]) -> cst.BaseSmallStatement | None:
    """An import statement without the aliases that bind ``unused`` names (None when none is left)."""
    if not isinstance(small, (cst.Import, cst.ImportFrom)) or isinstance(small.names, cst.ImportStar):
        return small
    kept = [alias for alias in small.names if _bound_name(alias) not in unused]
    if len(kept) == len(small.names):
        return small
    if not kept:
        return None
    kept[-1] = kept[-1].with_changes(comma=small.names[-1].comma)
    return small.with_changes(names=kept)


def drop_unused_imports(module: cst.Module, changes: Sequence[TextEdit | Replace]) -> tuple[TextEdit | Replace, ...]:
    """``changes`` plus the removal of every module-level import they leave unused: a name that was used
    before the changes and is not after them (names unused before are left alone; `__all__` keeps all)."""
    replaced = [c for c in changes if isinstance(c, Replace)]
    before = _uses([module])
    after = before - _uses([c.old for c in replaced]) + _uses([n for c in replaced for n in _new_nodes(c)])
    unused = {name for name in before if after[name] <= 0}
    if not unused or "__all__" in before:
        return tuple(changes)
    edited: dict[int, cst.BaseStatement | None] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            body = [kept for small in statement.body if (kept := _without(small, unused)) is not None]
            if body != list(statement.body):
                edited[id(statement)] = statement.with_changes(body=body) if body else None
    merged: list[TextEdit | Replace] = []
    for change in changes:
        if isinstance(change, Replace) and isinstance(change.new, cst.FlattenSentinel) and id(change.old) in edited:
            nodes = list(change.new.nodes)
            at = nodes.index(change.old)  # type: ignore[arg-type]
            rewritten = edited.pop(id(change.old))
            if rewritten is not None:
                nodes[at] = rewritten
            else:
                del nodes[at]
                if at < len(nodes):
                    nodes[at] = with_leading_lines(nodes[at], leading_lines(change.old))  # type: ignore[arg-type]
            change = Replace(change.old, cst.FlattenSentinel(nodes))
        elif isinstance(change, Replace) and id(change.old) in edited:
            edited.pop(id(change.old))  # the change rewrites the import itself: leave it as the rule wrote it
        merged.append(change)
    for statement in module.body:
        if id(statement) in edited:
            rewritten = edited[id(statement)]
            merged.append(Replace(statement, cst.RemovalSentinel.REMOVE if rewritten is None else rewritten))
    return tuple(merged)
