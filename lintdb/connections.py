"""The text test for files that can hold an asyncpg connection (used by triggers; the connections
themselves are the semantic model's handles: lintdb.model.handles)."""

from __future__ import annotations

# An asyncpg import, a driver connection borrowed from SQLAlchemy, or a pool's `acquire()` awaited or
# entered with `async with`.
ASYNCPG_IN_FILE = (
    r"(?m)^[ \t]*(?:import|from)[ \t]+asyncpg\b|driver_connection|(?:await|async with)[ \t]+[\w.]+\.acquire\("
)
ASYNCPG_GATE = ("asyncpg", "driver_connection", ".acquire(")
