"""LDB303 batch-without-tmp-table-guard."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, python_string, string_value
from lintdb.diagnostics import Applicability
from lintdb.prefilter import HOLE
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import dropped_tables, quote_identifier

_NO_REBUILD = frozenset({"create_index", "drop_index", "f"})  # `f()` names a constraint, it is no operation


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
    characters, and the guard must name the same schema as the batch. Explicit defaults
    (`schema=None`, `recreate="auto"`) count as not given; a table name held by a module constant or by
    the variable of a `for` over a literal tuple is each of its values. A guard is any `DROP TABLE` of
    the temp table before the batch: `op.execute(...)` (also of `sa.text(...)`), a connection's
    `execute(text(...))` or `exec_driver_sql(...)`, `op.drop_table(...)` (after an inspector check),
    names expanded over a loop's literal tuple, or a call of a function of the module that drops.
    `add_column` rebuilds when the column's `server_default` is an expression (`sa.text(...)`,
    `sa.false()`, `sa.literal(0)`, `func.now()`) or a persisted `Computed`; a plain string does not.

    Which dialect a batch runs on is assumed in this order: a branch around it
    (`if bind.dialect.name == "sqlite":` means SQLite, `== "postgresql"` or `!= "sqlite"` means not); a
    PostgreSQL-only statement run unconditionally in the same function (`CREATE EXTENSION`, `DO $$`,
    `pg_catalog`, `LANGUAGE plpgsql`) means the function never runs on SQLite (`postgresql.ENUM` alone
    is not evidence: dual-dialect migrations use it); else the project's dialects
    (`alembic-dialects`, else `alembic.ini`'s URL and env.py's branches and `render_as_batch=True`);
    with none known, SQLite is assumed possible. Projects that only target PostgreSQL say so with
    `alembic-dialects = ["postgresql"]`: there the whole run is one transaction and nothing is left over.

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
    else. For a batch in a loop the guard goes inside the loop, as an f-string over the loop variable;
    no fix is offered when a loop's names would need quoting or truncation.

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
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                conn = op.get_bind()
                for tbl in ("_alembic_tmp_movies", "_alembic_tmp_series"):
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{tbl}"'))
                with op.batch_alter_table("movies", recreate="always") as batch_op:
                    batch_op.drop_column("never_watched")
                with op.batch_alter_table("series", recreate="always") as batch_op:
                    batch_op.drop_column("never_watched")
            """),
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                op.get_bind().exec_driver_sql("DROP TABLE IF EXISTS _alembic_tmp_foo")
                op.execute(sa.text("DROP TABLE IF EXISTS _alembic_tmp_bar"))
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.drop_column("old")
                with op.batch_alter_table("bar", schema=None) as batch_op:
                    batch_op.drop_column("old")
            """),
        Valid("""
            from alembic import op


            def _drop_leftover(table):
                op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")


            def upgrade():
                _drop_leftover("foo")
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.drop_column("old")
            """),
        Valid("""
            from alembic import op


            def upgrade():
                for table in ("foo", "bar"):
                    op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")
                    with op.batch_alter_table(table) as batch_op:
                        batch_op.drop_column("old")
            """),
        Valid("""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.add_column(sa.Column("flag", sa.Boolean(), server_default="0", nullable=False))
            """),
        Valid("""
            from alembic import op


            def upgrade():
                bind = op.get_bind()
                if bind.dialect.name == "postgresql":
                    with op.batch_alter_table("foo", schema=None) as batch_op:
                        batch_op.drop_column("old")
                if bind.dialect.name != "sqlite":
                    with op.batch_alter_table("bar") as batch_op:
                        batch_op.drop_column("old")
                is_sqlite = bind.dialect.name == "sqlite"
                if not is_sqlite:
                    with op.batch_alter_table("baz", schema=None) as batch_op:
                        batch_op.drop_column("old")
            """),
        Valid("""
            from alembic import op


            def upgrade():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.drop_column("old")
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
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """,
            positions=[(6, 10)],
            fixed="""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.alter_column("bar", existing_type=sa.String(20), nullable=True)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op

            TABLES = ("foo", "bar")
            AUDIT = "audit_log"


            def upgrade():
                for table in TABLES:
                    with op.batch_alter_table(table, schema=None) as batch_op:
                        batch_op.drop_column("old")
                with op.batch_alter_table(AUDIT) as batch_op:
                    batch_op.drop_column("old")
            """,
            positions=[(9, 14), (11, 10)],
            fixed="""
            from alembic import op

            TABLES = ("foo", "bar")
            AUDIT = "audit_log"


            def upgrade():
                for table in TABLES:
                    op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")
                    with op.batch_alter_table(table, schema=None) as batch_op:
                        batch_op.drop_column("old")
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_audit_log")
                with op.batch_alter_table(AUDIT) as batch_op:
                    batch_op.drop_column("old")
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.add_column(sa.Column("flag", sa.Boolean(), server_default=sa.false(), nullable=False))
            """,
            positions=[(6, 10)],
            fixed="""
            from alembic import op
            import sqlalchemy as sa


            def upgrade():
                op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                with op.batch_alter_table("foo", schema=None) as batch_op:
                    batch_op.add_column(sa.Column("flag", sa.Boolean(), server_default=sa.false(), nullable=False))
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa
            from sqlalchemy.dialects import postgresql


            def upgrade():
                bind = op.get_bind()
                postgresql.ENUM("a", "b", name="kind").create(bind, checkfirst=True)
                if bind.dialect.name == "sqlite":
                    with op.batch_alter_table("foo") as batch_op:
                        batch_op.add_column(sa.Column("seen", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)")))
            """,
            positions=[(10, 14)],
            fixed="""
            from alembic import op
            import sqlalchemy as sa
            from sqlalchemy.dialects import postgresql


            def upgrade():
                bind = op.get_bind()
                postgresql.ENUM("a", "b", name="kind").create(bind, checkfirst=True)
                if bind.dialect.name == "sqlite":
                    op.execute("DROP TABLE IF EXISTS _alembic_tmp_foo")
                    with op.batch_alter_table("foo") as batch_op:
                        batch_op.add_column(sa.Column("seen", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)")))
            """,
            applicability=Applicability.SAFE,
        ),
        # A helper whose table is a parameter: each call's literal is a table; the guard goes in the helper.
        Invalid(
            """
            from alembic import op


            def _drop_rating(table):
                with op.batch_alter_table(table, schema=None) as batch_op:
                    batch_op.drop_column("rating")


            def upgrade():
                _drop_rating("movies")
                _drop_rating("series")
            """,
            positions=[(5, 10)],
            fixed="""
            from alembic import op


            def _drop_rating(table):
                op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")
                with op.batch_alter_table(table, schema=None) as batch_op:
                    batch_op.drop_column("rating")


            def upgrade():
                _drop_rating("movies")
                _drop_rating("series")
            """,
            applicability=Applicability.SAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.guards: list[list[Guard]] = [[]]
        self.helpers: dict[str, list[Guard]] = {}
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef):
                finder = _GuardCalls(self)
                statement.body.visit(finder)
                self.helpers[statement.name.value] = finder.guards

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.guards.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.guards.pop()

    def _is_op(self, func: cst.BaseExpression, name: str) -> bool:
        return f"alembic.op.{name}" in self.qualified(func)

    def visit_Call(self, node: cst.Call) -> None:
        self.guards[-1].extend(self.guards_of(node))

    def guards_of(self, node: cst.Call) -> list[Guard]:
        """The `_alembic_tmp_` tables a call drops: SQL through `op.execute`, `text()`, a connection's
        `execute` / `exec_driver_sql` (names from literal tuples a loop iterates expanded, an unknown part of
        an `_alembic_tmp_` name matching any text), `op.drop_table`, or a helper of the module that drops."""
        if self._is_op(node.func, "drop_table"):
            table_arg, schema_arg = call_arg(node, 0, "table_name"), call_arg(node, None, "schema")
            schema = string_value(schema_arg.value) if schema_arg else None
            names = self.model.texts_of(table_arg.value) if table_arg else []
            return [(schema, re.compile(re.escape(n.lower()))) for n in names]
        if isinstance(node.func, cst.Name) and node.func.value in self.helpers:
            return self.helpers[node.func.value]
        site = self.model.sql_site(node)
        if site is None:
            return []
        argument = site.argument
        if isinstance(argument, cst.Call) and self.model.is_text(argument):
            inner = call_arg(argument, 0, "text")
            argument = inner.value if inner is not None else argument
        texts = self.model.texts_of(argument)
        if texts:
            return [(s, re.compile(re.escape(t.lower()))) for text in texts for s, t in dropped_tables(text)]
        found = []
        for schema, table in dropped_tables(site.sql.text):
            if HOLE in table and "_alembic_tmp_" in table.lower():
                pattern = ".*".join(re.escape(p) for p in table.lower().split(HOLE))
                found.append((schema, re.compile(pattern)))
            elif HOLE not in table:
                found.append((schema, re.compile(re.escape(table.lower()))))
        return found

    def visit_With(self, node: cst.With) -> None:
        item = node.items[0]
        call = item.item
        if not (isinstance(call, cst.Call) and self._is_op(call.func, "batch_alter_table")):
            return
        if not self._on_sqlite(node):
            return
        table_arg, schema_arg, recreate_arg = (
            call_arg(call, 0, "table_name"),
            call_arg(call, None, "schema"),
            call_arg(call, None, "recreate"),
        )
        tables = self.model.texts_of(table_arg.value) if table_arg else []
        schema = None if schema_arg is None or _is_none(schema_arg.value) else string_value(schema_arg.value)
        recreate = "auto" if recreate_arg is None or _is_none(recreate_arg.value) else string_value(recreate_arg.value)
        if (
            not tables
            or recreate in (None, "never")
            or (schema_arg is not None and schema is None and not _is_none(schema_arg.value))
        ):
            return
        if recreate != "always" and not self._rebuilds(node, item.asname):
            return
        unguarded = [t for t in tables if not self._guarded(schema, tmp_table_name(t))]
        if not unguarded:
            return
        tmp = tmp_table_name(unguarded[0])
        assert table_arg is not None
        shown = unguarded[0] if len(tables) == 1 else "<table>"
        fix = self._fix(node, call, table_arg.value, tables, schema)
        self.report(
            call,
            f'`batch_alter_table("{shown}")` rebuilds the table through `{tmp_table_name(shown)}`, '
            "and a failed run on SQLite leaves it behind: "
            f"every rerun fails with `table {tmp} already exists`; drop it before the batch",
            fix=fix,
        )

    def _guarded(self, schema: str | None, tmp: str) -> bool:
        return any(s in (None, schema) and pattern.fullmatch(tmp.lower()) for s, pattern in self.guards[-1])

    def _fix(
        self, node: cst.With, call: cst.Call, table: cst.BaseExpression, tables: list[str], schema: str | None
    ) -> FixSpec | None:
        """The guard before the batch: a literal name, or for a loop variable over plain lower-case names
        an f-string over it (inside the loop, as the batch is)."""
        op_name = cst.Module([]).code_for_node(call.func.value) if isinstance(call.func, cst.Attribute) else "op"
        if len(tables) == 1 and not (isinstance(table, cst.Name) and self.model.value_of(table) is None):
            qualified = quote_identifier(schema, tmp_table_name(tables[0]))
            argument = python_string("DROP TABLE IF EXISTS " + qualified)
        elif isinstance(table, cst.Name) and all(
            _PLAIN.match(t) and tmp_table_name(t) == "_alembic_tmp_" + t for t in tables
        ):
            prefix = f"{schema}." if schema and _PLAIN.match(schema) else ""
            if schema and not prefix:
                return None
            qualified = f"{prefix}_alembic_tmp_{{{table.value}}}"
            argument = f'f"DROP TABLE IF EXISTS {qualified}"'
        else:
            return None
        guard = cst.parse_statement(f"{op_name}.execute({argument})\n")
        assert isinstance(guard, cst.SimpleStatementLine)
        guard = guard.with_changes(leading_lines=node.leading_lines)
        return FixSpec(
            (Replace(node, cst.FlattenSentinel([guard, node.with_changes(leading_lines=())])),),
            Applicability.SAFE,
            f"Drop `{qualified}` before the batch",
        )

    def _on_sqlite(self, node: cst.With) -> bool:
        """Whether the batch may run on SQLite: a dialect branch around it decides; else a PostgreSQL-only
        statement run unconditionally in the same function says it never does; else the project's dialects
        (`alembic-dialects`, alembic.ini, env.py); with none known it may."""
        branch = self.model.dialect_branch(node)
        if branch is not None:
            dialect, only = branch
            return dialect == "sqlite" if only else dialect != "sqlite"
        function = self.model.enclosing_function(node)
        if function is not None and self._postgresql_only(function):
            return False
        dialects = self.model.project.dialects
        return not dialects or "sqlite" in dialects

    def _postgresql_only(self, function: cst.FunctionDef) -> bool:
        finder = _UnconditionalCalls()
        function.body.visit(finder)
        for call in finder.calls:
            sql = self.model.sql_of_call(call)
            if sql is not None and _POSTGRESQL_ONLY.search(sql.text):
                return True
        return False

    def _rebuilds(self, node: cst.With, asname: cst.AsName | None) -> bool:
        if asname is None or not isinstance(asname.name, cst.Name):
            return False
        batch = asname.name.value
        finder = _BatchCalls(batch)
        node.body.visit(finder)
        return any(
            name not in _NO_REBUILD and not (name == "add_column" and not self._expression_default(call))
            for name, call in finder.calls
        )

    def _expression_default(self, call: cst.Call) -> bool:
        """An `add_column` whose column has a SQL-expression server default (`sa.text(...)`, `sa.false()`,
        `sa.literal(0)`, `func.now()`: anything but a plain string) or a persisted Computed: Alembic's
        SQLite `requires_recreate_in_batch` rebuilds for those."""
        finder = _ExpressionDefault(self)
        call.visit(finder)
        return finder.found


Guard = tuple[str | None, re.Pattern[str]]
_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
_POSTGRESQL_ONLY = re.compile(r"\bCREATE\s+EXTENSION\b|\bDO\s+\$|\bpg_catalog\b|\bLANGUAGE\s+plpgsql\b", re.IGNORECASE)


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


class _UnconditionalCalls(cst.CSTVisitor):
    """Calls of a function body outside any `if` and nested function."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def visit_If(self, node: cst.If) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


class _GuardCalls(cst.CSTVisitor):
    """The guards a helper function's calls make."""

    def __init__(self, rule: BatchWithoutTmpTableGuard) -> None:
        super().__init__()
        self.rule = rule
        self.guards: list[Guard] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.guards.extend(self.rule.guards_of(node))


class _ExpressionDefault(cst.CSTVisitor):
    def __init__(self, rule: BatchWithoutTmpTableGuard) -> None:
        super().__init__()
        self.rule = rule
        self.found = False

    def visit_Arg(self, node: cst.Arg) -> None:
        keyword = node.keyword.value if node.keyword else None
        value = node.value
        if keyword == "server_default":
            if isinstance(value, (cst.Name, cst.Attribute)) and not _is_none(value):
                value = self.rule.model.value_of(value) or value
            if isinstance(value, cst.Call):
                clause = (dotted(value.func) or "").split(".")[-1] == "DefaultClause"
                argument = call_arg(value, 0, "arg")
                self.found |= not (clause and argument is not None and string_value(argument.value) is not None)
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
