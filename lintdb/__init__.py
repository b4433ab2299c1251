"""lintdb: a linter for Python database code (asyncpg, SQLAlchemy, Alembic, PgBouncer)."""

__version__ = "0.1.0"
