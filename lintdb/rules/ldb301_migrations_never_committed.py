"""LDB301 migrations-never-committed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import (
    call_arg,
    dotted,
    leading_lines,
    method_call,
    statements,
    string_value,
    unwrap_await,
    with_leading_lines,
)
from lintdb.diagnostics import Applicability
from lintdb.flow import all_calls, walk
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

STATEMENT_METHODS = frozenset({"execute", "exec_driver_sql", "scalar", "scalars", "begin"})

_ASYNC_ENV = """
import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def do_run_migrations(connection: Connection) -> None:
{configure_prefix}    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.{opener}() as connection:
{before_run_sync}        await connection.run_sync(do_run_migrations)
{after_run_sync}    await connectable.dispose()


asyncio.run(run_async_migrations())
"""

_SYNC_ENV = """
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
{before_configure}        context.configure(connection=connection, target_metadata=None)
{after_configure}        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""


def async_env(
    configure_prefix: str = "", before_run_sync: str = "", after_run_sync: str = "", opener: str = "connect"
) -> str:
    """An async env.py in the shape of Alembic's `async` template, with lines added where asked."""
    return _ASYNC_ENV.format(
        configure_prefix=configure_prefix, before_run_sync=before_run_sync, after_run_sync=after_run_sync, opener=opener
    )


def sync_env(before_configure: str = "", after_configure: str = "") -> str:
    """A sync env.py in the shape of Alembic's `generic` template, with lines added where asked."""
    return _SYNC_ENV.format(before_configure=before_configure, after_configure=after_configure)


SET_PATH = 'connection.execute(text("SET search_path TO public"))\n'


# A sync env.py whose configure function calls a helper that runs a statement on the connection and
# commits on one branch only (the branch taken when `-x commit_prepare=true` is given).
HELPER_ENV = """
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
fileConfig(config.config_file_name)


def _prepare(connection):
    connection.execute(text("SET search_path TO public"))
{prepare_commit}

def do_run_migrations(connection):
    _prepare(connection)
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section("alembic", {{}}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        do_run_migrations(connection)


run_migrations_online()
"""
CONDITIONAL_COMMIT = """    if context.get_x_argument(as_dictionary=True).get("commit_prepare") == "true":
        connection.commit()
"""
# One configure function with an early statement, run from two connect blocks: one finding, one fix.
TWO_BLOCKS_ENV = """
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool, text

config = context.config
fileConfig(config.config_file_name)


def do_run_migrations(connection):
    connection.execute(text("SET search_path TO public"))
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(config.get_section("alembic", {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    if context.get_x_argument(as_dictionary=True).get("retry") == "true":
        with connectable.connect() as connection:
            do_run_migrations(connection)
    else:
        with connectable.connect() as connection:
            do_run_migrations(connection)


run_migrations_online()
"""


@dataclass(frozen=True)
class _Early:
    """A statement run on the migration connection before `context.configure()`."""

    call: cst.Call
    statement: cst.BaseStatement
    connection: str
    is_async: bool


class MigrationsNeverCommitted(LintRule):
    """
    ## What it does
    Checks Alembic `env.py` files for statements run on the migration connection before
    `context.configure(connection=...)` (or before `run_sync()` of the function that calls it), on a
    connection opened with `connect()` and never committed.

    ## Why is this bad?
    The first statement autobegins a transaction. When `context.configure()` sees the connection already
    in a transaction, Alembic assumes the caller owns it, so `begin_transaction()` never commits. The
    `with connect()` block then closes the connection and everything is rolled back: `alembic upgrade head`
    logs `Running upgrade ...`, exits 0, and leaves no tables and no `alembic_version` row. The async
    template (`await connection.execute(...)` before `run_sync`) and the sync template behave the same.

    ## Example
    ```python
    async with connectable.connect() as connection:
        await connection.execute(text("SET search_path TO public"))
        await connection.run_sync(do_run_migrations)
    ```

    Use instead:
    ```python
    async with connectable.connect() as connection:
        await connection.execute(text("SET search_path TO public"))
        await connection.commit()
        await connection.run_sync(do_run_migrations)
    ```

    Opening the connection with `connectable.begin()` also works.

    ## Fix safety
    The fix inserts `connection.commit()` after the last such statement and is safe: the migrations
    still run in Alembic's own transaction. With `alembic-env-fix = "autocommit"` the fix instead sets
    `isolation_level="AUTOCOMMIT"` before the first statement; that fix is unsafe, because a migration
    that fails halfway then leaves partial DDL behind (see LDB302).

    ## Options
    - `alembic-env-fix`

    ## References
    - [Alembic: Using Asyncio with Alembic](https://alembic.sqlalchemy.org/en/latest/cookbook.html#using-asyncio-with-alembic)
    - [SQLAlchemy: Commit As You Go (autobegin)](https://docs.sqlalchemy.org/en/20/core/connections.html#commit-as-you-go)
    """

    CODE = "LDB301"
    NAME = "migrations-never-committed"
    MESSAGE = "Statement before `context.configure()` makes Alembic skip its commit"
    FIX_TITLE = "Commit after the statement"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid(async_env()),
        Valid(sync_env()),
        Valid(sync_env(after_configure="        " + SET_PATH)),
        Valid(async_env(opener="begin", before_run_sync="        await " + SET_PATH)),
        Valid(
            async_env(before_run_sync="        await " + SET_PATH, after_run_sync="        await connection.commit()\n")
        ),
        # A project that chose AUTOCOMMIT (else LDB302, off by default, reports the AUTOCOMMIT itself).
        Valid(
            async_env(
                before_run_sync='        await connection.execution_options(isolation_level="AUTOCOMMIT")\n'
                "        await " + SET_PATH
            ),
            options={"alembic-env-fix": "autocommit"},
        ),
        Valid(async_env(configure_prefix="    " + SET_PATH + "    connection.commit()\n")),
        Valid(HELPER_ENV.format(prepare_commit="    connection.commit()\n")),
        # A commit through `context.get_bind()` after the migrations commits the early statement too.
        Valid(
            sync_env(before_configure="        " + SET_PATH).replace(
                "            context.run_migrations()\n",
                "            context.run_migrations()\n            context.get_bind().commit()\n",
            )
        ),
    )
    INVALID = (
        Invalid(
            HELPER_ENV.format(prepare_commit=CONDITIONAL_COMMIT),
            positions=[(11, 5)],
            fixed=HELPER_ENV.format(prepare_commit="    connection.commit()\n" + CONDITIONAL_COMMIT),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            TWO_BLOCKS_ENV,
            positions=[(11, 5)],
            fixed=TWO_BLOCKS_ENV.replace(SET_PATH, SET_PATH + "    connection.commit()\n", 1),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            async_env(before_run_sync="        await " + SET_PATH),
            positions=[(27, 15)],
            fixed=async_env(before_run_sync="        await " + SET_PATH + "        await connection.commit()\n"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            async_env(configure_prefix="    " + SET_PATH),
            positions=[(15, 5)],
            fixed=async_env(configure_prefix="    " + SET_PATH + "    connection.commit()\n"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            sync_env(before_configure="        " + SET_PATH),
            positions=[(18, 9)],
            fixed=sync_env(before_configure="        " + SET_PATH + "        connection.commit()\n"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            async_env(before_run_sync="        await " + SET_PATH),
            positions=[(27, 15)],
            fixed=async_env(
                before_run_sync='        await connection.execution_options(isolation_level="AUTOCOMMIT")\n'
                "        await " + SET_PATH
            ),
            applicability=Applicability.UNSAFE,
            options={"alembic-env-fix": "autocommit"},
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.reported: set[cst.Call] = set()  # a configure function run from several blocks: one finding
        functions = {s.name.value: s for s in node.body if isinstance(s, cst.FunctionDef)}
        configurers = {name: param for name, f in functions.items() if (param := _configured_param(f)) is not None}
        for function in functions.values():
            for step in walk(statements(function.body)):
                statement = step.statement
                if not isinstance(statement, cst.With):
                    continue
                for item in statement.items:
                    opened = unwrap_await(item.item)
                    if (
                        isinstance(opened, cst.Call)
                        and isinstance(opened.func, cst.Attribute)
                        and opened.func.attr.value == "connect"
                        and item.asname
                        and isinstance(item.asname.name, cst.Name)
                    ):
                        self._check_block(statement, item.asname.name.value, functions, configurers)

    def _check_block(
        self, block: cst.With, name: str, functions: dict[str, cst.FunctionDef], configurers: dict[str, str]
    ) -> None:
        body = statements(block.body)
        early: list[_Early] = []
        for statement in body:
            target = _configure_point(statement, name, configurers)
            if target is not None:
                if target in functions:
                    early += _early_calls(
                        statements(functions[target].body),
                        configurers[target],
                        False,
                        stop_at_configure=True,
                        functions=functions,
                    )
                break
            early += _early_calls(
                [statement], name, block.asynchronous is not None, stop_at_configure=False, functions=functions
            )
        else:
            return
        committed = _commits(statements(block.body), name)
        for function in functions.values():
            param = configurers.get(function.name.value)
            committed |= param is not None and _commits(statements(function.body), param)
        if not early or committed or _autocommit(block) or early[0].call in self.reported:
            return
        self.reported.add(early[0].call)
        first, last = early[0], early[-1]
        if self.options.alembic_env_fix == "autocommit":
            line = _statement(first, f'{first.connection}.execution_options(isolation_level="AUTOCOMMIT")')
            change = Replace(
                first.statement,
                cst.FlattenSentinel(
                    [
                        line.with_changes(leading_lines=leading_lines(first.statement)),
                        with_leading_lines(first.statement, ()),
                    ]
                ),
            )
            fix = FixSpec(
                (change,), Applicability.UNSAFE, 'Set `isolation_level="AUTOCOMMIT"` on the migration connection'
            )
        else:
            line = _statement(last, f"{last.connection}.commit()")
            fix = FixSpec(
                (Replace(last.statement, cst.FlattenSentinel([last.statement, line])),),
                Applicability.SAFE,
                f"Insert `{cst.Module([]).code_for_node(line).strip()}` after the statement",
            )
        method = first.call.func.attr.value if isinstance(first.call.func, cst.Attribute) else "execute"
        self.report(
            first.call,
            f"`{first.connection}.{method}()` before `context.configure()` "
            "opens a transaction Alembic assumes the caller owns: "
            "`alembic upgrade` reports success and exits 0, then closing the connection rolls every migration back",
            fix=fix,
        )


def _statement(early: _Early, code: str) -> cst.SimpleStatementLine:
    line = cst.parse_statement(("await " if early.is_async else "") + code + "\n")
    assert isinstance(line, cst.SimpleStatementLine)
    return line


def _configured_param(function: cst.FunctionDef) -> str | None:
    """The parameter a function passes to `context.configure(connection=...)`, if any."""
    params = {p.name.value for p in function.params.params}
    for call in all_calls(function.body):
        if (dotted(call.func) or "").endswith("context.configure") or dotted(call.func) == "configure":
            arg = call_arg(call, None, "connection")
            if arg is not None and isinstance(arg.value, cst.Name) and arg.value.value in params:
                return arg.value.value
    return None


def _configure_point(statement: cst.BaseStatement, name: str, configurers: dict[str, str]) -> str | None:
    """For the statement where configuration happens: "" for a direct `context.configure(connection=name)`,
    or the name of the function that configures (run through `run_sync` or called)."""
    for call in all_calls(statement):
        func = dotted(call.func) or ""
        if func.endswith("context.configure"):
            arg = call_arg(call, None, "connection")
            if arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == name:
                return ""
        if func == f"{name}.run_sync":
            target = call_arg(call, 0)
            if target is not None and isinstance(target.value, cst.Name) and target.value.value in configurers:
                return target.value.value
        if func in configurers and any(isinstance(a.value, cst.Name) and a.value.value == name for a in call.args):
            return func
    return None


def _commits(body: Sequence[cst.BaseStatement], name: str) -> bool:
    """Whether ``name.commit()`` runs on every path through ``body``: a commit under an `if`, a loop or an
    `except` is on some paths only, and is not a commit."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            if any(_is_commit(c, name) for c in all_calls(statement)):
                return True
        elif isinstance(statement, cst.With):
            if _commits(statements(statement.body), name):
                return True
        elif isinstance(statement, cst.Try):
            bodies = [statement.body, *([statement.finalbody.body] if statement.finalbody else [])]
            if any(_commits(statements(b), name) for b in bodies):
                return True
    return False


def _is_commit(call: cst.Call, name: str) -> bool:
    """`name.commit()`, or `context.get_bind().commit()` (the configured connection)."""
    if method_call(call) == (name, "commit"):
        return True
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "commit"
        and isinstance(func.value, cst.Call)
        and (dotted(func.value.func) or "").endswith("context.get_bind")
    )


def _helper_early(
    call: cst.Call, name: str, functions: dict[str, cst.FunctionDef], seen: frozenset[str]
) -> list[_Early]:
    """Statements a helper the connection is passed to runs on it, unless it commits them on every path."""
    if not (isinstance(call.func, cst.Name) and call.func.value in functions) or call.func.value in seen:
        return []
    helper = functions[call.func.value]
    params = helper.params.params
    for index, arg in enumerate(call.args):
        if arg.keyword is None and isinstance(arg.value, cst.Name) and arg.value.value == name and index < len(params):
            param = params[index].name.value
            body = statements(helper.body)
            if _commits(body, param):
                return []
            return _early_calls(
                body,
                param,
                helper.asynchronous is not None,
                stop_at_configure=True,
                functions=functions,
                seen=seen | {helper.name.value},
            )
    return []


def _early_calls(
    body: Sequence[cst.BaseStatement],
    name: str,
    is_async: bool,
    stop_at_configure: bool,
    functions: dict[str, cst.FunctionDef],
    seen: frozenset[str] = frozenset(),
) -> list[_Early]:
    """Statements on ``name`` in ``body`` (before its `context.configure()` when ``stop_at_configure``), also
    in module functions ``name`` is passed to (`_prepare(connection)`)."""
    found = []
    for statement in body:
        calls = all_calls(statement)
        if stop_at_configure and any((dotted(c.func) or "").endswith("context.configure") for c in calls):
            break
        for call in calls:
            found += _helper_early(call, name, functions, seen)
            target = method_call(call)
            if (
                target is not None
                and target[0] == name
                and target[1] in STATEMENT_METHODS
                and not _is_context_manager(statement, call)
            ):
                found.append(_Early(call, statement, name, is_async))
    return found


def _is_context_manager(statement: cst.BaseStatement, call: cst.Call) -> bool:
    return isinstance(statement, cst.With) and any(unwrap_await(i.item) is call for i in statement.items)


def _autocommit(block: cst.With) -> bool:
    """Whether the connection is switched to AUTOCOMMIT in the block."""
    for call in all_calls(block):
        arg = call_arg(call, None, "isolation_level")
        if arg is not None and (string_value(arg.value) or "").upper() == "AUTOCOMMIT":
            return True
    return False
