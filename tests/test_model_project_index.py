"""The project index: session factories, session-giving functions and conftest fixtures of other modules,
and URLs kept in a config module, as `lintdb check` sees them on a real project tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lintdb.model.project_index import FACTORY, MAKER, SESSION, Found, Imported, ProjectIndex

PYPROJECT = '[project]\nname = "app"\ndependencies = ["sqlalchemy[asyncio]", "asyncpg"]\n'
CONFIG = """\
from pydantic import Field
from pydantic_settings import BaseSettings


class DatabaseSettings(BaseSettings):
    url: str = Field(default="postgresql+asyncpg://postgres@127.0.0.1/app{query}")


class Settings(BaseSettings):
    DATABASE_URL: str = "postgresql+asyncpg://postgres@127.0.0.1/app{query}"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)


settings = Settings()
"""
DB = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import settings

engine = create_async_engine(settings.DATABASE_URL)
SessionLocal = async_sessionmaker(engine{expire})


async def get_db():
    async with SessionLocal() as session:
        yield session
"""
API = """\
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from .db import SessionLocal, get_db
from .models import User


async def create(name: str) -> int:
    async with SessionLocal() as session:
        user = User(name=name)
        session.add(user)
        await session.commit()
        return user.id


async def rename(user_id: int, session: Annotated[AsyncSession, Depends(get_db)]) -> str:
    user = await session.get(User, user_id)
    await session.commit()
    return user.name
"""
CONFTEST = """\
import pytest

from app.db import SessionLocal


@pytest.fixture
async def db_session():
    async with SessionLocal() as session:
        yield session
"""
TEST = """\
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User


async def test_create(db_session: AsyncSession) -> None:
    user = User(name="a")
    db_session.add(user)
    await db_session.commit()
    assert user.id
"""
# A sync engine on the settings' URL, in a module with no URL of its own.
SYNC_ENGINE = """\
from sqlalchemy import create_engine

from app import config
from app.config import settings

engine = create_engine(settings.database.url)
other = create_engine(str(config.settings.DATABASE_URL), pool_pre_ping=True)
"""


ENV = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

from app.config import settings

config = context.config
config.set_main_option("sqlalchemy.url", settings.database.url)


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection)
"""


# A helper whose session comes from its callers (not visible here).
HELPER = """\
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User


async def add_user(session: AsyncSession, name: str) -> int:
    user = User(name=name)
    session.add(user)
    await session.commit()
    return user.id
"""


def _project(root: Path, expire: str = ", expire_on_commit=False", query: str = "") -> Path:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "app").mkdir()
    (root / "tests").mkdir()
    (root / "migrations").mkdir()
    files = {
        "app/__init__.py": "",
        "app/config.py": CONFIG.format(query=query),
        "app/db.py": DB.format(expire=expire),
        "app/api.py": API,
        "app/engines.py": SYNC_ENGINE,
        "app/helpers.py": HELPER,
        "migrations/env.py": ENV,
        "tests/conftest.py": CONFTEST,
        "tests/test_users.py": TEST,
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _found(lintdb, tmp_path: Path, *args: str) -> list[tuple[str, str, int, int]]:  # type: ignore[no-untyped-def]
    result = lintdb("check", "--output-format", "json", *args, ".")
    assert result.returncode in (0, 1), result.stderr
    return sorted(
        (
            Path(d["filename"]).resolve().relative_to(tmp_path.resolve()).as_posix(),
            d["code"],
            d["location"]["row"],
            d["location"]["column"],
        )
        for d in json.loads(result.stdout)
    )


def test_factories_that_turn_expiry_off_in_another_module_are_followed(lintdb, tmp_path: Path) -> None:
    """Also the helper's session: every factory of the project turns expiry off, so the callers' does."""
    _project(tmp_path)
    assert _found(lintdb, tmp_path, "--no-cache", "--select", "LDB207") == []


def test_the_projects_default_factory_is_still_reported(lintdb, tmp_path: Path) -> None:
    _project(tmp_path, expire="")
    assert _found(lintdb, tmp_path, "--no-cache", "--select", "LDB207") == [
        ("app/api.py", "LDB207", 15, 16),  # `async with SessionLocal()`, imported relatively
        ("app/api.py", "LDB207", 21, 12),  # `Depends(get_db)`, imported
        ("app/helpers.py", "LDB207", 10, 12),  # a caller's session: the project has a default factory
        ("tests/test_users.py", "LDB207", 10, 12),  # the conftest.py fixture
    ]


def test_urls_from_the_settings_module(lintdb, tmp_path: Path) -> None:
    _project(tmp_path, query="?async_fallback=true")
    assert _found(lintdb, tmp_path, "--no-cache", "--select", "LDB203,LDB204") == [
        ("app/db.py", "LDB204", 5, 10),  # `settings.DATABASE_URL`
        ("app/engines.py", "LDB204", 6, 10),  # `settings.database.url`: a nested settings class
        ("app/engines.py", "LDB204", 7, 9),  # `str(config.settings.DATABASE_URL)`: a submodule import
    ]
    # Without async_fallback the sync engines get an asyncio driver: LDB203.
    (tmp_path / "app" / "config.py").write_text(CONFIG.format(query=""), encoding="utf-8")
    assert _found(lintdb, tmp_path, "--no-cache", "--select", "LDB203,LDB204") == [
        ("app/engines.py", "LDB203", 6, 10),
        ("app/engines.py", "LDB203", 7, 9),
        ("migrations/env.py", "LDB203", 11, 19),  # engine_from_config on the URL set_main_option set
    ]


def test_a_warm_run_sees_a_change_to_another_modules_factory(lintdb, tmp_path: Path) -> None:
    _project(tmp_path)
    assert _found(lintdb, tmp_path, "--select", "LDB207") == []
    db = tmp_path / "app" / "db.py"
    stat = db.stat()
    db.write_text(DB.format(expire=""), encoding="utf-8")
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [f[0] for f in _found(lintdb, tmp_path, "--select", "LDB207")] == [
        "app/api.py",
        "app/api.py",
        "app/helpers.py",
        "tests/test_users.py",
    ]


def test_index_reads_only_the_modules_that_can_matter(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "app" / "models.py").write_text("class User:\n    pass\n", encoding="utf-8")
    index = ProjectIndex(tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in index.files)
    # the test module is not indexed (its fixtures are its own); models.py and engines.py name no factory,
    # no AsyncSession and no URL
    assert names == [
        "app/__init__.py",
        "app/api.py",
        "app/config.py",
        "app/db.py",
        "app/helpers.py",
        "tests/conftest.py",
    ]
    assert index.session(Imported("app.db", "SessionLocal"), None) == Found(FACTORY, False)
    assert index.session(Imported("app.db", "get_db"), None) == Found(SESSION, False)
    assert index.fixture("db_session", tmp_path / "tests" / "test_users.py") == Found(SESSION, False)
    assert index.session(Imported("app.db", "engine"), None) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a function returning a factory it keeps in a dict (one per event loop)
        (
            "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n"
            "MAKERS = {}\n"
            "def get_maker():\n"
            "    if 1 not in MAKERS:\n"
            "        MAKERS[1] = async_sessionmaker(bind=None, class_=AsyncSession, expire_on_commit=False)\n"
            "    return MAKERS[1]\n",
            Found(MAKER, False),
        ),
        # a generic alias of the factory
        (
            "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n"
            "get_maker = async_sessionmaker[AsyncSession](None, expire_on_commit=False)\n",
            Found(FACTORY, False),
        ),
        # sessionmaker(class_=AsyncSession) keeps the default
        (
            "from sqlalchemy.ext.asyncio import AsyncSession\n"
            "from sqlalchemy.orm import sessionmaker\n"
            "get_maker = sessionmaker(None, class_=AsyncSession)\n",
            Found(FACTORY, True),
        ),
        # a sync sessionmaker makes no AsyncSession
        ("from sqlalchemy.orm import sessionmaker\nget_maker = sessionmaker(None)\n", None),
        # the setting is not a literal
        (
            "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
            "get_maker = async_sessionmaker(expire_on_commit=X)\n",
            Found(FACTORY, None),
        ),
    ],
)
def test_factory_shapes(tmp_path: Path, source: str, expected: Found | None) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "db.py").write_text(source, encoding="utf-8")
    assert ProjectIndex(tmp_path).session(Imported("db", "get_maker"), None) == expected
