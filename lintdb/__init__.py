"""lintdb: a linter for Python database code (asyncpg, SQLAlchemy, Alembic, PgBouncer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from lintdb.api import check_source, fix_text


def __getattr__(name: str) -> Any:
    """`lintdb.check_source` and `lintdb.fix_text` are imported on first use, so `import lintdb` stays cheap."""
    if name in ("check_source", "fix_text"):
        from lintdb import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = ["__version__", "check_source", "fix_text"]
