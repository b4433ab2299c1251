"""The per-file semantic model every rule queries (`self.model`): names, values, SQL at call sites,
database handles, transactions and the project context. Each part is built on first use, once per file."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import libcst as cst

from lintdb.async_sessions import expiry_off
from lintdb.cst_helpers import dotted
from lintdb.model.dialects import dialect_branch
from lintdb.model.handles import Handle, Handles
from lintdb.model.names import Names
from lintdb.model.project import ProjectContext, project_context, project_root
from lintdb.model.project_index import Found, Imported, ProjectIndex, project_index
from lintdb.model.sql import CallSql, SqlSite
from lintdb.model.transactions import Transactions
from lintdb.model.tree import Tree
from lintdb.model.values import Values
from lintdb.options import RuleOptions
from lintdb.sqltext import SqlString


class SemanticModel:
    """One file's model, shared by the rules that run on it."""

    def __init__(self, module: cst.Module, options: RuleOptions | None = None, path: str | Path | None = None) -> None:
        self.module = module
        self.options = options or RuleOptions()
        self.path = path

    @cached_property
    def tree(self) -> Tree:
        """Parents and scopes (one walk of the module)."""
        return Tree(self.module)

    @cached_property
    def _names(self) -> Names:
        return Names(self.tree)

    @cached_property
    def _values(self) -> Values:
        return Values(self.tree, self._names)

    @cached_property
    def _sql(self) -> CallSql:
        return CallSql(self.tree, self._names, self._values)

    @cached_property
    def _handles(self) -> Handles:
        return Handles(self.tree, self._names, self._values)

    @cached_property
    def _inferred_handles(self) -> Handles:
        return Handles(self.tree, self._names, self._values, inferred=True)

    @cached_property
    def _transactions(self) -> Transactions:
        return Transactions(self.tree, self._handles)

    @cached_property
    def project(self) -> ProjectContext:
        """The project around the file (read once per run and project root; config overrides it)."""
        return project_context(self.path, self.options)

    @cached_property
    def index(self) -> ProjectIndex:
        """The project's other modules: session factories, fixtures, URL constants (one index per root)."""
        return project_index(project_root(Path(self.path)) if self.path is not None else None)

    @cached_property
    def expiry_off(self) -> bool:
        """Whether every AsyncSession factory of the project and of this file sets `expire_on_commit=False`."""
        return expiry_off(self)

    def imported(self, expr: cst.BaseExpression) -> tuple[Imported, tuple[str, ...]] | None:
        """The import that binds a dotted expression's root (relative ones too) and the attributes read
        of it: `settings.DATABASE_URL` after `from .config import settings`."""
        path = dotted(expr)
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if path is None or not isinstance(root, cst.Name):
            return None
        binders = self._names.bindings(root)
        if len(binders) != 1 or not isinstance(binders[0], cst.ImportAlias):
            return None
        alias, statement = binders[0], self.tree.parent(binders[0])
        name = dotted(alias.name)
        attributes = tuple(path.split(".")[1:])
        if name is None:
            return None
        if isinstance(statement, cst.Import):
            if alias.asname is None:
                return Imported(name.split(".")[0], None), attributes
            return Imported(name, None), attributes
        if isinstance(statement, cst.ImportFrom):
            module = dotted(statement.module) if statement.module is not None else ""
            relative = statement.relative if isinstance(statement.relative, (list, tuple)) else ()
            return Imported(module or "", name, len(relative)), attributes
        return None

    def project_definition(self, expr: cst.BaseExpression) -> Found | None:
        """What an imported name is in the project's module that defines it: a session factory, a function
        or dependency giving sessions, or a function returning a factory."""
        found = self.imported(expr)
        if found is None or self.path is None:
            return None
        imported, attributes = found
        if attributes:
            names = ((imported.name,) if imported.name else ()) + attributes
            module = ".".join(p for p in (imported.module, *names[:-1]) if p)
            imported = Imported(module, names[-1], imported.level)
        return self.index.session(imported, Path(self.path).resolve())

    def project_fixture(self, name: str) -> Found | None:
        """What the pytest fixture ``name`` of a conftest.py above this file gives."""
        return None if self.path is None else self.index.fixture(name, Path(self.path))

    def _imported_text(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        """The text a name imported from the project holds (a config module's constant, a settings
        default), also through `str(...)`, a name assigned it, and `get_settings().X` / `Settings().X`."""
        if self.path is None or depth > 4:
            return None
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "str" and expr.args:
            return self._imported_text(expr.args[0].value, depth + 1)
        base: cst.BaseExpression = expr
        attributes: list[str] = []
        while isinstance(base, cst.Attribute):
            attributes.insert(0, base.attr.value)
            base = base.value
        if isinstance(base, cst.Call) and not base.args:
            base = base.func  # `get_settings().DATABASE_URL`: what the function returns
        if isinstance(base, cst.Name) and self.imported(base) is None:
            value = self._values.value_of(base)
            if value is None or value is base:
                return None
            if not attributes:
                return self._imported_text(value, depth + 1)
            base = value.func if isinstance(value, cst.Call) and not value.args else value
        found = self.imported(base) if isinstance(base, (cst.Name, cst.Attribute)) else None
        if found is None:
            return None
        imported, rest = found
        return self.index.text(imported, (*rest, *attributes), Path(self.path).resolve())

    # Names
    def qualified_name(self, expr: cst.CSTNode) -> str | None:
        """`asyncpg.connect` for `pg.connect` after `import asyncpg as pg`; None when not imported (or
        when several imports may bind it)."""
        found = self._names.qualified_names(expr)
        return next(iter(found)) if len(found) == 1 else None

    def qualified_names(self, expr: cst.CSTNode) -> set[str]:
        """Every qualified name the expression may stand for."""
        return self._names.qualified_names(expr)

    # Values
    def value_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """What a name or attribute holds (one assignment in the function or module, a class attribute or
        settings default, an attribute assigned once in the module, an environment default)."""
        return self._values.value_of(expr)

    def values_of(self, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
        """Every value it may hold (each item of a literal tuple a `for` iterates over)."""
        return self._values.values_of(expr)

    def assigned(self, name: cst.Name) -> list[cst.BaseExpression]:
        """Every value `name = value` assigns in the scope ``name`` is used in."""
        return self._values.assigned(name)

    def string_of(self, expr: cst.BaseExpression) -> SqlString | None:
        """The text of a string expression with a map back to the source (holes as sqltext.HOLE)."""
        return self._values.string_of(expr)

    def texts_of(self, expr: cst.BaseExpression) -> list[str]:
        """Every plain text a string expression may hold (literal tuples a `for` iterates, f-strings over
        them); empty when not known."""
        return self._values.texts_of(expr)

    def text_of(self, expr: cst.BaseExpression | None) -> str | None:
        """The plain text of a string expression (URLs: f-string holes as sqltext.HOLE), also of a constant
        or settings default another module of the project defines."""
        found = self._values.text_of(expr)
        return found if found is not None or expr is None else self._imported_text(expr)

    def dict_of(self, expr: cst.BaseExpression | None) -> dict[str, cst.BaseExpression] | None:
        """The string-keyed items of `{...}`, `dict(...)` or a name holding one."""
        return self._values.dict_of(expr)

    def keyword(self, call: cst.Call, name: str) -> cst.BaseExpression | None:
        """A call's keyword argument, also through `**OPTS` and `**dict(...)`."""
        return self._values.keyword(call, name)

    # SQL
    def sql_of_call(self, call: cst.Call) -> SqlString | None:
        """The SQL a call runs or builds: driver methods, `text()`, `exec_driver_sql`, `op.execute`, wrappers."""
        return self._sql.sql_of_call(call)

    def sql_site(self, call: cst.Call) -> SqlSite | None:
        """The SQL of a call with the argument that holds it and its style (text / driver / alembic / wrapper)."""
        return self._sql.site(call)

    def is_text(self, expr: cst.BaseExpression) -> bool:
        """Whether the expression is a SQLAlchemy `text(...)` call."""
        return self._sql.is_text(expr)

    # Handles
    def handle_of(self, expr: cst.BaseExpression, inferred: bool = False) -> Handle | None:
        """The database handle an expression holds where it is used (see handles.Handle); with ``inferred``,
        names are also asyncpg connections by their use (`fetchrow`, `copy_records_to_table`, `$1` SQL)."""
        return (self._inferred_handles if inferred else self._handles).handle_of(expr)

    def handles_at(self, node: cst.CSTNode) -> Mapping[str, Handle]:
        """Every dotted name's handle before the statement that holds ``node``."""
        return self._handles.at(node)

    def iterated_handle(self, expr: cst.BaseExpression, inferred: bool = False) -> Handle | None:
        """The handle of each item of `for x in expr` (asyncpg records; ``inferred`` as in handle_of)."""
        handles = self._inferred_handles if inferred else self._handles
        return handles.iterated(expr, handles.at(expr))

    # Dialects
    def dialect_branch(self, node: cst.CSTNode) -> tuple[str, bool] | None:
        """The innermost dialect branch around ``node`` in its function (`if bind.dialect.name == "sqlite":`):
        (dialect, True) when it runs on that dialect only, (dialect, False) when on every other one."""
        return dialect_branch(self.tree, node, self._values.value_of)

    # Scopes and transactions
    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The function whose body holds ``node``."""
        return self._handles.enclosing_function(node)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node directly above ``node``."""
        return self.tree.parent(node)

    def in_transaction(self, node: cst.CSTNode, connection: str | None = None) -> bool:
        """Whether ``node`` runs in a transaction (on the dotted ``connection`` when given)."""
        return self._transactions.in_transaction(node, connection)

    def transaction_block(self, node: cst.CSTNode, connection: str | None = None) -> cst.With | None:
        """The innermost `with` block around ``node`` that opens a transaction (on ``connection``)."""
        return self._transactions.block(node, connection)
