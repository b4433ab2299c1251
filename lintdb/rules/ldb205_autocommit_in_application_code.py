"""LDB205 autocommit-in-application-code."""

from __future__ import annotations

import re

import libcst as cst
import pglast

from lintdb.cst_helpers import string_value
from lintdb.flow import all_calls
from lintdb.model.handles import ENGINE_FACTORIES, ENGINES
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.sqltext import statements

ALEMBIC_IMPORT = re.compile(r"(?m)^\s*(?:from|import)\s+alembic\b")

_TRANSFER = """
from sqlalchemy import create_engine, text

engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"{engine_args})
{rebind}

def transfer(amount):
    with engine.{opener} as conn:
        conn.execute(text("UPDATE account SET balance = balance - :a WHERE id = 1"), {{"a": amount}})
        conn.execute(text("UPDATE account SET balance = balance + :a WHERE id = 2"), {{"a": amount}})
"""
_VACUUM = """
from sqlalchemy import create_engine, text

engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def maintain():
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE account"))
        conn.execute(text("CREATE INDEX CONCURRENTLY IF NOT EXISTS account_balance ON account (balance)"))
"""


def transfer_example(engine_args: str = "", opener: str = "begin()", rebind: str = "") -> str:
    """Moves money between two accounts in what is meant to be one transaction (``rebind``: a line after
    the engine's)."""
    return _TRANSFER.format(engine_args=engine_args, opener=opener, rebind=rebind)


WRITES = (pglast.ast.InsertStmt, pglast.ast.UpdateStmt, pglast.ast.DeleteStmt, pglast.ast.MergeStmt)


def _writes(sql: str) -> bool:
    """Whether the SQL text changes rows."""
    return any(isinstance(raw.stmt, WRITES) for raw in statements(sql))


class AutocommitInApplicationCode(LintRule):
    """
    ## What it does
    Checks for `isolation_level="AUTOCOMMIT"` outside migration code (files that import Alembic): on an
    engine (`create_engine`, `create_async_engine`, `engine_from_config`), or in the `execution_options`
    of a `with` block that runs several statements, one of which writes rows.

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

    A block that runs one statement, or only statements that write no rows (`VACUUM`, `CREATE INDEX
    CONCURRENTLY`, `CREATE DATABASE`, ...), is not reported: that is what AUTOCOMMIT is for. Neither
    is a connection switched to AUTOCOMMIT outside a `with` block, where lintdb cannot see what runs.

    ## Fix safety
    There is no fix: whether the code relies on each statement committing is for its author to decide.

    ## References
    - [SQLAlchemy: Setting Transaction Isolation Levels including DBAPI Autocommit](https://docs.sqlalchemy.org/en/20/core/connections.html#setting-transaction-isolation-levels-including-dbapi-autocommit)
    - [PostgreSQL: VACUUM cannot run inside a transaction block](https://www.postgresql.org/docs/current/sql-vacuum.html)
    """

    CODE = "LDB205"
    NAME = "autocommit-in-application-code"
    MESSAGE = "AUTOCOMMIT in application code commits each statement on its own"

    VALID = (
        Valid(transfer_example()),
        Valid(_VACUUM),
        Valid("""
            from alembic import op


            def upgrade():
                with op.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ALTER TYPE mood ADD VALUE 'calm'")
            """),
    )
    INVALID = (
        Invalid(transfer_example(engine_args=', isolation_level="AUTOCOMMIT"'), positions=[(3, 82)]),
        Invalid(
            transfer_example(opener='connect().execution_options(isolation_level="AUTOCOMMIT")'), positions=[(7, 45)]
        ),
        Invalid(transfer_example(engine_args=').execution_options(isolation_level="AUTOCOMMIT"'), positions=[(3, 100)]),
        Invalid(
            transfer_example(rebind='engine = engine.execution_options(isolation_level="AUTOCOMMIT")\n'),
            positions=[(4, 35)],
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.migration = ALEMBIC_IMPORT.search(self.text) is not None
        self.reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        setting = autocommit_argument(node)
        if setting is None or self.migration:
            return
        on_engine = bool(self.qualified(node.func) & ENGINE_FACTORIES.keys())
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "execution_options":
            receiver = self.model.handle_of(node.func.value)
            on_engine = receiver is not None and receiver.kind in ENGINES
        if on_engine:
            self._report(setting, "on the engine: every statement of the application commits on its own")

    def visit_With(self, node: cst.With) -> None:
        if self.migration:
            return
        for item in node.items:
            for call in all_calls(item.item):
                setting = autocommit_argument(call)
                if (
                    setting is not None
                    and id(setting) not in self.reported
                    and not self.qualified(call.func) & ENGINE_FACTORIES.keys()
                    and self._several_statements_with_writes(node)
                ):
                    self._report(setting, "on a connection that runs several statements")

    def _report(self, setting: cst.Arg, where: str) -> None:
        self.reported.add(id(setting))
        self.report(
            setting,
            f'`isolation_level="AUTOCOMMIT"` {where}, so `begin()`/`commit()` group nothing '
            "and a failure halfway leaves the first statements committed",
        )

    def _several_statements_with_writes(self, block: cst.With) -> bool:
        """The block executes two statements or more, and one of them changes rows."""
        texts = []
        for call in all_calls(block.body):
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value in ("execute", "exec_driver_sql")
                and call.args
            ):
                site = self.model.sql_site(call)
                if site is None:
                    texts.append("")
                else:
                    texts.append((site.sql.with_binds_as_params() if site.style == "text" else site.sql).text)
        return len(texts) >= 2 and any(_writes(text) for text in texts)


def autocommit_argument(call: cst.Call) -> cst.Arg | None:
    """The call's `isolation_level="AUTOCOMMIT"` argument, if it has one."""
    return next(
        (
            a
            for a in call.args
            if a.keyword is not None
            and a.keyword.value == "isolation_level"
            and (string_value(a.value) or "").upper() == "AUTOCOMMIT"
        ),
        None,
    )
