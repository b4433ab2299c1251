"""Real servers for the proof tests: a throwaway PostgreSQL cluster (or `LINTDB_TEST_DSN`), a fresh
database per test, and PgBouncer in transaction mode. Without a server the proofs skip with the reason;
with `LINTDB_REQUIRE_DB=1` a missing server is a failure."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REQUIRE_DB = os.environ.get("LINTDB_REQUIRE_DB") == "1"


def unavailable(reason: str) -> None:
    """Skip (or, when a database is required, fail) with a clear reason."""
    if REQUIRE_DB:
        pytest.fail(f"LINTDB_REQUIRE_DB=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/proof/" in str(item.fspath):
            item.add_marker(pytest.mark.proof)


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server reachable at ``dsn`` (a postgresql:// URL naming a superuser's database)."""

    dsn: str
    port: int

    def database_dsn(self, name: str) -> str:
        parts = urlsplit(self.dsn)
        return urlunsplit(parts._replace(path=f"/{name}"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user() -> tuple[list[str], int | None]:
    """As root the server must run as `postgres` (initdb refuses root): the command prefix and its uid."""
    if os.geteuid() != 0:
        return [], None
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        unavailable("running as root and there is no `postgres` user to run the server as")
    runuser = shutil.which("runuser")
    if runuser is None:
        unavailable("running as root and `runuser` is not installed")
    return [runuser, "-u", "postgres", "--"], uid


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        unavailable(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


@contextmanager
def throwaway_cluster(name: str, prepare: Callable[[Path], str] | None = None) -> Iterator[Server]:
    """Start a PostgreSQL cluster in a fresh temporary directory and stop and delete it at the end.
    ``prepare(root)`` may write files into the directory first and returns settings added to the server's
    (`-c name=value ...`)."""
    bindir = _bindir()
    if bindir is None:
        unavailable("no PostgreSQL server binaries (pg_config --bindir, or initdb on PATH); set LINTDB_TEST_DSN")
    assert bindir is not None
    prefix, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix=f"lintdb-{name}-"))
    extra = prepare(root) if prepare is not None else ""
    if uid is not None:
        for path in (root, *root.iterdir()):
            os.chown(path, uid, -1)
    data, port = root / "data", _free_port()
    _run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        "initdb",
    )
    options = (
        f"-k {root} -c listen_addresses=127.0.0.1 -p {port} "
        f"-c fsync=off -c full_page_writes=off -c synchronous_commit=off {extra}"
    )
    _run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        "pg_ctl start",
    )
    try:
        yield Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", port)
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """One server for the test session: `LINTDB_TEST_DSN`, or a throwaway cluster dropped at the end."""
    given = os.environ.get("LINTDB_TEST_DSN")
    if given:
        yield Server(given, urlsplit(given).port or 5432)
        return
    with throwaway_cluster("pg") as server:
        yield server


def admin(server: Server, statement: str) -> None:
    """Run one statement outside a transaction as the superuser."""
    import psycopg2

    con = psycopg2.connect(server.dsn)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(statement)
    finally:
        con.close()


@pytest.fixture
def pg_dsn(pg_server: Server) -> Iterator[str]:
    """A fresh, empty database for one test (about 30 ms), dropped afterwards."""
    name = f"proof_{uuid.uuid4().hex[:12]}"
    admin(pg_server, f"CREATE DATABASE {name}")
    try:
        yield pg_server.database_dsn(name)
    finally:
        admin(pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pgbouncer(pg_server: Server) -> Iterator[Server]:
    """PgBouncer in transaction pool mode in front of the test server, on a free port."""
    binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if binary is None:
        unavailable("pgbouncer is not installed (apt-get install pgbouncer)")
    assert binary is not None
    prefix, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="lintdb-bouncer-"))
    port = _free_port()
    (root / "userlist.txt").write_text('"postgres" ""\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={pg_server.port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'userlist.txt'}\nadmin_users = postgres\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nignore_startup_parameters = extra_float_digits\n"
        f"logfile = {root / 'pgbouncer.log'}\n"
    )
    if uid is not None:
        for path in (root, *root.iterdir()):
            os.chown(path, uid, -1)
    process = subprocess.Popen(
        [*prefix, binary, str(root / "pgbouncer.ini")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                unavailable(f"pgbouncer did not start: {output.strip()}")
            time.sleep(0.05)
        yield Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
