"""Rules that judge a file by what its project says: LDB209 only where asyncpg is in play (the file or the
declared dependencies), LDB308 only where the migrations' env.py runs them on an event loop of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lintdb.rules.ldb209_aware_datetime_in_naive_column import AwareDatetimeInNaiveColumn as LDB209
from lintdb.rules.ldb308_alembic_command_in_event_loop import AlembicCommandInEventLoop as LDB308


def _codes(root: Path, path: str, code: str) -> list[tuple[str, int]]:
    command = [sys.executable, "-m", "lintdb", "check", "--no-cache", "--select", code, "--output-format", "json"]
    run = subprocess.run([*command, path], cwd=root, capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return [(d["code"], d["location"]["row"]) for d in json.loads(run.stdout)]


def test_ldb209_reports_a_file_without_asyncpg_evidence_when_the_project_declares_asyncpg(tmp_path: Path) -> None:
    source = LDB209.VALID[-1].source()  # the bad model, with no asyncpg in the file
    assert "asyncpg" not in source
    (tmp_path / "models.py").write_text(source, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["psycopg2"]\n', encoding="utf-8")
    assert _codes(tmp_path, "models.py", "LDB209") == []
    (tmp_path / "requirements.txt").write_text("asyncpg==0.30\n", encoding="utf-8")
    assert _codes(tmp_path, "models.py", "LDB209") == [("LDB209", 16)]


ASYNC_ENV = """from alembic import context


def run_migrations_online():
    context.configure(connection=None)
{run}
"""
GUARDED = """    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async_migrations())
    else:
        run_in_a_thread()"""


def test_ldb308_judges_by_the_env_py_below_the_project_root(tmp_path: Path) -> None:
    source = LDB308.INVALID[0].source()
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    assert _codes(tmp_path, "app.py", "LDB308") == [("LDB308", 10)]  # no env.py found: the async template assumed
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    env = tmp_path / "src" / "app" / "alembic" / "env.py"  # not named by an alembic.ini at the root
    env.parent.mkdir(parents=True)
    env.write_text(ASYNC_ENV.format(run="    asyncio.run(run_async_migrations())"), encoding="utf-8")
    assert _codes(tmp_path, "app.py", "LDB308") == [("LDB308", 10)]
    env.write_text(ASYNC_ENV.format(run=GUARDED), encoding="utf-8")
    assert _codes(tmp_path, "app.py", "LDB308") == []
    env.write_text(ASYNC_ENV.format(run="    run_migrations()"), encoding="utf-8")  # sync: blocks, raises nothing
    assert _codes(tmp_path, "app.py", "LDB308") == []
