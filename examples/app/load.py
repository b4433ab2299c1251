"""Bulk-load rows through a temp table, the way many services do it (and two bugs lintdb finds)."""

from sqlalchemy import text


async def load_rows(session, records):
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    await driver.execute("CREATE TEMP TABLE _tmp_x (LIKE x INCLUDING DEFAULTS) ON COMMIT DROP")
    await driver.copy_records_to_table("_tmp_x", records=records, columns=["id", "name"])
    await driver.execute("INSERT INTO x SELECT * FROM _tmp_x ON CONFLICT DO NOTHING")


async def find(con, ids):
    return await con.fetch("SELECT id, name FROM x WHERE id IN $1 ORDER BY id", ids)


async def count(session):
    return (await session.execute(text("SELECT count(*) FROM x"))).scalar_one()
