"""LDB304 sqlite-transactional-ddl-without-begin."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted
from lintdb.rule import Invalid, LintRule, Valid

RECIPE = """
from sqlalchemy import event


@event.listens_for(connectable, "connect")
def _no_pysqlite_begin(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None


@event.listens_for(connectable, "begin")
def _begin(conn):
    conn.exec_driver_sql("BEGIN")
"""

_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = engine_from_config(config.get_section(config.config_ini_section, {{}}), prefix="sqlalchemy.", poolclass=pool.NullPool)
{recipe}
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def env_example(recipe: str = "") -> str:
    """A sync env.py with `transactional_ddl=True`, with or without the BEGIN recipe."""
    return _ENV.format(recipe=recipe)


class SqliteTransactionalDdlWithoutBegin(LintRule):
    """
    ## What it does
    Checks Alembic env.py files that pass `transactional_ddl=True` to `context.configure()` without
    the pysqlite BEGIN recipe (a `connect` listener that sets `isolation_level = None` and a `begin`
    listener that emits `BEGIN`), unless the project is configured without SQLite
    (`alembic-dialects`). The offline `configure(url=...)` (for `alembic upgrade --sql`) is not
    reported: it writes a script with its own `BEGIN` / `COMMIT` and opens no connection.

    ## Why is this bad?
    pysqlite emits no `BEGIN` before DDL, so on SQLite each `CREATE TABLE` commits at once while the
    rows written after it stay in a transaction. When a migration fails, the rollback takes the rows
    and the `alembic_version` row but leaves the tables: the database is stuck, and every rerun
    fails with `table foo already exists`.

    ## Example
    ```python
    context.configure(connection=connection, transactional_ddl=True)
    ```

    Use instead:
    ```python
    @event.listens_for(connectable, "connect")
    def _no_pysqlite_begin(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None


    @event.listens_for(connectable, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")
    ```

    That is SQLAlchemy's recipe for pysqlite, placed next to the engine env.py builds. With it a failed
    run leaves nothing behind and the rerun succeeds.

    ## Fix safety
    There is no automatic fix: the recipe must be attached to the engine env.py builds, which lintdb
    cannot always find; the message and this page show it.

    ## References
    - [SQLAlchemy: Serializable isolation / Savepoints / Transactional DDL (pysqlite)](https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl)
    - [Alembic: Running "Batch" Migrations for SQLite](https://alembic.sqlalchemy.org/en/latest/batch.html)
    """

    CODE = "LDB304"
    NAME = "sqlite-transactional-ddl-without-begin"
    MESSAGE = (
        "`transactional_ddl=True` on SQLite without the BEGIN recipe: "
        "DDL commits at once, a failed migration leaves tables without their rows or version"
    )

    VALID = (
        Valid(env_example(RECIPE)),
        Valid(env_example().replace(", transactional_ddl=True", "")),
        Valid(env_example(), options={"alembic-dialects": ["postgresql"]}),
        Valid("""
            from alembic import context

            config = context.config


            def run_migrations_offline() -> None:
                context.configure(url=config.get_main_option("sqlalchemy.url"), transactional_ddl=True)
                with context.begin_transaction():
                    context.run_migrations()
            """),
    )
    INVALID = (Invalid(env_example(), positions=[(8, 68)]),)

    def visit_Module(self, node: cst.Module) -> None:
        self.configures: list[cst.Arg] = []
        self.emits_begin = False
        self.disables_pysqlite_begin = False

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted(node.func) or ""
        if name.endswith("context.configure") or name == "configure":
            flag = call_arg(node, None, "transactional_ddl")
            offline = call_arg(node, None, "connection") is None and any(
                call_arg(node, None, key) is not None for key in ("url", "dialect_name")
            )  # `--sql` mode writes a script with its own BEGIN / COMMIT: no pysqlite connection
            if flag is not None and not offline and isinstance(flag.value, cst.Name) and flag.value.value == "True":
                self.configures.append(flag)
        sql = self.model.sql_of_call(node) if name.rsplit(".", 1)[-1] in ("exec_driver_sql", "execute") else None
        if sql is not None and sql.text.strip().upper() == "BEGIN":
            self.emits_begin = True

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "None":
            self.disables_pysqlite_begin |= any(
                isinstance(t.target, cst.Attribute) and t.target.attr.value == "isolation_level" for t in node.targets
            )

    def leave_Module(self, original_node: cst.Module) -> None:
        dialects = self.model.project.dialects  # `alembic-dialects`, else what alembic.ini and env.py say
        if dialects and "sqlite" not in dialects:
            return
        if self.emits_begin and self.disables_pysqlite_begin:
            return
        for flag in self.configures:
            self.report(flag, f"{self.MESSAGE}; add SQLAlchemy's pysqlite recipe (see `lintdb rule {self.CODE}`)")
