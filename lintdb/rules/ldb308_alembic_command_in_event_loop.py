"""LDB308 alembic-command-in-event-loop."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import libcst as cst

from lintdb.cst_fixes import mentions
from lintdb.cst_helpers import dotted
from lintdb.diagnostics import Applicability
from lintdb.flow import all_calls, walk
from lintdb.model.project import MigrationEnv, read_env
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

# The commands that run env.py unconditionally (revision, merge, history, show and edit only with
# `revision_environment` or autogenerate).
ENV_COMMANDS = frozenset({"upgrade", "downgrade", "stamp", "current", "check", "ensure_version"})
_QUALIFIED = {f"alembic.command.{name}": name for name in ENV_COMMANDS}
# Where env.py is looked for when alembic.ini does not name it: up to three folders below the project root
# (`src/app/alembic/env.py`).
ENV_PATTERNS = ("env.py", "*/env.py", "*/*/env.py", "*/*/*/env.py")

_FASTAPI = """
{extra_import}from contextlib import asynccontextmanager

from alembic import command
from alembic.config import Config
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    {migrate}
    yield


app = FastAPI(lifespan=lifespan)
"""


def fastapi_app(migrate: str, extra_import: str = "") -> str:
    """A FastAPI app whose lifespan runs ``migrate`` (one statement) at startup."""
    return _FASTAPI.format(migrate=migrate, extra_import=extra_import)


def _asyncio_name(module: cst.Module) -> tuple[str | None, cst.BaseStatement | None]:
    """The name `import asyncio` binds at module level, or (when it must be added) the statement to put
    it before; (None, None) when `asyncio` names something else."""
    first_import: cst.BaseStatement | None = None
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if dotted(alias.name) == "asyncio":
                        if alias.asname is None:
                            return "asyncio", None
                        if isinstance(alias.asname.name, cst.Name):
                            return alias.asname.name.value, None
            future = isinstance(small, cst.ImportFrom) and dotted(small.module or cst.Name("_")) == "__future__"
            if first_import is None and isinstance(small, (cst.Import, cst.ImportFrom)) and not future:
                first_import = statement
    if mentions(module, {"asyncio"}):
        return None, None
    return "asyncio", first_import or (module.body[0] if module.body else None)


@lru_cache(maxsize=64)
def project_envs(root: Path) -> tuple[MigrationEnv, ...]:
    """The Alembic env.py files near the top of a project (those that call `context.configure`)."""
    found = []
    for pattern in ENV_PATTERNS:
        for path in sorted(root.glob(pattern)):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            env = read_env(path) if "context.configure" in text else None
            if env is not None:
                found.append(env)
    return tuple(found)


class AlembicCommandInEventLoop(LintRule):
    """
    ## What it does
    Checks for calls of `alembic.command.upgrade`, `downgrade`, `stamp`, `current`, `check` and
    `ensure_version` made directly inside an `async def`: a FastAPI lifespan, a startup hook, an async
    `main()`.

    Only when the project's env.py raises there: the one alembic.ini's `script_location` names, or else
    those up to three folders below the project root. An env.py that runs no loop of its own (the sync
    templates) or that checks for a running loop first (`asyncio.get_running_loop()`, then a thread or
    `nest_asyncio`) is not judged: the call blocks the event loop for the migration, but works. With no
    env.py found, the async template is assumed.

    ## Default
    Off by default: it has no false positive on the real-world ledger any more (the 5 it had were on a
    sync env.py or one that moves to a thread when a loop is running), but it finds no real bug there
    either: the ledger's one known case (a lifespan reaching an always-`asyncio.run` env.py through
    `run_sync`) is a shape it does not see. Select it with `--select LDB308`.

    ## Why is this bad?
    These commands run `env.py`, and the async `env.py` (`alembic init -t async`) runs its migrations
    with `asyncio.run(...)`. Called from a coroutine, the event loop is already running, and the
    application fails at startup with
    `RuntimeError: asyncio.run() cannot be called from a running event loop` (and
    `RuntimeWarning: coroutine 'run_async_migrations' was never awaited`). With a sync `env.py` the call
    works, but blocks the event loop for the whole migration.

    Calls in a sync function, a lambda or a nested `def` are left alone, as are the commands passed
    to `asyncio.to_thread`, `run_in_executor` or `AsyncConnection.run_sync`.

    ## Example
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        command.upgrade(Config("alembic.ini"), "head")
        yield
    ```

    Use instead:
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(command.upgrade, Config("alembic.ini"), "head")
        yield
    ```

    The command then runs in a worker thread, which has no running loop, so `env.py`'s `asyncio.run`
    starts one of its own.

    ## Fix safety
    The fix is safe: the command runs with the same arguments and the coroutine waits for it to finish;
    it adds `import asyncio` when the module lacks it. A call inside a larger expression is reported
    without a fix.

    ## References
    - [alembic#1353: Alembic can't run migrations in async mode if loop already exists](https://github.com/sqlalchemy/alembic/issues/1353)
    - [alembic#869](https://github.com/sqlalchemy/alembic/issues/869)
    - [alembic#1606: migrations during app startup with async engine](https://github.com/sqlalchemy/alembic/issues/1606)
    - [Alembic cookbook: Programmatic API use (connection sharing) with asyncio](https://alembic.sqlalchemy.org/en/latest/cookbook.html#programmatic-api-use-connection-sharing-with-asyncio)
    """

    CODE = "LDB308"
    DEFAULT_ENABLED = False
    NAME = "alembic-command-in-event-loop"
    MESSAGE = (
        "`RuntimeError: asyncio.run() cannot be called from a running event loop`: an Alembic command in a coroutine"
    )
    FIX_TITLE = "Run the command in a thread with `await asyncio.to_thread(...)`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(
            fastapi_app('await asyncio.to_thread(command.upgrade, Config("alembic.ini"), "head")', "import asyncio\n")
        ),
        Valid(
            fastapi_app(
                'await asyncio.get_running_loop().run_in_executor(None, command.upgrade, Config("alembic.ini"), "head")',
                "import asyncio\n",
            )
        ),
        Valid(
            fastapi_app(
                'await asyncio.get_running_loop().run_in_executor(None, lambda: command.upgrade(Config("alembic.ini"), "head"))',
                "import asyncio\n",
            )
        ),
        Valid("""
            import asyncio
            import os

            from alembic import command
            from alembic.config import Config
            from sqlalchemy.ext.asyncio import create_async_engine


            def run_upgrade(connection, cfg):
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")


            async def run_async_upgrade():
                engine = create_async_engine(os.environ["DATABASE_URL"])
                async with engine.begin() as conn:
                    await conn.run_sync(run_upgrade, Config("alembic.ini"))
                await engine.dispose()


            def main():
                asyncio.run(run_async_upgrade())
            """),
        Valid("""
            from alembic import command
            from alembic.config import Config


            def main():
                command.upgrade(Config("alembic.ini"), "head")
            """),
        Valid("""
            class Commands:
                def upgrade(self, cfg, revision):
                    return revision


            command = Commands()


            async def migrate():
                command.upgrade(None, "head")
            """),
    )
    INVALID = (
        Invalid(
            fastapi_app('command.upgrade(Config("alembic.ini"), "head")'),
            positions=[(10, 5)],
            fixed=fastapi_app(
                'await asyncio.to_thread(command.upgrade, Config("alembic.ini"), "head")', "import asyncio\n"
            ),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from __future__ import annotations

            import asyncio as aio

            from alembic import command as alembic_command
            from alembic.config import Config


            async def on_startup() -> None:
                cfg = Config("alembic.ini")
                alembic_command.stamp(cfg, "base")
                alembic_command.upgrade(cfg, "head", sql=False)


            def main() -> None:
                aio.run(on_startup())
            """,
            positions=[(11, 5), (12, 5)],
            fixed="""
            from __future__ import annotations

            import asyncio as aio

            from alembic import command as alembic_command
            from alembic.config import Config


            async def on_startup() -> None:
                cfg = Config("alembic.ini")
                await aio.to_thread(alembic_command.stamp, cfg, "base")
                await aio.to_thread(alembic_command.upgrade, cfg, "head", sql=False)


            def main() -> None:
                aio.run(on_startup())
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            import alembic.command
            from alembic.config import Config


            class Migrator:
                def __init__(self) -> None:
                    self.cfg = Config("alembic.ini")

                async def up(self) -> str:
                    alembic.command.upgrade(self.cfg, "head")
                    return "upgraded"
            """,
            positions=[(10, 9)],
            fixed="""
            import asyncio
            import alembic.command
            from alembic.config import Config


            class Migrator:
                def __init__(self) -> None:
                    self.cfg = Config("alembic.ini")

                async def up(self) -> str:
                    await asyncio.to_thread(alembic.command.upgrade, self.cfg, "head")
                    return "upgraded"
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            from alembic.command import current
            from alembic.config import Config


            async def show() -> None:
                print(current(Config("alembic.ini")))
            """,
            positions=[(6, 11)],
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        project = self.model.project
        envs = (project.env,) if project.env is not None else project_envs(project.root) if project.root else ()
        # With env.py known, only one that starts its own loop without looking for a running one raises.
        self.raises = not envs or any(env.raises_in_running_loop for env in envs)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.raises or node.asynchronous is None or not isinstance(node.body, cst.IndentedBlock):
            return
        whole: set[int] = set()  # ids of calls that are a whole statement or assigned value: fixable
        for step in walk(node.body.body):
            if isinstance(step.statement, cst.SimpleStatementLine):
                for small in step.statement.body:
                    if isinstance(small, (cst.Expr, cst.Assign, cst.AnnAssign, cst.Return)):
                        whole.add(id(small.value))
        for call in all_calls(node.body):
            name = next((_QUALIFIED[q] for q in self.qualified(call.func) if q in _QUALIFIED), None)
            if name is not None:
                self.report(
                    call,
                    "`RuntimeError: asyncio.run() cannot be called from a running event loop`: "
                    f"`command.{name}` runs env.py, whose async template calls `asyncio.run()`, "
                    "inside this coroutine's running loop; run it in a thread with `await asyncio.to_thread(...)`",
                    fix=self._fix(call) if id(call) in whole else None,
                )

    def _fix(self, call: cst.Call) -> FixSpec | None:
        asyncio, before = _asyncio_name(self.module)
        if asyncio is None:
            return None
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args = [cst.Arg(call.func, comma=comma if call.args else cst.MaybeSentinel.DEFAULT), *call.args]
        threaded = call.with_changes(func=cst.Attribute(cst.Name(asyncio), cst.Name("to_thread")), args=args)
        changes: list[Replace] = [Replace(call, cst.Await(threaded))]
        if before is not None:
            statement = cst.parse_statement("import asyncio\n")
            changes.append(Replace(before, cst.FlattenSentinel([statement, before])))
        return FixSpec(tuple(changes), Applicability.SAFE, f"Run it with `await {asyncio}.to_thread(...)`")
