"""LDB306 non-transactional-statement-in-migration."""

from __future__ import annotations

import libcst as cst
import pglast
from pglast import enums

from lintdb.alembic_ops import execute_sql, is_op, op_name
from lintdb.cst_helpers import call_arg, leading_lines, string_value
from lintdb.diagnostics import Applicability
from lintdb.flow import Step, calls_in, walk
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import statements

COMMIT = "COMMIT"

_MIGRATION = """
import sqlalchemy as sa
from alembic import op


def upgrade() -> None:
{body}

def downgrade() -> None:
    pass
"""


def migration(body: str) -> str:
    """A migration whose upgrade() is ``body`` (indented by four spaces)."""
    return _MIGRATION.format(body=body)


def _concurrently(stmt: pglast.ast.Node) -> str | None:
    """What PostgreSQL names a statement that cannot run in a transaction block, else None."""
    if isinstance(stmt, pglast.ast.IndexStmt) and stmt.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(stmt, pglast.ast.DropStmt) and stmt.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(stmt, pglast.ast.ReindexStmt) and any(p.defname == "concurrently" for p in stmt.params or ()):
        return "REINDEX CONCURRENTLY"
    if isinstance(stmt, pglast.ast.AlterTableStmt) and any(
        isinstance(c.def_, pglast.ast.PartitionCmd) and c.def_.concurrent for c in stmt.cmds or ()
    ):
        return "ALTER TABLE ... DETACH CONCURRENTLY"
    if isinstance(stmt, pglast.ast.VacuumStmt) and stmt.is_vacuumcmd:
        return "VACUUM"
    if isinstance(stmt, pglast.ast.CreatedbStmt):
        return "CREATE DATABASE"
    if isinstance(stmt, pglast.ast.DropdbStmt):
        return "DROP DATABASE"
    if isinstance(stmt, pglast.ast.TransactionStmt) and stmt.kind == enums.TransactionStmtKind.TRANS_STMT_COMMIT:
        return COMMIT
    return None


def _autocommit(node: cst.With) -> bool:
    """`with <context>.autocommit_block():`."""
    return any(
        isinstance(i.item, cst.Call)
        and isinstance(i.item.func, cst.Attribute)
        and i.item.func.attr.value == "autocommit_block"
        for i in node.items
    )


class NonTransactionalStatementInMigration(LintRule):
    """
    ## What it does
    Checks Alembic migrations for statements PostgreSQL refuses inside a transaction block, run
    outside `with op.get_context().autocommit_block():`: `op.create_index(...)` / `op.drop_index(...)`
    with `postgresql_concurrently=True`, and SQL given to `op.execute` (or `op.get_bind().execute`)
    with `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY`,
    `DETACH PARTITION ... CONCURRENTLY`, `VACUUM`, `CREATE DATABASE` or `DROP DATABASE`; and
    `ALTER TYPE ... ADD VALUE 'v'` followed, in the same function, by SQL that uses `'v'` (another
    `ADD VALUE` naming `'v'`, as its `AFTER` anchor or for a second type, is no use). It also flags the
    `op.execute("COMMIT")` workaround, once: what follows it runs outside a transaction.

    ## Why is this bad?
    Alembic runs migrations inside a transaction, so on PostgreSQL these fail with
    `psycopg2.errors.ActiveSqlTransaction: CREATE INDEX CONCURRENTLY cannot run inside a transaction block`
    (or `VACUUM cannot run inside a transaction block`, and so on). A value added to an enum type cannot
    be used before it is committed:
    `psycopg2.errors.UnsafeNewEnumValueUsage: unsafe use of new value "archived" of enum type ticket_status`.
    `op.execute("COMMIT")` makes these pass by ending Alembic's transaction behind its back: everything
    after it autocommits statement by statement, so a failure later leaves the migration half-applied
    and its rerun fails (`DuplicateColumn`, `DuplicateTable`).

    `REFRESH MATERIALIZED VIEW CONCURRENTLY` and `ANALYZE` are allowed in a transaction and are left
    alone, as is everything inside `autocommit_block()`.

    ## Example
    ```python
    def upgrade():
        op.create_index("ix_ticket_title", "ticket", ["title"], postgresql_concurrently=True)
    ```

    Use instead:
    ```python
    def upgrade():
        with op.get_context().autocommit_block():
            op.create_index("ix_ticket_title", "ticket", ["title"], postgresql_concurrently=True)
    ```

    `autocommit_block()` asserts (`AssertionError` in Alembic's `migration.py`) when env.py already
    holds a transaction that Alembic did not begin: env.py opened with `connectable.begin()`, or a
    statement run before `context.configure()` (LDB301). Fix env.py first.

    ## Fix safety
    The fix wraps the statement in `with op.get_context().autocommit_block():` and is unsafe: Alembic
    commits the migration's work so far when the block starts, so a failure after it no longer rolls
    back what came before. Running such migrations with `transaction_per_migration=True` keeps that to
    one file. `op.execute("COMMIT")` gets no fix: remove it and wrap what needed it.

    ## References
    - [Alembic: `MigrationContext.autocommit_block`](https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block)
    - [PostgreSQL: CREATE INDEX, Building Indexes Concurrently](https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY)
    - [PostgreSQL: ALTER TYPE ... ADD VALUE](https://www.postgresql.org/docs/current/sql-altertype.html)
    """

    CODE = "LDB306"
    NAME = "non-transactional-statement-in-migration"
    MESSAGE = "`ActiveSqlTransaction`: this statement cannot run inside the migration's transaction block"
    FIX_TITLE = "Run it in `with op.get_context().autocommit_block():`"
    FIX_AVAILABILITY = "Sometimes"
    _committed = False  # the function being checked ran `op.execute("COMMIT")` so far

    VALID = (
        Valid(
            migration("""\
    with op.get_context().autocommit_block():
        op.create_index("ix_ticket_title", "ticket", ["title"], postgresql_concurrently=True)""")
        ),
        Valid(migration('    op.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY ticket_counts")')),
        Valid(migration('    op.execute("ANALYZE ticket")')),
        Valid(migration("    op.execute(\"ALTER TYPE ticket_status ADD VALUE 'archived'\")")),
        Valid(
            migration("""\
    context = op.get_context()
    with context.autocommit_block():
        op.execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
    op.execute("UPDATE ticket SET status = 'archived' WHERE id = 1")""")
        ),
        Valid(migration('    op.create_index("ix_ticket_title", "ticket", ["title"], postgresql_concurrently=False)')),
        Valid(
            migration("""\
    op.execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
    op.execute("ALTER TYPE ticket_status ADD VALUE 'reopened' AFTER 'archived'")
    op.execute("CREATE TYPE board_status AS ENUM ('open')")
    op.execute("ALTER TYPE board_status ADD VALUE 'archived'")""")
        ),
        Valid("""
            import sqlite3

            from alembic import op


            def vacuum(path):
                with sqlite3.connect(path) as con:
                    con.execute("VACUUM")
            """),
    )
    INVALID = (
        Invalid(
            migration("""\
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_index(op.f("ix_ticket_title"), "ticket", ["title"], unique=False, postgresql_concurrently=True)
    # ### end Alembic commands ###"""),
            positions=[(7, 5)],
            fixed=migration("""\
    # ### commands auto generated by Alembic - please adjust! ###
    with op.get_context().autocommit_block():
        op.create_index(op.f("ix_ticket_title"), "ticket", ["title"], unique=False, postgresql_concurrently=True)
    # ### end Alembic commands ###"""),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            """
            from alembic import op as migrate
            from sqlalchemy import text


            def upgrade():
                migrate.execute(text("DROP INDEX CONCURRENTLY ix_ticket_status"))
                migrate.get_bind().execute(text("REINDEX INDEX CONCURRENTLY ticket_pkey"))


            def downgrade():
                pass
            """,
            positions=[(6, 5), (7, 5)],
            fixed="""
            from alembic import op as migrate
            from sqlalchemy import text


            def upgrade():
                with migrate.get_context().autocommit_block():
                    migrate.execute(text("DROP INDEX CONCURRENTLY ix_ticket_status"))
                with migrate.get_context().autocommit_block():
                    migrate.get_bind().execute(text("REINDEX INDEX CONCURRENTLY ticket_pkey"))


            def downgrade():
                pass
            """,
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            migration('    op.execute("VACUUM ANALYZE ticket")'),
            positions=[(6, 5)],
            fixed=migration("""\
    with op.get_context().autocommit_block():
        op.execute("VACUUM ANALYZE ticket")"""),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            migration("""\
    op.execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
    op.execute("UPDATE ticket SET status = 'archived' WHERE id = 1")"""),
            positions=[(6, 5)],
            fixed=migration("""\
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
    op.execute("UPDATE ticket SET status = 'archived' WHERE id = 1")"""),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            migration("""\
    op.add_column("ticket", sa.Column("note", sa.Text(), nullable=True))
    # commit what we have: the backfill below takes long
    op.execute("COMMIT")
    op.execute("UPDATE ticket SET note = ''")"""),
            positions=[(8, 5)],
        ),
        Invalid(
            migration("""\
    op.execute("COMMIT")
    op.create_index("ix_ticket_title", "ticket", ["title"], postgresql_concurrently=True)"""),
            positions=[(6, 5)],
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not isinstance(node.body, cst.IndentedBlock):
            return
        new_values: dict[str, tuple[cst.Call, Step]] = {}
        self._committed = False
        for step in walk(node.body.body):
            if isinstance(step.statement, cst.With) and _autocommit(step.statement):
                new_values.clear()  # the block commits what came before
                continue
            inside = any(_autocommit(w) for w in step.withs)
            for call in calls_in(step.statement):
                sql = execute_sql(self, call)
                if sql is not None:
                    for value, (added, added_step) in list(new_values.items()) if not _adds_values(sql) else ():
                        if f"'{value.replace(chr(39), chr(39) * 2)}'" in sql:
                            self._report_new_value(added, added_step, value)
                            del new_values[value]
                    if not inside:
                        self._sql(call, step, sql, new_values)
                elif not inside and (is_op(self, call, "create_index") or is_op(self, call, "drop_index")):
                    concurrently = call_arg(call, None, "postgresql_concurrently")
                    if concurrently and isinstance(concurrently.value, cst.Name) and concurrently.value.value == "True":
                        what = "CREATE INDEX" if is_op(self, call, "create_index") else "DROP INDEX"
                        self._report_transaction_block(call, step, f"{what} CONCURRENTLY")
                elif is_op(self, call, "bulk_insert"):
                    for value, (added, added_step) in list(new_values.items()):
                        if value in _strings(call):
                            self._report_new_value(added, added_step, value)
                            del new_values[value]

    def _sql(self, call: cst.Call, step: Step, sql: str, new_values: dict[str, tuple[cst.Call, Step]]) -> None:
        for raw in statements(sql):
            if raw.stmt is None:
                continue
            what = _concurrently(raw.stmt)
            if what == COMMIT:
                self._committed = True
                self.report(
                    call,
                    '`op.execute("COMMIT")` ends Alembic\'s transaction behind its back: what follows autocommits '
                    "statement by statement, and a failure later leaves the migration half-applied, so its rerun "
                    "fails; remove it and run what needs it in `with op.get_context().autocommit_block():`",
                )
                return
            if what is not None:
                self._report_transaction_block(call, step, what)
                return
            if isinstance(raw.stmt, pglast.ast.AlterEnumStmt) and raw.stmt.newVal and not raw.stmt.oldVal:
                new_values.setdefault(raw.stmt.newVal, (call, step))

    def _report_transaction_block(self, call: cst.Call, step: Step, what: str) -> None:
        if self._committed:  # after `op.execute("COMMIT")` no transaction is open: reported there
            return
        self.report(
            call,
            f"`ActiveSqlTransaction: {what} cannot run inside a transaction block`: Alembic runs the migration "
            "in one; run it in `with op.get_context().autocommit_block():`",
            fix=self._wrap(call, step),
        )

    def _report_new_value(self, call: cst.Call, step: Step, value: str) -> None:
        self.report(
            call,
            f'`UnsafeNewEnumValueUsage: unsafe use of new value "{value}"`: the migration uses the enum value '
            "it adds before it is committed; add it in `with op.get_context().autocommit_block():`",
            fix=self._wrap(call, step),
        )

    def _wrap(self, call: cst.Call, step: Step) -> FixSpec | None:
        statement = step.statement
        name = op_name(self, call)
        if name is None or not isinstance(statement, cst.SimpleStatementLine):
            return None
        block = cst.With(
            items=[cst.WithItem(cst.parse_expression(f"{name}.get_context().autocommit_block()"))],
            body=cst.IndentedBlock(body=[statement.with_changes(leading_lines=())]),
            leading_lines=leading_lines(statement),
        )
        return FixSpec((Replace(statement, block),), Applicability.UNSAFE, self.FIX_TITLE or "")


def _adds_values(sql: str) -> bool:
    """Whether every statement of ``sql`` is `ALTER TYPE ... ADD VALUE` (which names values without using them)."""
    parsed = [raw.stmt for raw in statements(sql)]
    return bool(parsed) and all(
        isinstance(stmt, pglast.ast.AlterEnumStmt) and stmt.newVal and not stmt.oldVal for stmt in parsed
    )


def _strings(call: cst.Call) -> set[str]:
    """The string literals in a call's arguments."""
    found: set[str] = set()

    class _Strings(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            value = string_value(node)
            if value is not None:
                found.add(value)

    call.visit(_Strings())
    return found
