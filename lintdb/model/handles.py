"""Database handles and where they came from: asyncpg connections, pools, prepared statements and
records; SQLAlchemy engines, connections, sessions and the driver connections under them; Alembic's
`op`, `context` and migration connection.

A function's names are followed in statement order (assignments, `with ... as`, `for` targets), so a
handle is what a name holds at the statement that uses it. Parameters count by their annotation,
`self.x` and `app.state.x` by what the module assigns them, and (when asked) a name by how it is used
(`copy_records_to_table`, `fetchrow`, `$1` placeholders mean asyncpg)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, string_value, unwrap_await
from lintdb.flow import walk
from lintdb.model.names import Names, imported_as
from lintdb.model.sql import SQL_METHODS
from lintdb.model.tree import Tree, calls_under
from lintdb.model.values import Values

ASYNCPG_CONNECT = frozenset({"asyncpg.connect", "asyncpg.connection.connect"})
ASYNCPG_CREATE_POOL = frozenset({"asyncpg.create_pool", "asyncpg.pool.create_pool"})
# the engine factories whose first argument is the database URL
URL_ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine.create.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
    }
)
ENGINE_FACTORIES = {
    **{name: "sa-async-engine" if "asyncio" in name else "sa-engine" for name in URL_ENGINE_FACTORIES},
    "sqlalchemy.engine_from_config": "sa-engine",
    "sqlalchemy.engine.engine_from_config": "sa-engine",
    "sqlalchemy.ext.asyncio.async_engine_from_config": "sa-async-engine",
    "sqlalchemy.ext.asyncio.engine.async_engine_from_config": "sa-async-engine",
}
SESSION_FACTORIES = {
    "sqlalchemy.orm.Session": "sa-session",
    "sqlalchemy.orm.session.Session": "sa-session",
    "sqlalchemy.ext.asyncio.AsyncSession": "sa-async-session",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sa-async-session",
    "sqlalchemy.orm.sessionmaker": "sa-sessionmaker",
    "sqlalchemy.orm.session.sessionmaker": "sa-sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sa-sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": "sa-sessionmaker",
}
ANNOTATIONS = {
    "asyncpg.Connection": "asyncpg-connection",
    "asyncpg.connection.Connection": "asyncpg-connection",
    "asyncpg.pool.PoolConnectionProxy": "asyncpg-connection",
    "asyncpg.Pool": "asyncpg-pool",
    "asyncpg.pool.Pool": "asyncpg-pool",
    "asyncpg.Record": "asyncpg-record",
    "asyncpg.prepared_stmt.PreparedStatement": "asyncpg-statement",
    "sqlalchemy.Engine": "sa-engine",
    "sqlalchemy.engine.Engine": "sa-engine",
    "sqlalchemy.Connection": "sa-connection",
    "sqlalchemy.engine.Connection": "sa-connection",
    "sqlalchemy.orm.Session": "sa-session",
    "sqlalchemy.ext.asyncio.AsyncEngine": "sa-async-engine",
    "sqlalchemy.ext.asyncio.AsyncConnection": "sa-async-connection",
    "sqlalchemy.ext.asyncio.AsyncSession": "sa-async-session",
}
ALEMBIC = {"alembic.op": "alembic-op", "alembic.context": "alembic-context"}
ASYNCPG_CONNECTIONS = frozenset({"asyncpg-connection", "borrowed-asyncpg"})
SA_CONNECTIONS = frozenset({"sa-connection", "sa-async-connection"})
ENGINES = frozenset({"sa-engine", "sa-async-engine"})
SESSIONS = frozenset({"sa-session", "sa-async-session"})
OPAQUE = "opaque"  # a name whose handle is not to be inferred by use (a connection with a custom record class)
# Methods only asyncpg connections have (a receiver of one is an asyncpg connection by use).
ASYNCPG_ONLY = frozenset(
    {
        "copy_records_to_table",
        "copy_from_query",
        "copy_to_table",
        "copy_from_table",
        "fetchrow",
        "fetchval",
        "set_type_codec",
        "set_builtin_type_codec",
        "reset_type_codec",
    }
)
# Methods asyncpg connections lack: a name also used with one is some other library's (a multi-driver
# helper's raw connection: `fetchrow` on one branch, DB-API `cursor()` and `fetchall()` on the others).
NOT_ASYNCPG = frozenset(
    {
        "commit",
        "rollback",
        "fetchone",
        "fetchall",
        "execute_fetchall",
        "executescript",
        "fetch_all",
        "fetch_one",
        "fetch_val",
        "iterate",
        "scalar",
        "scalars",
        "stream",
        "exec_driver_sql",
        "run_sync",
    }
)
# Libraries whose connections share asyncpg's method names (`fetchrow`, `fetchval`, `$1` placeholders) for
# other databases or other records: ClickHouse, aio-databases and mautrix (SQLite too), ODBC, psqlpy.
# A file that imports one infers no asyncpg connection from use.
LOOKALIKES = frozenset({"aiochclient", "aio_databases", "mautrix", "maubot", "pyodbc", "aioodbc", "psqlpy"})


@dataclass(frozen=True)
class Handle:
    """What a name or expression holds, and the node that told (call, annotation, use).

    ``sa``/``session`` name the SQLAlchemy connection and session a driver connection was borrowed from;
    ``connection`` names the connection of a prepared statement or record; ``init`` is set for asyncpg
    pools made with `init=` (which may register type codecs) and their connections; ``record_class`` for
    asyncpg objects made with a custom `record_class=`; ``options`` are known `execution_options()`.
    ``inferred`` marks an asyncpg connection known only by its use; ``managed`` one entered with `async with`
    from a project's own context manager, which may have opened a transaction."""

    kind: str
    origin: cst.CSTNode | None = None
    sa: str | None = None
    session: str | None = None
    connection: str | None = None
    init: bool = False
    record_class: bool = False
    options: tuple[tuple[str, str], ...] = ()
    inferred: bool = False
    managed: bool = False

    def option(self, name: str) -> str | None:
        """An execution option known to be set (`isolation_level`), upper-cased text."""
        return next((value for key, value in self.options if key == name), None)


class FunctionHandles:
    """The handles a function's names hold before each of its statements."""

    def __init__(self, handles: Handles, body: cst.CSTNode, function: cst.FunctionDef | None) -> None:
        self.handles = handles
        self.before: dict[int, dict[str, Handle]] = {}
        names: dict[str, Handle] = {}
        if function is not None:
            for param in (*function.params.posonly_params, *function.params.params, *function.params.kwonly_params):
                if param.annotation is not None:
                    kinds = {
                        ANNOTATIONS[q]
                        for q in handles.names.qualified_names(param.annotation.annotation)
                        if q in ANNOTATIONS
                    }
                    if len(kinds) == 1:
                        names[param.name.value] = Handle(kinds.pop(), param.annotation)
                        continue
                if handles.inferred and (used := handles.by_use(param.name)) is not None:
                    names[param.name.value] = used
        suite = body.body if isinstance(body, (cst.Module, cst.IndentedBlock)) else ()
        for step in walk(suite):
            self.before[id(step.statement)] = dict(names)
            self._bind(step.statement, names)

    def _bind(self, statement: cst.BaseStatement, names: dict[str, Handle]) -> None:
        pairs: list[tuple[cst.BaseExpression, cst.BaseExpression, bool]] = []
        if isinstance(statement, cst.With):
            pairs = [(i.asname.name, i.item, False) for i in statement.items if i.asname is not None]
        elif isinstance(statement, cst.For):
            pairs = [(statement.target, statement.iter, True)]
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    pairs.append((small.targets[0].target, small.value, False))
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    pairs.append((small.target, small.value, False))
        for target, value, iterated in pairs:
            name = dotted(target)
            if name is None:
                continue
            found = self.handles.iterated(value, names) if iterated else self.handles.resolve(value, names)
            if found is None and self.handles.inferred and not iterated:
                if self.handles.custom_records(value, names):
                    found = Handle(OPAQUE, value)  # asyncpg's, with records of its own class: not inferred
                else:
                    found = self.handles.by_use(target)
                    if found is not None and isinstance(statement, cst.With):
                        found = replace(found, managed=True)
            if found is not None:
                names[name] = found
            else:
                names.pop(name, None)


class Handles:
    """Handle lookups over one module; with ``inferred``, names are also asyncpg connections by their use."""

    def __init__(self, tree: Tree, names: Names, values: Values, inferred: bool = False) -> None:
        self.tree = tree
        self.names = names
        self.values = values
        self.inferred = inferred and not self._imports_lookalike()
        self._tables: dict[int, FunctionHandles] = {}
        self._used: dict[tuple[int, str], Handle | None] = {}

    def _imports_lookalike(self) -> bool:
        return any(
            (full := imported_as(binder, self.tree.parent(binder))) is not None and full.split(".")[0] in LOOKALIKES
            for scope in self.tree.scopes.values()
            for binders in scope.bindings.values()
            for binder in binders
        )

    def table(self, node: cst.CSTNode) -> FunctionHandles:
        """The handle table of the function (or module) whose code ``node`` is."""
        function = self.enclosing_function(node)
        owner: cst.CSTNode = function if function is not None else self.tree.module
        found = self._tables.get(id(owner))
        if found is None:
            body = function.body if function is not None else self.tree.module
            found = self._tables[id(owner)] = FunctionHandles(self, body, function)
        return found

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The function whose body holds ``node`` (nested functions are their own)."""
        owner: cst.CSTNode | None = node if isinstance(node, cst.FunctionDef) else None
        if owner is None:
            child = node
            for above in self.tree.ancestors(node):
                if isinstance(above, (cst.FunctionDef, cst.ClassDef)) and child is above.body:
                    owner = above
                    break
                child = above
        return owner if isinstance(owner, cst.FunctionDef) else None

    def at(self, node: cst.CSTNode) -> Mapping[str, Handle]:
        """The handles each dotted name holds before the statement that holds ``node``."""
        table = self.table(node)
        for above in (node, *self.tree.ancestors(node)):
            found = table.before.get(id(above))
            if found is not None:
                return found
            if isinstance(above, (cst.FunctionDef, cst.ClassDef)) and above is not node:
                break
        return {}

    def handle_of(self, expr: cst.BaseExpression) -> Handle | None:
        """What ``expr`` holds where it is used."""
        return self.resolve(expr, self.at(expr))

    def iterated(self, value: cst.BaseExpression, names: Mapping[str, Handle]) -> Handle | None:
        """The handle of each item when iterating over ``value`` (records of `fetch()` or a cursor)."""
        source = self.resolve(value, names)
        if source is not None and source.kind == "asyncpg-records":
            return Handle("asyncpg-record", value, connection=source.connection)
        value = unwrap_await(value)
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "cursor":
            owner = self.resolve(value.func.value, names)
            if owner is not None and (owner.kind in ASYNCPG_CONNECTIONS or owner.kind == "asyncpg-statement"):
                return Handle("asyncpg-record", value, connection=owner.connection or dotted(value.func.value))
        return None

    def resolve(self, value: cst.BaseExpression, names: Mapping[str, Handle], depth: int = 0) -> Handle | None:
        """The handle of a bound name, or of an expression such as `raw.driver_connection`."""
        name = dotted(value)
        if name is not None and name in names:
            return names[name]
        value = unwrap_await(value)
        found = self._origin(value, names, depth)
        if found is None and isinstance(value, (cst.Name, cst.Attribute)) and depth < 3:
            found = self._imported(value) or self._assigned_elsewhere(value, depth)
        if found is None and depth == 0:
            found = self.by_use(value)
        return found

    def _imported(self, value: cst.BaseExpression) -> Handle | None:
        kinds = {ALEMBIC[q] for q in self.names.qualified_names(value) if q in ALEMBIC}
        return Handle(kinds.pop(), value) if len(kinds) == 1 else None

    def _assigned_elsewhere(self, value: cst.Name | cst.Attribute, depth: int) -> Handle | None:
        """`self.con` set in another method, `app.state.pool` or a module-level name set once."""
        if isinstance(value, cst.Name) and self.names.binding_scope(value) is not self.tree.root:
            return None
        assigned = self.values.value_of(value)
        return self.resolve(assigned, {}, depth + 1) if assigned is not None else None

    def _origin(self, value: cst.BaseExpression, names: Mapping[str, Handle], depth: int) -> Handle | None:
        if isinstance(value, cst.Call):
            return self._call(value, names, depth)
        if isinstance(value, cst.Attribute) and value.attr.value in ("driver_connection", "dbapi_connection"):
            inner = self.resolve(value.value, names, depth + 1) or Handle("sa-raw-connection", value)
            kind = "borrowed-asyncpg" if value.attr.value == "driver_connection" else "sa-raw-connection"
            return Handle(kind, value, inner.sa, inner.session)
        if isinstance(value, cst.Subscript) and dotted(value.value) in ("context.config.attributes",):
            return Handle("migration-connection", value)
        return None

    def _call(self, value: cst.Call, names: Mapping[str, Handle], depth: int) -> Handle | None:
        custom = call_arg(value, None, "record_class") is not None
        init = call_arg(value, None, "init") is not None
        qualified = self.names.qualified_names(value.func)
        if qualified & ASYNCPG_CONNECT:
            return None if custom else Handle("asyncpg-connection", value)
        if qualified & ASYNCPG_CREATE_POOL:
            return Handle("asyncpg-pool", value, init=init, record_class=custom)
        for table in (ENGINE_FACTORIES, SESSION_FACTORIES):
            kinds = {table[q] for q in qualified if q in table}
            if len(kinds) == 1:
                return Handle(kinds.pop(), value, options=self._options(value))
        if not isinstance(value.func, cst.Attribute):
            callee = self.resolve(value.func, names, depth + 1) if isinstance(value.func, cst.Name) else None
            if callee is not None and callee.kind == "sa-sessionmaker":
                return Handle("sa-session", value)
            return None
        receiver, method = dotted(value.func.value), value.func.attr.value
        owner = names.get(receiver) if receiver else None
        if owner is None and receiver:
            owner = self.by_use(value.func.value)
        if owner is None and method in ("execution_options", "get_bind", "connect", "begin"):
            owner = self.resolve(value.func.value, names, depth + 1)
        if owner is not None and owner.kind in ASYNCPG_CONNECTIONS and not custom:
            if method == "fetchrow":
                return Handle("asyncpg-record", value, connection=receiver)
            if method == "fetch":
                return Handle("asyncpg-records", value, connection=receiver)
            if method == "prepare":
                return Handle("asyncpg-statement", value, connection=receiver)
        if method == "acquire":
            if owner is not None and owner.kind == "asyncpg-pool" and owner.record_class:
                return None
            return Handle("asyncpg-connection", value, init=owner is not None and owner.init)
        if method == "execution_options" and owner is not None:
            return replace(owner, origin=value, options=(*owner.options, *self._options(value)))
        if method == "get_bind" and owner is not None and owner.kind in ("alembic-op", "alembic-context"):
            return Handle("migration-connection", value)
        if method == "connection" and receiver:
            return Handle("sa-async-connection", value, receiver, receiver)
        if method in ("connect", "begin") and receiver:
            if owner is not None and owner.kind in SESSIONS:
                return None
            kind = self._connection_kind(value, owner)
            return Handle(kind, value, options=owner.options if owner is not None else ())
        if method == "get_raw_connection":
            if owner is None and receiver is None:  # `(await session.connection()).get_raw_connection()`
                owner = self.resolve(unwrap_await(value.func.value), names, depth + 1)
            sa = receiver or (owner.sa if owner is not None else None)
            return Handle("sa-raw-connection", value, sa, owner.session if owner else None) if sa else None
        return None

    def _connection_kind(self, call: cst.Call, engine: Handle | None) -> str:
        """A connection from an engine's `connect()`/`begin()`: async for an async engine, or in an async
        function when the engine is not known."""
        if engine is not None and engine.kind in ENGINES:
            return "sa-async-connection" if engine.kind == "sa-async-engine" else "sa-connection"
        function = self.enclosing_function(call)
        return "sa-async-connection" if function is not None and function.asynchronous else "sa-connection"

    def _options(self, call: cst.Call) -> tuple[tuple[str, str], ...]:
        level = self.values.keyword(call, "isolation_level")
        text = string_value(level) if level is not None else None
        return (("isolation_level", text.upper()),) if text is not None else ()

    def custom_records(self, value: cst.BaseExpression, names: Mapping[str, Handle]) -> bool:
        """An asyncpg connection or pool made with `record_class=`, or acquired from such a pool."""
        call = unwrap_await(value)
        if not isinstance(call, cst.Call):
            return False
        if call_arg(call, None, "record_class") is not None:
            return True
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "acquire":
            pool = self.resolve(call.func.value, names, 1)
            return pool is not None and pool.record_class
        return False

    def by_use(self, expr: cst.BaseExpression) -> Handle | None:
        """With ``inferred``: a name its function uses as an asyncpg connection (a method only asyncpg has,
        called with SQL or a table; `$1` in the SQL it runs)."""
        name = dotted(expr) if self.inferred else None
        if name is None:
            return None
        function = self.enclosing_function(expr)
        key = (id(function), name)
        if key not in self._used:
            self._used[key] = self._first_use(function.body if function is not None else self.tree.module, name)
        return self._used[key]

    def _first_use(self, scope: cst.CSTNode, name: str) -> Handle | None:
        found: Handle | None = None
        for call in calls_under(scope):
            if not isinstance(call.func, cst.Attribute) or dotted(call.func.value) != name:
                continue
            method = call.func.attr.value
            if method in NOT_ASYNCPG or (method == "cursor" and not call.args):  # asyncpg's cursor takes a query
                return None
            if found is not None or not call.args:  # pyodbc's `cursor.fetchval()` takes no argument
                continue
            if method in ASYNCPG_ONLY:
                found = Handle("asyncpg-connection", call, inferred=True)
            elif method in SQL_METHODS and method != "exec_driver_sql":
                sql = self.values.string_of(call.args[0].value)
                if sql is not None and "$1" in sql.text:
                    found = Handle("asyncpg-connection", call, inferred=True)
        return found
