"""The rule catalog: one module per rule, named after its code and name."""

from __future__ import annotations

from lintdb.rule import LintRule
from lintdb.rules.ldb101_raw_connection_on_commit_drop import RawConnectionOnCommitDrop
from lintdb.rules.ldb102_temp_table_without_drop_guard import TempTableWithoutDropGuard
from lintdb.rules.ldb103_sql_in_list_parameter import SqlInListParameter
from lintdb.rules.ldb104_cursor_outside_transaction import CursorOutsideTransaction
from lintdb.rules.ldb105_record_attribute_access import RecordAttributeAccess
from lintdb.rules.ldb106_json_codec_mismatch import JsonCodecMismatch
from lintdb.rules.ldb107_sql_syntax_error import SqlSyntaxError
from lintdb.rules.ldb201_pgbouncer_prepared_statements import (
    PgbouncerPreparedStatements,
)
from lintdb.rules.ldb202_statement_cache_half_disabled import StatementCacheHalfDisabled
from lintdb.rules.ldb203_sync_engine_async_driver import SyncEngineAsyncDriver
from lintdb.rules.ldb204_async_fallback import AsyncFallback
from lintdb.rules.ldb205_autocommit_in_application_code import (
    AutocommitInApplicationCode,
)
from lintdb.rules.ldb206_text_in_without_expanding import TextInWithoutExpanding
from lintdb.rules.ldb207_async_session_expire_on_commit import AsyncSessionExpireOnCommit
from lintdb.rules.ldb208_session_shared_across_tasks import SessionSharedAcrossTasks
from lintdb.rules.ldb209_aware_datetime_in_naive_column import AwareDatetimeInNaiveColumn
from lintdb.rules.ldb210_sslmode_in_asyncpg_url import SslmodeInAsyncpgUrl
from lintdb.rules.ldb301_migrations_never_committed import MigrationsNeverCommitted
from lintdb.rules.ldb302_migrations_autocommit import MigrationsAutocommit
from lintdb.rules.ldb303_batch_without_tmp_table_guard import BatchWithoutTmpTableGuard
from lintdb.rules.ldb304_sqlite_transactional_ddl_without_begin import (
    SqliteTransactionalDdlWithoutBegin,
)
from lintdb.rules.ldb305_enum_type_not_dropped import EnumTypeNotDropped
from lintdb.rules.ldb306_non_transactional_statement_in_migration import (
    NonTransactionalStatementInMigration,
)
from lintdb.rules.ldb307_add_not_null_column_without_default import AddNotNullColumnWithoutDefault
from lintdb.rules.ldb308_alembic_command_in_event_loop import AlembicCommandInEventLoop
from lintdb.rules.ldb900_unused_noqa import UnusedNoqa

RULES: tuple[type[LintRule], ...] = (
    RawConnectionOnCommitDrop,
    TempTableWithoutDropGuard,
    SqlInListParameter,
    CursorOutsideTransaction,
    RecordAttributeAccess,
    JsonCodecMismatch,
    SqlSyntaxError,
    PgbouncerPreparedStatements,
    StatementCacheHalfDisabled,
    SyncEngineAsyncDriver,
    AsyncFallback,
    AutocommitInApplicationCode,
    TextInWithoutExpanding,
    AsyncSessionExpireOnCommit,
    SessionSharedAcrossTasks,
    AwareDatetimeInNaiveColumn,
    SslmodeInAsyncpgUrl,
    MigrationsNeverCommitted,
    MigrationsAutocommit,
    BatchWithoutTmpTableGuard,
    SqliteTransactionalDdlWithoutBegin,
    EnumTypeNotDropped,
    NonTransactionalStatementInMigration,
    AddNotNullColumnWithoutDefault,
    AlembicCommandInEventLoop,
    UnusedNoqa,
)
RULES_BY_CODE: dict[str, type[LintRule]] = {rule.CODE: rule for rule in sorted(RULES, key=lambda r: r.CODE)}
