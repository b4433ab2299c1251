"""LDB303 batch-without-tmp-table-guard."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, python_string, string_value
from lintdb.diagnostics import Applicability
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import dropped_tables, quote_identifier

_NO_REBUILD = frozenset({"create_index", "drop_index"})


def tmp_table_name(table: str) -> str:
    """Alembic's batch temp table name, truncated to 50 characters as `_calc_temp_name` does."""
    return f"_alembic_tmp_{table}"[:50]


class BatchWithoutTmpTableGuard(LintRule):
    """
    ## What it does
    Checks for `op.batch_alter_table(...)` blocks in Alembic migrations that rebuild the table (any
    operation other than adding a plain column or an index) with no earlier
    `DROP TABLE IF EXISTS _alembic_tmp_<table>` in the same function.

    ## Why is this bad?
    On SQLite a batch rebuild creates `_alembic_tmp_<table>`, copies the rows, drops the old table and
    renames the new one. pysqlite issues no `BEGIN` before DDL, so the `CREATE TABLE` commits at once;
    when the migration then fails (bad data, a later operation, a crash), the rollback undoes the
    copy but not the create. The leftover table makes every rerun fail with
    `sqlite3.OperationalError: table _alembic_tmp_<table> already exists` until someone drops it by hand.

    Each function (`upgrade`, `downgrade`) is judged on its own. Alembic truncates the temp name to 50
    characters, and the guard must name the same schema as the batch. Projects that only target
    PostgreSQL can set `alembic-dialects = ["postgresql"]`: there the whole run is one transaction and
    nothing is left over.

    ## Example
    ```python
    def upgrade():
        with op.batch_alter_table("foo") as batch_op:
            batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
    ```

    Use instead:
    ```python
    def upgrade():
        op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
        with op.batch_alter_table("foo") as batch_op:
            batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
    ```

    A repository-wide alternative is the pysqlite `BEGIN` event recipe in `env.py`, which makes SQLite
    migrations atomic (see LDB304).

    ## Fix safety
    The fix is safe: dropping a table that only a failed batch can have left behind changes nothing
    else.

    ## Options
    - `alembic-dialects`

    ## References
    - [Alembic: Running "Batch" Migrations for SQLite and Other Databases](https://alembic.sqlalchemy.org/en/latest/batch.html)
    - [Python sqlite3: transaction control](https://docs.python.org/3/library/sqlite3.html#sqlite3-controlling-transactions)
    """

    CODE = "LDB303"
    NAME = "batch-without-tmp-table-guard"
    MESSAGE = "`batch_alter_table` can leave `_alembic_tmp_<table>` behind"
    FIX_TITLE = "Drop `_alembic_tmp_<table>` before the batch"
    FIX_AVAILABILITY = "Always"
    GATE = ("batch_alter_table",)
    TRIGGER = re.compile(r"batch_alter_table")
    REQUIRES = (re.compile(r"(?m)^\s*(?:from|import)\s+alembic\b"),)

    VALID = (
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """),
        Valid("""
            from alembic import op


            def upgrade():
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.create_index("ix_foo_bar", ["bar"])
                    batch_op.drop_index("ix_foo_old")
            """),
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.add_column(sa.Column("note", sa.String(20), nullable=True))
            """),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """,
            options={"alembic-dialects": ["postgresql"]},
        ),
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                bind = op.get_bind()
                if "_alembic_tmp_foo" in sa.inspect(bind).get_table_names():
                    op.drop_table("_alembic_tmp_foo")
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.drop_column("bar")
            """),
        Valid("""
            from alembic import op


            def upgrade():
                op.execute("DROP TABLE IF EXISTS aux._alembic_tmp_foo")
                with op.batch_alter_table("foo", schema="aux") as batch_op:
                    batch_op.drop_column("bar")
            """),
        Valid("""
            class Table:
                def batch_alter_table(self, name):
                    return self


            def upgrade(op: Table):
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.drop_column("bar")
            """),
    )
    INVALID = (
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                # make bar optional
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """,
            positions=[(7, 10)],
            fixed="""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                # make bar optional
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with op.batch_alter_table("foo") as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op as alembic_op


            def upgrade():
                alembic_op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with alembic_op.batch_alter_table("foo") as batch_op:
                    batch_op.drop_column("old")


            def downgrade():
                with alembic_op.batch_alter_table("foo", schema="main") as batch_op:
                    batch_op.drop_column("new")
            """,
            positions=[(11, 10)],
            fixed="""
            from alembic import op as alembic_op


            def upgrade():
                alembic_op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with alembic_op.batch_alter_table("foo") as batch_op:
                    batch_op.drop_column("old")


            def downgrade():
                alembic_op.execute("DROP TABLE IF EXISTS main._alembic_tmp_foo")
                with alembic_op.batch_alter_table("foo", schema="main") as batch_op:
                    batch_op.drop_column("new")
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op


            def upgrade():
                with op.batch_alter_table("a_table_with_a_really_long_name_for_truncation") as batch_op:
                    batch_op.create_foreign_key("fk_owner", "owner", ["owner_id"], ["id"])
            """,
            positions=[(5, 10)],
            fixed="""
            from alembic import op


            def upgrade():
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_a_table_with_a_really_long_name_for_t")
                with op.batch_alter_table("a_table_with_a_really_long_name_for_truncation") as batch_op:
                    batch_op.create_foreign_key("fk_owner", "owner", ["owner_id"], ["id"])
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op


            def upgrade():
                with op.batch_alter_table("foo", recreate="always") as batch_op:
                    batch_op.create_index("ix_foo_bar", ["bar"])
            """,
            positions=[(5, 10)],
            fixed="""
            from alembic import op


            def upgrade():
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with op.batch_alter_table("foo", recreate="always") as batch_op:
                    batch_op.create_index("ix_foo_bar", ["bar"])
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op


            def upgrade():
                with op.batch_alter_table("UserAccount") as batch_op:
                    batch_op.drop_column("flag")
            """,
            positions=[(5, 10)],
            fixed="""
            from alembic import op


            def upgrade():
                op.execute("DROP TABLE IF EXISTS \\"_alembic_tmp_UserAccount\\"")
                with op.batch_alter_table("UserAccount") as batch_op:
                    batch_op.drop_column("flag")
            """,
            applicability=Applicability.SAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.guards: list[set[tuple[str | None, str]]] = [set()]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.guards.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.guards.pop()

    def _is_op(self, func: cst.BaseExpression, name: str) -> bool:
        return f"alembic.op.{name}" in self.qualified(func)

    def visit_Call(self, node: cst.Call) -> None:
        if self._is_op(node.func, "execute"):
            sql = self.model.sql_of_call(node)
            for schema, table in dropped_tables(sql.text if sql is not None else ""):
                self.guards[-1].add((schema, table.lower()))
        elif self._is_op(node.func, "drop_table"):
            table_arg = call_arg(node, 0, "table_name")
            dropped = string_value(table_arg.value) if table_arg else None
            schema_arg = call_arg(node, None, "schema")
            if dropped:
                self.guards[-1].add((string_value(schema_arg.value) if schema_arg else None, dropped.lower()))

    def visit_With(self, node: cst.With) -> None:
        dialects = self.model.project.dialects  # `alembic-dialects`, else what alembic.ini and env.py say
        if dialects and "sqlite" not in dialects:
            return
        item = node.items[0]
        call = item.item
        if not (isinstance(call, cst.Call) and self._is_op(call.func, "batch_alter_table")):
            return
        table_arg, schema_arg, recreate_arg = (
            call_arg(call, 0, "table_name"),
            call_arg(call, None, "schema"),
            call_arg(call, None, "recreate"),
        )
        table = string_value(table_arg.value) if table_arg else None
        schema = string_value(schema_arg.value) if schema_arg else None
        recreate = (string_value(recreate_arg.value) if recreate_arg else None) or "auto"
        if table is None or recreate == "never" or (schema_arg is not None and schema is None):
            return
        if recreate != "always" and not self._rebuilds(node, item.asname):
            return
        tmp = tmp_table_name(table)
        if any(t == tmp.lower() and s in (None, schema) for s, t in self.guards[-1]):
            return
        qualified = quote_identifier(schema, tmp)
        op_name = cst.Module([]).code_for_node(call.func.value) if isinstance(call.func, cst.Attribute) else "op"
        guard = cst.parse_statement(f"{op_name}.execute({python_string('DROP TABLE IF EXISTS ' + qualified)})\n")
        assert isinstance(guard, cst.SimpleStatementLine)
        guard = guard.with_changes(leading_lines=node.leading_lines)
        fix = FixSpec(
            (Replace(node, cst.FlattenSentinel([guard, node.with_changes(leading_lines=())])),),
            Applicability.SAFE,
            f"Drop `{qualified}` before the batch",
        )
        self.report(
            call,
            f'`batch_alter_table("{table}")` rebuilds the table through `{tmp}`, '
            "and a failed run on SQLite leaves it behind: "
            f"every rerun fails with `table {tmp} already exists`; drop it before the batch",
            fix=fix,
        )

    def _rebuilds(self, node: cst.With, asname: cst.AsName | None) -> bool:
        if asname is None or not isinstance(asname.name, cst.Name):
            return False
        batch = asname.name.value
        finder = _BatchCalls(batch)
        node.body.visit(finder)
        return any(
            name not in _NO_REBUILD and not (name == "add_column" and not _expression_default(call))
            for name, call in finder.calls
        )


def _expression_default(call: cst.Call) -> bool:
    """An `add_column` whose column has a SQL-expression server default or a persisted Computed
    (Alembic's SQLite `requires_recreate_in_batch` rebuilds for those)."""
    finder = _ExpressionDefault()
    call.visit(finder)
    return finder.found


class _ExpressionDefault(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Arg(self, node: cst.Arg) -> None:
        keyword = node.keyword.value if node.keyword else None
        value = node.value
        if keyword == "server_default" and isinstance(value, cst.Call):
            name = dotted(value.func) or ""
            self.found |= name.split(".")[-1] == "text" or "func" in name.split(".")
        elif keyword == "persisted" and isinstance(value, cst.Name) and value.value == "True":
            self.found = True


class _BatchCalls(cst.CSTVisitor):
    """Method calls on the batch operations object."""

    def __init__(self, batch: str) -> None:
        super().__init__()
        self.batch = batch
        self.calls: list[tuple[str, cst.Call]] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.batch:
            self.calls.append((func.attr.value, node))
