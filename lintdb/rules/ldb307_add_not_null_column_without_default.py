"""LDB307 add-not-null-column-without-default."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.alembic_ops import COLUMN, batch_method, batch_table, is_op, name_text, resolved
from lintdb.cst_helpers import call_arg, string_value
from lintdb.flow import calls_in, walk
from lintdb.rule import Invalid, LintRule, Valid

# Column arguments that make the database fill the new column itself.
GENERATED = frozenset(
    f"sqlalchemy.{where}{name}" for where in ("", "schema.", "sql.schema.") for name in ("Identity", "Computed")
)

_MIGRATION = """
from alembic import op
import sqlalchemy as sa


def upgrade() -> None:
{body}

def downgrade() -> None:
    op.drop_column("account", "email")
"""


def migration(body: str) -> str:
    """A migration of table `account` whose upgrade() is ``body`` (indented by four spaces)."""
    return _MIGRATION.format(body=body)


class AddNotNullColumnWithoutDefault(LintRule):
    """
    ## What it does
    Checks Alembic migrations for `op.add_column(...)` and `batch_op.add_column(...)` of a column with
    `nullable=False` and no `server_default=` (and no `Identity()` or `Computed()`), on a table the same
    function did not create.

    ## Why is this bad?
    The database fills a new column of the existing rows with its default, and without a server
    default that is NULL. On PostgreSQL the migration fails on any table with rows:
    `psycopg2.errors.NotNullViolation: column "email" of relation "account" contains null values`;
    SQLite refuses it even on an empty table:
    `sqlite3.OperationalError: Cannot add a NOT NULL column with default value NULL`. This is what
    autogenerate writes for a new non-nullable model attribute, and it passes on an empty development
    database. A Python-side `default=` does not help: SQLAlchemy only applies it to its own INSERTs.

    ## Example
    ```python
    def upgrade():
        op.add_column("account", sa.Column("email", sa.String(255), nullable=False))
    ```

    Use instead:
    ```python
    def upgrade():
        op.add_column("account", sa.Column("email", sa.String(255), nullable=False, server_default=""))
    ```

    or add the column nullable, fill it, then make it NOT NULL:
    ```python
    def upgrade():
        op.add_column("account", sa.Column("email", sa.String(255), nullable=True))
        op.execute("UPDATE account SET email = name || '@example.com'")
        op.alter_column("account", "email", nullable=False)
    ```

    ## Fix safety
    There is no fix: the right default, or the right backfill, is the author's call.

    ## References
    - [Alembic: `add_column`](https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.add_column)
    - [PostgreSQL: ALTER TABLE ... ADD COLUMN](https://www.postgresql.org/docs/current/sql-altertable.html)
    - [SQLite: ALTER TABLE ADD COLUMN restrictions](https://www.sqlite.org/lang_altertable.html#altertabaddcol)
    """

    CODE = "LDB307"
    NAME = "add-not-null-column-without-default"
    MESSAGE = "`NotNullViolation`: a NOT NULL column without a server default cannot be added to a table with rows"
    GATE = ("add_column",)
    TRIGGER = re.compile(r"add_column")
    REQUIRES = (re.compile(r"(?m)^\s*(?:from|import)\s+alembic\b"), re.compile(r"nullable\s*=\s*False"))

    VALID = (
        Valid(
            migration(
                '    op.add_column("account", sa.Column("email", sa.String(255), nullable=False, server_default=""))'
            )
        ),
        Valid(
            migration("""\
    op.add_column("account", sa.Column("email", sa.String(255), nullable=True))
    op.execute("UPDATE account SET email = name || '@example.com'")
    op.alter_column("account", "email", nullable=False)""")
        ),
        Valid(
            migration("""\
    op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("audit", sa.Column("actor", sa.String(50), nullable=False))""")
        ),
        Valid(migration('    op.add_column("account", sa.Column("seq", sa.Integer, sa.Identity(), nullable=False))')),
        Valid(
            migration('    op.add_column("account", sa.Column("ref", sa.Integer, primary_key=True, nullable=False))')
        ),
        Valid(
            migration("""\
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(255), server_default="", nullable=False))""")
        ),
        Valid("""
            import sqlalchemy as sa


            class Recorder:
                def add_column(self, table, column):
                    return (table, column)


            op = Recorder()
            op.add_column("account", sa.Column("email", sa.String(255), nullable=False))
            """),
    )
    INVALID = (
        Invalid(
            """
            \"\"\"add account.email

            Revision ID: 0002
            Revises: 0001
            \"\"\"
            from alembic import op
            import sqlalchemy as sa


            def upgrade() -> None:
                # ### commands auto generated by Alembic - please adjust! ###
                op.add_column('account', sa.Column('email', sa.String(length=255), nullable=False))
                # ### end Alembic commands ###


            def downgrade() -> None:
                # ### commands auto generated by Alembic - please adjust! ###
                op.drop_column('account', 'email')
                # ### end Alembic commands ###
            """,
            positions=[(12, 5)],
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa


            def upgrade() -> None:
                with op.batch_alter_table('account', schema=None) as batch_op:
                    batch_op.add_column(sa.Column('email', sa.String(length=255), nullable=False))


            def downgrade() -> None:
                with op.batch_alter_table('account', schema=None) as batch_op:
                    batch_op.drop_column('email')
            """,
            positions=[(7, 9)],
            options={"alembic-dialects": ["postgresql"]},  # on SQLite the batches are LDB303's too
        ),
        Invalid(
            """
            from alembic import op as migration
            from sqlalchemy import Column, String

            TABLE = "account"


            def upgrade():
                email = Column("email", String(255), nullable=False, default="nobody@example.com")
                migration.add_column(TABLE, email)
                migration.create_table("audit", Column("actor", String(50)))


            def downgrade():
                migration.drop_table("audit")
                migration.drop_column(TABLE, "email")
            """,
            positions=[(9, 5)],
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        created: set[str] = set()
        batches: dict[str, str] = {}
        found: list[tuple[cst.Call, str, cst.BaseExpression]] = []
        for step in walk(node.body.body if isinstance(node.body, cst.IndentedBlock) else ()):
            batch = batch_table(self, step.statement) if isinstance(step.statement, cst.With) else None
            if batch is not None:
                batches[batch[0]] = batch[1]
            for call in calls_in(step.statement):
                if is_op(self, call, "create_table"):
                    table_arg = call_arg(call, 0, "table_name")
                    if table_arg is not None:
                        created.add(name_text(self, table_arg.value))
                elif is_op(self, call, "add_column"):
                    table_arg, column_arg = call_arg(call, 0, "table_name"), call_arg(call, 1, "column")
                    if table_arg is not None and column_arg is not None:
                        found.append((call, name_text(self, table_arg.value), column_arg.value))
                elif (table := batch_method(call, batches, "add_column")) is not None:
                    column_arg = call_arg(call, 0, "column")
                    if column_arg is not None:
                        found.append((call, table, column_arg.value))
        for call, table, column_expr in found:
            column = self._column_name(column_expr)
            if table not in created and column is not None:
                self.report(
                    call,
                    f'`NotNullViolation: column "{column}" of relation "{table}" contains null values`: '
                    "a NOT NULL column without a server default fails on any table with rows "
                    "(SQLite: `Cannot add a NOT NULL column with default value NULL`); give it a `server_default=`, "
                    "or add it nullable, backfill it, then `alter_column(..., nullable=False)`",
                )

    def _column_name(self, expr: cst.BaseExpression) -> str | None:
        """The name of a NOT NULL column the database cannot fill, else None."""
        column = resolved(self, expr)
        if not (isinstance(column, cst.Call) and self.qualified(column.func) & COLUMN):
            return None
        nullable, server_default = call_arg(column, None, "nullable"), call_arg(column, None, "server_default")
        if nullable is None or not (isinstance(nullable.value, cst.Name) and nullable.value.value == "False"):
            return None
        if server_default is not None and not (
            isinstance(server_default.value, cst.Name) and server_default.value.value == "None"
        ):
            return None
        if any(a.star == "**" for a in column.args) or call_arg(column, None, "primary_key") is not None:
            return None  # options lintdb cannot see, or a key column (an Integer key becomes SERIAL)
        if any(isinstance(a.value, cst.Call) and self.qualified(a.value.func) & GENERATED for a in column.args):
            return None
        name_arg = call_arg(column, 0, "name")
        name = string_value(name_arg.value) if name_arg else None
        return name if name is not None else "?"
