"""Where a database URL in code points: its text (through constants and `os.environ.get` defaults)
and what the host and port say about it (PgBouncer or not)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import parse_qs, urlsplit

import libcst as cst

from lintdb.cst_helpers import call_arg, string_value

ENVIRON_GETTERS = frozenset({"os.environ.get", "os.getenv"})
PGBOUNCER_PORT = 6432
PGBOUNCER_HOST_WORDS = ("pgbouncer", "pooler")


Resolve = Callable[[cst.Name], "cst.BaseExpression | None"]


def url_text(
    node: cst.BaseExpression | None, resolve: Resolve, qualified: Callable[[cst.CSTNode], set[str]], depth: int = 0
) -> str | None:
    """The URL a literal holds, or a name assigned once (in the function or the module, through
    ``resolve``), or `os.environ.get(NAME, default)` / `os.getenv` (the default)."""
    if depth > 5:
        return None
    if isinstance(node, cst.Name):
        node = resolve(node)
    if isinstance(node, cst.Call) and qualified(node.func) & ENVIRON_GETTERS:
        default = call_arg(node, 1, "default")
        return url_text(default.value, resolve, qualified, depth + 1) if default else None
    return url_text(node, resolve, qualified, depth + 1) if isinstance(node, cst.Name) else string_value(node)


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
