"""LDB210 proof: `sslmode=` in a `+asyncpg` URL or in `connect_args` reaches `asyncpg.connect()` as a
keyword it does not have (`TypeError` at the first connect); lintdb's `ssl=` fix connects, and with
TLS (checked in `pg_stat_ssl`) on a server that has it. `sslrootcert` needs more than a rename, so that
fix is display-only. The near-misses connect."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from lintdb.rules.ldb210_sslmode_in_asyncpg_url import SslmodeInAsyncpgUrl as Rule
from tests.proof.conftest import Server, _run, throwaway_cluster
from tests.proof.support import lintdb_fix, load

SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def _self_signed(root: Path) -> str:
    """Write a self-signed certificate and its key into ``root``; the settings that turn TLS on with them."""
    key, cert = root / "server.key", root / "server.crt"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    _run([*openssl, "-keyout", str(key), "-out", str(cert)], "openssl req")
    key.chmod(0o600)
    return f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Server]:
    """A throwaway PostgreSQL with TLS on (a self-signed certificate), for `ssl=require` to succeed."""
    with throwaway_cluster("tls", _self_signed) as server:
        yield server


def _on(source: str, server: Server) -> types.ModuleType:
    return load(source.replace("127.0.0.1:5432/", f"127.0.0.1:{server.port}/"))


async def _answer_and_tls(engine: object, answer: object) -> tuple[int, bool]:
    """The example's answer, and whether its connection uses TLS."""
    try:
        result = int(await answer())  # type: ignore[operator]
        async with engine.connect() as conn:  # type: ignore[attr-defined]
            return result, bool((await conn.execute(text(SSL_IN_USE))).scalar_one())
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


def _module_answer(module: types.ModuleType) -> tuple[int, bool]:
    return asyncio.run(_answer_and_tls(module.engine, module.answer))


def _factory_answer(module: types.ModuleType, server: Server) -> tuple[int, bool]:
    engine = module.make_engine("postgres", "127.0.0.1", server.port, "postgres")
    return asyncio.run(_answer_and_tls(engine, lambda: module.answer(engine)))


def test_every_invalid_example_is_proven() -> None:
    assert len(Rule.INVALID) == 4


@pytest.mark.parametrize("index", [0, 2])
def test_module_engine_fails_at_connect_and_fix_works(index: int, tls_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[index]
    with pytest.raises(TypeError, match=r"^connect\(\) got an unexpected keyword argument 'sslmode'$"):
        _module_answer(_on(case.source(), tls_server))
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert _module_answer(_on(fixed, tls_server)) == (42, True)


def test_fstring_url_fails_at_connect_and_fix_works(tls_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[1]
    with pytest.raises(TypeError, match=r"^connect\(\) got an unexpected keyword argument 'sslmode'$"):
        _factory_answer(load(case.source()), tls_server)
    fixed = lintdb_fix(case.source(), tmp_path)
    assert fixed == case.fixed_source()
    assert _factory_answer(load(fixed), tls_server) == (42, True)


def test_other_tls_parameters_make_the_rename_display_only(tls_server: Server, tmp_path: Path) -> None:
    case = Rule.INVALID[3]
    with pytest.raises(TypeError, match=r"^connect\(\) got an unexpected keyword argument 'ssl"):
        _module_answer(_on(case.source(), tls_server))
    assert lintdb_fix(case.source(), tmp_path, unsafe=True) == case.source(), "a display-only fix was applied"
    renamed = case.source().replace("?sslmode=", "?ssl=")
    with pytest.raises(TypeError, match=r"^connect\(\) got an unexpected keyword argument 'sslrootcert'$"):
        _module_answer(_on(renamed, tls_server))


@pytest.mark.parametrize("index", [0, 1])
def test_near_miss_ssl_keyword_works(index: int, tls_server: Server) -> None:
    assert _module_answer(_on(Rule.VALID[index].source(), tls_server)) == (42, True)


def test_near_miss_psycopg2_takes_sslmode(tls_server: Server) -> None:
    engine = _on(Rule.VALID[2].source(), tls_server).engine
    try:
        with engine.connect() as conn:
            assert conn.execute(text(SSL_IN_USE)).scalar_one() is True
    finally:
        engine.dispose()


def test_near_miss_plain_asyncpg_parses_its_own_dsn(tls_server: Server) -> None:
    assert asyncio.run(_on(Rule.VALID[3].source(), tls_server).answer()) == 42


def test_near_miss_translated_url_works(tls_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"{tls_server.dsn}?sslmode=require")
    module = load(Rule.VALID[4].source())

    async def answer() -> int:
        async with module.engine.connect() as conn:
            return int((await conn.execute(text("SELECT 42"))).scalar_one())

    assert asyncio.run(_answer_and_tls(module.engine, answer)) == (42, True)
