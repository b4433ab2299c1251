"""LDB305 enum-type-not-dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import pglast
from pglast import enums

from lintdb.alembic_ops import (
    COLUMN,
    batch_method,
    batch_table,
    execute_sql,
    is_execute,
    is_op,
    name_text,
    resolved,
)
from lintdb.cst_helpers import call_arg, string_value
from lintdb.diagnostics import Applicability
from lintdb.flow import all_calls
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.sqltext import statements

SA_ENUM = frozenset({"sqlalchemy.Enum", "sqlalchemy.types.Enum", "sqlalchemy.sql.sqltypes.Enum"})
PG_ENUM = frozenset(
    {
        "sqlalchemy.dialects.postgresql.ENUM",
        "sqlalchemy.dialects.postgresql.named_types.ENUM",
        "sqlalchemy.dialects.postgresql.base.ENUM",
    }
)

_MIGRATION = """
from alembic import op
import sqlalchemy as sa


def upgrade() -> None:
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", {status}, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ticket")
{after_drop}"""


def ticket_migration(status: str = 'sa.Enum("open", "closed", name="ticket_status")', after_drop: str = "") -> str:
    """What autogenerate writes for a model `Ticket` with an enum column: the column type and lines
    after `drop_table` given."""
    return _MIGRATION.format(status=status, after_drop=after_drop)


_PRIORITY = """
import enum

from alembic import op as migrate
from sqlalchemy import Column, Enum, Integer


class Priority(enum.Enum):
    low = 1
    high = 2


def upgrade():
    migrate.create_table("ticket", Column("id", Integer, primary_key=True), Column("priority", Enum(Priority)))


def downgrade():
    migrate.drop_table("ticket")
{after_drop}"""


def priority_migration(after_drop: str = "") -> str:
    """An enum type named after a Python `enum.Enum` class, `op` imported under another name."""
    return _PRIORITY.format(after_drop=after_drop)


_SEVERITY = """
import sqlalchemy as sa
from alembic import op

severity = sa.Enum("minor", "major", name="severity")


def upgrade():
    severity.create(op.get_bind())
    op.add_column("ticket", sa.Column("severity", severity, nullable=True))


def downgrade():
    op.drop_column("ticket", "severity")
{after_drop}"""


def severity_migration(after_drop: str = "") -> str:
    """A module-level enum created explicitly and used by an added column."""
    return _SEVERITY.format(after_drop=after_drop)


def dropped_types(sql: str) -> set[str]:
    """The type names `DROP TYPE` statements drop (unqualified)."""
    found = set()
    for raw in statements(sql):
        stmt = raw.stmt
        if isinstance(stmt, pglast.ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TYPE:
            for type_name in stmt.objects or ():
                found.add(type_name.names[-1].sval)
    return found


@dataclass
class _Enum:
    """An enum type the upgrade creates: where, how to name its class, and what holds it."""

    node: cst.CSTNode
    factory: str
    variable: str | None
    schema: str | None
    holders: list[tuple[str, str | None]] = field(default_factory=list)
    explicit: bool = False


class EnumTypeNotDropped(LintRule):
    """
    ## What it does
    Checks Alembic migrations whose `upgrade()` creates a PostgreSQL enum type (a `sa.Enum(...,
    name="x")` or `postgresql.ENUM(...)` column in `op.create_table`, or `ENUM(...).create(bind)`)
    and whose `downgrade()` drops the table or column but never the type.

    ## Why is this bad?
    `create_table` creates the enum type along with the table, but `drop_table` drops only the
    table. After a downgrade the type is still there, and the next `alembic upgrade` fails with
    `psycopg2.errors.DuplicateObject: type "x" already exists`. Autogenerate writes exactly this
    migration. Each downgrade/upgrade round trip (tests, CI, a rollback) hits it.

    `op.add_column` does not create the type (it must exist, or be created with `.create()`), so a
    column added with an enum type is judged by that `.create()`.

    Enums with `native_enum=False` (a VARCHAR), with `create_type=False` (created elsewhere), created
    with `checkfirst=True` (the default of `postgresql.ENUM.create`, not of `sa.Enum.create`), and
    projects with `alembic-dialects` that exclude `postgresql` are left alone. `sa.Enum(...,
    create_type=False)` counts as not created: SQLAlchemy 2.1 honours it like `postgresql.ENUM` does
    (2.0 ignores it on `sa.Enum`; write `postgresql.ENUM(..., create_type=False)` for both).

    ## Example
    ```python
    def upgrade():
        op.create_table("ticket", sa.Column("status", sa.Enum("open", "closed", name="ticket_status")))


    def downgrade():
        op.drop_table("ticket")
    ```

    Use instead:
    ```python
    def downgrade():
        op.drop_table("ticket")
        sa.Enum(name="ticket_status").drop(op.get_bind(), checkfirst=True)
    ```

    ## Fix safety
    The fix is safe: it drops the type right after the last table or column that used it, and
    `checkfirst=True` makes it a no-op where the type does not exist (SQLite, or a type already gone).

    ## Options
    - `alembic-dialects`

    ## References
    - [alembic#886: Migration downgrade doesn't drop type created by Enum](https://github.com/sqlalchemy/alembic/issues/886)
    - [alembic#1347](https://github.com/sqlalchemy/alembic/issues/1347)
    - [alembic#1612: Generated down migration does not properly drop `ENUM` types](https://github.com/sqlalchemy/alembic/issues/1612)
    - [SQLAlchemy: PostgreSQL ENUM types](https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#enum-types)
    """

    CODE = "LDB305"
    NAME = "enum-type-not-dropped"
    MESSAGE = "`DuplicateObject`: the downgrade keeps the enum type, so the next upgrade cannot create it"
    FIX_TITLE = "Drop the enum type in `downgrade()`"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid(ticket_migration(after_drop='    sa.Enum(name="ticket_status").drop(op.get_bind(), checkfirst=True)\n')),
        Valid(ticket_migration(after_drop='    op.execute("DROP TYPE ticket_status")\n')),
        Valid(ticket_migration(status='sa.Enum("open", "closed", name="ticket_status", native_enum=False)')),
        Valid(
            ticket_migration(
                status='postgresql.ENUM("open", "closed", name="ticket_status", create_type=False)'
            ).replace(
                "import sqlalchemy as sa\n",
                "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n",
            )
        ),
        Valid(ticket_migration(), options={"alembic-dialects": ["sqlite"]}),
        Valid("""
            import enum

            import sqlalchemy as sa
            from alembic import op
            from sqlalchemy.dialects.postgresql import ENUM


            class Priority(enum.Enum):
                low = 1
                high = 2


            priority = ENUM(Priority, name="priority")


            def upgrade():
                priority.create(op.get_bind())
                op.add_column("ticket", sa.Column("priority", priority, nullable=True))


            def downgrade():
                op.drop_column("ticket", "priority")
                priority.drop(op.get_bind())
            """),
        Valid("""
            import sqlalchemy as sa
            from alembic import op
            from sqlalchemy.dialects import postgresql


            def upgrade():
                severity = postgresql.ENUM("minor", "major", name="severity")
                severity.create(op.get_bind())
                op.add_column("ticket", sa.Column("severity", severity, nullable=True))


            def downgrade():
                op.drop_column("ticket", "severity")
            """),
    )
    INVALID = (
        Invalid(
            ticket_migration(),
            positions=[(9, 29)],
            fixed=ticket_migration(
                after_drop='    sa.Enum(name="ticket_status").drop(op.get_bind(), checkfirst=True)\n'
            ),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            priority_migration(),
            positions=[(13, 96)],
            fixed=priority_migration('    Enum(name="priority").drop(migrate.get_bind(), checkfirst=True)\n'),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            severity_migration(),
            positions=[(8, 5)],
            fixed=severity_migration("    severity.drop(op.get_bind(), checkfirst=True)\n"),
            applicability=Applicability.SAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        dialects = self.model.project.dialects
        if dialects and "postgresql" not in dialects:
            return
        functions = {
            s.name.value: s
            for s in node.body
            if isinstance(s, cst.FunctionDef) and s.name.value in ("upgrade", "downgrade")
        }
        upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
        if upgrade is None or downgrade is None or not isinstance(downgrade.body, cst.IndentedBlock):
            return
        created = self._created(upgrade)
        if not created:
            return
        body = downgrade.body.body
        dropped: set[str] = set()
        anchors: dict[str, int] = {}
        op_name: str | None = None
        batches: dict[str, str] = {}
        for index, statement in enumerate(body):
            batch = batch_table(self, statement) if isinstance(statement, cst.With) else None
            if batch is not None:
                batches[batch[0]] = batch[1]
            for call in all_calls(statement):
                if (
                    op_name is None
                    and isinstance(call.func, cst.Attribute)
                    and self.qualified(call.func) & {f"alembic.op.{call.func.attr.value}"}
                ):
                    op_name = cst.Module([]).code_for_node(call.func.value)
                known = self._dropped_type(call)
                if known is None:
                    return  # a type dropped by SQL or an object lintdb cannot read: assume it is handled
                dropped |= known
                for holder in self._dropped_holders(call, batches):
                    for name, enum in created.items():
                        if enum.explicit or any(t == holder[0] and holder[1] in (None, c) for t, c in enum.holders):
                            anchors[name] = index
        if op_name is None:
            return
        for name, enum in created.items():
            if name in dropped or name not in anchors:
                continue
            anchor = body[anchors[name]]
            drop = cst.parse_statement(self._drop_code(enum, name, op_name))
            self.report(
                enum.node,
                f'`DuplicateObject: type "{name}" already exists` on the next upgrade: `downgrade()` drops what '
                f"uses the enum type `{name}` but not the type; drop it after the table or column",
                fix=FixSpec(
                    (Replace(anchor, cst.FlattenSentinel([anchor, drop])),),
                    Applicability.SAFE,
                    f"Drop type `{name}` in `downgrade()`",
                ),
            )

    @staticmethod
    def _drop_code(enum: _Enum, name: str, op_name: str) -> str:
        drop = f".drop({op_name}.get_bind(), checkfirst=True)\n"
        if enum.variable is not None:
            return enum.variable + drop
        schema = f", schema={enum.schema}" if enum.schema else ""
        return f'{enum.factory}(name="{name}"{schema})' + drop

    def _enum(self, expr: cst.BaseExpression) -> tuple[cst.Call, str | None] | None:
        """The enum type call an expression is (or a name holds) and, for a module name, that name."""
        value = resolved(self, expr)
        if isinstance(value, cst.Call) and self.qualified(value.func) & (SA_ENUM | PG_ENUM):
            module_level = isinstance(expr, cst.Name) and self.model.enclosing_function(value) is None
            return value, expr.value if module_level and isinstance(expr, cst.Name) else None
        return None

    @staticmethod
    def _type_name(call: cst.Call) -> str | None:
        name_arg = call_arg(call, None, "name")
        if name_arg is not None:
            return string_value(name_arg.value)
        first = call_arg(call, 0)
        if first is not None and isinstance(first.value, (cst.Name, cst.Attribute)):
            return (first.value.value if isinstance(first.value, cst.Name) else first.value.attr.value).lower()
        return None

    @staticmethod
    def _false(call: cst.Call, keyword: str) -> bool:
        arg = call_arg(call, None, keyword)
        return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False"

    def _created(self, upgrade: cst.FunctionDef) -> dict[str, _Enum]:
        created: dict[str, _Enum] = {}

        def add(expr: cst.BaseExpression, holder: tuple[str, str | None] | None) -> None:
            found = self._enum(expr)
            if found is None:
                return
            call, variable = found
            name = self._type_name(call)
            if name is None or self._false(call, "native_enum") or (holder and self._false(call, "create_type")):
                return
            schema_arg = call_arg(call, None, "schema")
            schema = cst.Module([]).code_for_node(schema_arg.value) if schema_arg else None
            enum = created.setdefault(name, _Enum(expr, cst.Module([]).code_for_node(call.func), variable, schema))
            if holder is None:
                enum.explicit = True
            else:
                enum.holders.append(holder)

        def columns(table: str, args: list[cst.Arg]) -> None:
            for arg in args:
                column = resolved(self, arg.value)
                if isinstance(column, cst.Call) and self.qualified(column.func) & COLUMN:
                    name_arg = call_arg(column, 0, "name")
                    column_name = string_value(name_arg.value) if name_arg else None
                    for inner in column.args[1:]:
                        if inner.keyword is None or inner.keyword.value == "type_":
                            add(inner.value, (table, column_name))

        if not isinstance(upgrade.body, cst.IndentedBlock):
            return created
        for call in all_calls(upgrade.body):
            table_arg = call_arg(call, 0, "table_name")
            if is_op(self, call, "create_table") and table_arg is not None:
                columns(name_text(self, table_arg.value), list(call.args[1:]))
            elif (
                isinstance(call.func, cst.Attribute) and call.func.attr.value == "create" and not self._checkfirst(call)
            ):
                add(call.func.value, None)
        return created

    def _checkfirst(self, call: cst.Call) -> bool:
        """Whether `<enum>.create(bind)` checks first (`postgresql.ENUM` does by default, `sa.Enum` not)."""
        assert isinstance(call.func, cst.Attribute)
        arg = call_arg(call, 1, "checkfirst")
        if arg is None:
            found = self._enum(call.func.value)
            return found is not None and bool(self.qualified(found[0].func) & PG_ENUM)
        return not (isinstance(arg.value, cst.Name) and arg.value.value == "False")

    def _dropped_type(self, call: cst.Call) -> set[str] | None:
        """The enum types a downgrade call drops; None when it may drop one lintdb cannot name."""
        if is_execute(self, call):
            sql = execute_sql(self, call)
            if sql is None:
                return None
            return dropped_types(sql)
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "drop":
            found = self._enum(call.func.value)
            if found is not None:
                name = self._type_name(found[0])
                return None if name is None else {name}
        return set()

    def _dropped_holders(self, call: cst.Call, batches: dict[str, str]) -> list[tuple[str, str | None]]:
        table_arg = call_arg(call, 0, "table_name")
        if is_op(self, call, "drop_table") and table_arg is not None:
            return [(name_text(self, table_arg.value), None)]
        if is_op(self, call, "drop_column") and table_arg is not None:
            column_arg = call_arg(call, 1, "column_name")
            return [(name_text(self, table_arg.value), string_value(column_arg.value) if column_arg else None)]
        table = batch_method(call, batches, "drop_column")
        if table is not None:
            column_arg = call_arg(call, 0, "column_name")
            return [(table, string_value(column_arg.value) if column_arg else None)]
        return []
