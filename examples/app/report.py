"""A report over a big table, streamed with an asyncpg cursor (and two bugs lintdb finds)."""

import asyncpg


async def names(dsn):
    con = await asyncpg.connect(dsn)
    try:
        found = []
        async for row in con.cursor("SELECT id, name FROM x ORDER BY id", prefetch=500):
            found.append(row.name)
        return found
    finally:
        await con.close()
