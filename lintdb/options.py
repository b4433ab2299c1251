"""Rule options: what of `[tool.lintdb]` reaches the rules. Its own module so configuration can be read
without importing LibCST."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleOptions:
    """Options from `[tool.lintdb]` that reach the rules (Fixit's rules never see theirs)."""

    pgbouncer_hosts: tuple[str, ...] = ()
    alembic_dialects: tuple[str, ...] = ()
    alembic_env_fix: str = "commit"
    async_session_expire_on_commit: bool = True
