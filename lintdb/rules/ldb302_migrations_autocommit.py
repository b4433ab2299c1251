"""LDB302 migrations-autocommit."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import dotted, unwrap_await
from lintdb.diagnostics import Applicability
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid
from lintdb.rules.ldb205_autocommit_in_application_code import autocommit_argument
from lintdb.rules.ldb301_migrations_never_committed import async_env, sync_env

_AUTOCOMMIT_FIRST = '        await connection.execution_options(isolation_level="AUTOCOMMIT")\n'
_SELECT = '        await connection.execute(text("SELECT 1"))\n'
_COMMIT = "        await connection.commit()\n"
_SYNC_OPENER = "with connectable.connect() as connection:"


class MigrationsAutocommit(LintRule):
    """
    ## What it does
    Checks for `isolation_level="AUTOCOMMIT"` in an Alembic env.py (a file that calls
    `context.configure(...)`): on the migration connection, its engine, or its `execution_options`.
    Not in the default selection: select it with `--select LDB302` or `ALL`. Silent in projects that
    chose `alembic-env-fix = "autocommit"`.

    ## Why is this bad?
    AUTOCOMMIT is common advice for the "migrations print success and commit nothing" bug (LDB301),
    and it does make the migrations stick, but it gives up transactional DDL: a migration that fails
    halfway leaves its first operations committed, `alembic_version` still names the previous
    revision, and the rerun fails (`DuplicateTableError: relation "t3" already exists`) until someone
    repairs the database by hand. Set after a statement, it raises `InvalidRequestError: ...
    isolation_level may not be altered unless rollback() or commit() is called first`.

    ## Example
    ```python
    async with connectable.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("SET search_path TO app"))
        await connection.run_sync(do_run_migrations)
    ```

    Use instead:
    ```python
    async with connectable.connect() as connection:
        await connection.execute(text("SET search_path TO app"))
        await connection.commit()
        await connection.run_sync(do_run_migrations)
    ```

    ## Fix safety
    The fix removes the AUTOCOMMIT setting (LDB301 then commits after any statement that runs before
    `context.configure()`). It is unsafe: a migration that relies on AUTOCOMMIT for statements
    PostgreSQL refuses in a transaction (`CREATE INDEX CONCURRENTLY`) must move them into
    `op.get_context().autocommit_block()`.

    ## References
    - [Alembic: Using Asyncio with Alembic](https://alembic.sqlalchemy.org/en/latest/cookbook.html#using-asyncio-with-alembic)
    - [Alembic: MigrationContext.autocommit_block](https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block)
    """

    CODE = "LDB302"
    NAME = "migrations-autocommit"
    MESSAGE = (
        "AUTOCOMMIT on the migration connection: a migration that fails halfway stays half-applied and the rerun fails"
    )
    FIX_TITLE = "Remove AUTOCOMMIT (commit after early statements instead)"
    FIX_AVAILABILITY = "Always"
    DEFAULT_ENABLED = False

    VALID = (
        Valid(async_env(before_run_sync=_SELECT + _COMMIT)),
        Valid(sync_env()),
    )
    INVALID = (
        Invalid(
            async_env(before_run_sync=_AUTOCOMMIT_FIRST + _SELECT),
            positions=[(27, 44)],
            fixed=async_env(before_run_sync=_SELECT + _COMMIT),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            sync_env().replace(
                _SYNC_OPENER,
                'with connectable.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:',
            ),
            positions=[(17, 50)],
            fixed=sync_env(),
            applicability=Applicability.UNSAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.settings: list[tuple[cst.Call, cst.Arg]] = []
        self.lines: dict[cst.Call, cst.SimpleStatementLine] = {}  # calls that are a whole statement
        self.configures = False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if (
            len(node.body) == 1
            and isinstance(node.body[0], cst.Expr)
            and isinstance(call := unwrap_await(node.body[0].value), cst.Call)
        ):
            self.lines[call] = node

    def visit_Call(self, node: cst.Call) -> None:
        self.configures |= (dotted(node.func) or "").endswith("context.configure")
        setting = autocommit_argument(node)
        if setting is not None:
            self.settings.append((node, setting))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self.configures or self.options.alembic_env_fix == "autocommit":
            return  # not an env.py, or the project chose AUTOCOMMIT for LDB301's fix
        for call, setting in self.settings:
            fix = FixSpec((self._removal(call, setting),), Applicability.UNSAFE, self.FIX_TITLE)
            self.report(
                setting,
                f"{self.MESSAGE} (`DuplicateTableError` on the rerun); commit after early statements instead (LDB301)",
                fix=fix,
            )

    def _removal(self, call: cst.Call, setting: cst.Arg) -> Replace:
        """Drop the argument; drop an `execution_options()` call it was the only argument of (the whole
        statement when the call is one)."""
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "execution_options" and len(call.args) == 1:
            line = self.lines.get(call)
            return Replace(line, cst.RemovalSentinel.REMOVE) if line is not None else Replace(call, call.func.value)
        args = [a for a in call.args if a is not setting]
        if args:
            args[-1] = args[-1].with_changes(
                comma=call.args[-1].comma if call.args[-1] is not setting else cst.MaybeSentinel.DEFAULT
            )
        return Replace(call, call.with_changes(args=args))
