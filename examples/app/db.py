"""Engine set-up and queries as a service might write them (and the bugs lintdb finds in them)."""

import os

from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://app@pgbouncer:6432/app")

engine = create_async_engine(DATABASE_URL, pool_size=5)
reporting = create_engine("postgresql+asyncpg://app@db:5432/app")
stale = create_async_engine("postgresql+asyncpg://app@db:5432/app", connect_args={"statement_cache_size": 0})


async def recent(session, since, ids):
    await session.execute(text("CREATE TEMP TABLE _recent (id int)"))
    rows = await session.execute(text("SELECT id FROM x WHERE created > :since::timestamptz AND id IN :ids"), {"since": since, "ids": ids})
    return rows.scalars().all()
