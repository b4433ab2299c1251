"""LDB205 autocommit-in-application-code."""

from __future__ import annotations

import re

import libcst as cst
import pglast
from libcst.metadata import ParentNodeProvider

from lintdb.cst_helpers import string_value, unwrap_await
from lintdb.flow import all_calls
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.sqltext import module_constants, sql_string, statements

ALEMBIC_IMPORT = re.compile(r"(?m)^\s*(?:from|import)\s+alembic\b")

_TRANSFER = '''
from sqlalchemy import create_engine, text

engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"{engine_args})


def transfer(amount):
    with engine.{opener} as conn:
        conn.execute(text("UPDATE account SET balance = balance - :a WHERE id = 1"), {{"a": amount}})
        conn.execute(text("UPDATE account SET balance = balance + :a WHERE id = 2"), {{"a": amount}})
'''
_VACUUM = '''
from sqlalchemy import create_engine, text

engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def maintain():
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE account"))
        conn.execute(text("CREATE INDEX CONCURRENTLY IF NOT EXISTS account_balance ON account (balance)"))
'''


def transfer_example(engine_args: str = "", opener: str = "begin()") -> str:
    """Moves money between two accounts in what is meant to be one transaction."""
    return _TRANSFER.format(engine_args=engine_args, opener=opener)


def _needs_autocommit(sql: str) -> bool:
    """Whether PostgreSQL refuses to run every statement of the text inside a transaction block."""
    parsed = statements(sql)
    return bool(parsed) and all(_outside_transaction_only(raw.stmt) for raw in parsed)


def _outside_transaction_only(stmt: pglast.ast.Node | None) -> bool:
    if isinstance(stmt, (pglast.ast.VacuumStmt, pglast.ast.CreatedbStmt, pglast.ast.DropdbStmt, pglast.ast.AlterSystemStmt)):
        return True
    if isinstance(stmt, (pglast.ast.CreateTableSpaceStmt, pglast.ast.DropTableSpaceStmt)):
        return True
    if isinstance(stmt, (pglast.ast.IndexStmt, pglast.ast.DropStmt)):
        return bool(stmt.concurrent)
    if isinstance(stmt, pglast.ast.ReindexStmt):
        return any(getattr(option, "defname", None) == "concurrently" for option in stmt.params or ())
    return False


class AutocommitInApplicationCode(LintRule):
    """
    ## What it does
    Checks for `isolation_level="AUTOCOMMIT"` (on an engine, in `execution_options`, on a connection)
    outside migration code (files that import Alembic).

    ## Why is this bad?
    In AUTOCOMMIT every statement commits on its own, and `engine.begin()` / `session.commit()` no longer
    group anything: when the second of two statements fails, the first has already committed (money
    leaves one account and never reaches the other).

    ## Example
    ```python
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.begin() as conn:
        conn.execute(debit)
        conn.execute(credit)  # fails: the debit stays
    ```

    Use instead:
    ```python
    engine = create_engine(url)
    ```

    A block that only runs statements PostgreSQL refuses inside a transaction (`VACUUM`, `CREATE INDEX
    CONCURRENTLY`, `REINDEX … CONCURRENTLY`, `CREATE DATABASE`, ...) is not reported: that is what
    AUTOCOMMIT is for.

    ## Fix safety
    There is no fix: whether the code relies on each statement committing is for its author to decide.

    ## References
    - [SQLAlchemy: Setting Transaction Isolation Levels including DBAPI Autocommit](https://docs.sqlalchemy.org/en/20/core/connections.html#setting-transaction-isolation-levels-including-dbapi-autocommit)
    - [PostgreSQL: VACUUM cannot run inside a transaction block](https://www.postgresql.org/docs/current/sql-vacuum.html)
    """

    CODE = "LDB205"
    NAME = "autocommit-in-application-code"
    MESSAGE = "AUTOCOMMIT in application code commits each statement on its own"
    TRIGGER = re.compile(r"AUTOCOMMIT", re.IGNORECASE)
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    VALID = (
        Valid(transfer_example()),
        Valid(_VACUUM),
        Valid('''
            from alembic import op


            def upgrade():
                with op.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ALTER TYPE mood ADD VALUE 'calm'")
            '''),
    )
    INVALID = (
        Invalid(transfer_example(engine_args=', isolation_level="AUTOCOMMIT"'), positions=[(3, 82)]),
        Invalid(transfer_example(opener='connect().execution_options(isolation_level="AUTOCOMMIT")'), positions=[(7, 45)]),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.migration = ALEMBIC_IMPORT.search(node.code) is not None
        self.constants = module_constants(node)

    def visit_Arg(self, node: cst.Arg) -> None:
        if self.migration or node.keyword is None or node.keyword.value != "isolation_level":
            return
        if (string_value(node.value) or "").upper() != "AUTOCOMMIT":
            return
        block = self._with_block(node)
        if block is not None and self._maintenance_only(block):
            return
        self.report(node, "`isolation_level=\"AUTOCOMMIT\"` outside migrations: each statement commits on its own, so `begin()`/`commit()` group nothing and a failure halfway leaves the first statements committed")

    def _with_block(self, node: cst.CSTNode) -> cst.With | None:
        """The `with` statement whose item holds the argument, if any."""
        current: cst.CSTNode = node
        while not isinstance(current, (cst.BaseStatement, cst.Module)):
            parent = self.get_metadata(ParentNodeProvider, current)
            if isinstance(parent, cst.WithItem):
                with_ = self.get_metadata(ParentNodeProvider, parent)
                return with_ if isinstance(with_, cst.With) else None
            current = parent
        return None

    def _maintenance_only(self, block: cst.With) -> bool:
        """Every statement executed in the block is one PostgreSQL refuses inside a transaction."""
        texts = []
        for call in all_calls(block.body):
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("execute", "exec_driver_sql") and call.args:
                value = unwrap_await(call.args[0].value)
                if isinstance(value, cst.Call) and value.args:  # text("...")
                    value = value.args[0].value
                sql = sql_string(value, self.constants)
                texts.append(sql.text if sql else "")
        return bool(texts) and all(_needs_autocommit(text) for text in texts)

