"""What a database URL says: its query parameters, and whether its host and port are PgBouncer's.
(The URL's text comes from the semantic model: `model.text_of`.)"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

PGBOUNCER_PORT = 6432
PGBOUNCER_HOST_WORDS = ("pgbouncer", "pooler")


def url_query(url: str) -> dict[str, list[str]]:
    """The query parameters of a URL."""
    return parse_qs(urlsplit(url).query)


def is_pgbouncer(host: str | None, port: int | None, extra_hosts: Sequence[str]) -> bool:
    """Port 6432, a host naming PgBouncer or a pooler, or a host configured as PgBouncer."""
    name = (host or "").lower()
    return (
        port == PGBOUNCER_PORT
        or any(word in name for word in PGBOUNCER_HOST_WORDS)
        or (bool(name) and name in extra_hosts)
    )


def url_is_pgbouncer(url: str, extra_hosts: Sequence[str]) -> bool:
    """Whether a URL's host and port point at PgBouncer."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return is_pgbouncer(parts.hostname, port, extra_hosts)
