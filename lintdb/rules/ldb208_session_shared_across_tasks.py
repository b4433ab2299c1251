"""LDB208 session-shared-across-tasks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import libcst as cst

from lintdb.async_sessions import Sessions, coroutine_sessions
from lintdb.cst_helpers import dotted, statements
from lintdb.flow import all_calls, calls_in, suites, walk
from lintdb.model.handles import ASYNCPG_CONNECTIONS
from lintdb.rule import Invalid, LintRule, Valid

GATHER = frozenset({"asyncio.gather", "asyncio.tasks.gather"})
CREATE_TASK = frozenset({"asyncio.create_task", "asyncio.tasks.create_task", "asyncio.ensure_future"})
TASK_GROUP = frozenset({"asyncio.TaskGroup", "asyncio.taskgroups.TaskGroup"})
SESSION_ERROR = (
    "`InvalidRequestError: This session is provisioning a new connection; concurrent operations are not permitted`"
)
# Session methods that run a statement (the session then holds its connection until it ends the
# transaction), and those that end it.
RUNS_STATEMENT = frozenset({"execute", "scalar", "scalars", "get", "get_one", "stream", "stream_scalars", "connection"})
ENDS_TRANSACTION = frozenset({"commit", "rollback", "close", "reset", "invalidate"})
CONNECTION_ERROR = "`InterfaceError: cannot perform operation: another operation is in progress`"

_MODELS = """
import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import {imports}

engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
{factory}

async def count(session: AsyncSession, table: str) -> int:
    return (await session.execute(text(f"SELECT count(*) FROM {{table}}"))).scalar_one()
{body}"""

_DASHBOARD = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    users, orders = await asyncio.gather(count(session, "users"), count(session, "orders"))
    return users, orders
"""

_WARM = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    await session.execute(text("SELECT 1"))
    users, orders = await asyncio.gather(count(session, "users"), count(session, "orders"))
    return users, orders
"""

_WARM_THEN_COMMITTED = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    await session.execute(text("SELECT 1"))
    await session.commit()
    users, orders = await asyncio.gather(count(session, "users"), count(session, "orders"))
    return users, orders
"""

_STORED = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    users = count(session, "users")
    orders = count(session, "orders")
    found = await asyncio.gather(users, orders)
    return found[0], found[1]
"""

_SEQUENTIAL = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    return await count(session, "users"), await count(session, "orders")
"""

_AWAITED_TASKS = """

async def dashboard(session: AsyncSession) -> tuple[int, int]:
    users = await asyncio.create_task(count(session, "users"))
    orders = await asyncio.create_task(count(session, "orders"))
    return users, orders
"""

_PER_TASK = """

async def count_in_own_session(factory: async_sessionmaker[AsyncSession], table: str) -> int:
    async with factory() as session:
        return await count(session, table)


async def dashboard() -> tuple[int, int]:
    users, orders = await asyncio.gather(
        count_in_own_session(new_session, "users"), count_in_own_session(new_session, "orders")
    )
    return users, orders
"""

_COMPREHENSION = """

async def sizes(tables: list[str]) -> list[int]:
    async with new_session() as session:
        return await asyncio.gather(*(count(session, table) for table in tables))
"""

_TASKS = """

async def sizes(session: AsyncSession, tables: list[str]) -> list[int]:
    tasks = [asyncio.create_task(count(session, table)) for table in tables]
    return [await task for task in tasks]
"""


def session_example(body: str, factory: bool = False) -> str:
    """Counting rows of two tables through an `AsyncSession` (``body`` decides how)."""
    return _MODELS.format(
        imports="AsyncSession, async_sessionmaker, create_async_engine"
        if factory
        else "AsyncSession, create_async_engine",
        factory="new_session = async_sessionmaker(engine)\n" if factory else "",
        body=body,
    )


_ASYNCPG = """
import asyncio

import asyncpg


async def counts(dsn: str) -> tuple[int, int]:
{body}
"""

_TASK_GROUP = """\
    con = await asyncpg.connect(dsn)
    try:
        async with asyncio.TaskGroup() as tg:
            users = tg.create_task(con.fetchval("SELECT count(*) FROM users"))
            orders = tg.create_task(con.fetchval("SELECT count(*) FROM orders"))
        return users.result(), orders.result()
    finally:
        await con.close()"""

_POOL = """\
    async with asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:
        users, orders = await asyncio.gather(
            pool.fetchval("SELECT count(*) FROM users"), pool.fetchval("SELECT count(*) FROM orders")
        )
        return users, orders"""


def asyncpg_example(body: str) -> str:
    """asyncpg counting two tables at once (``body`` decides how)."""
    return _ASYNCPG.format(body=body)


class SessionSharedAcrossTasks(LintRule):
    """
    ## What it does
    Checks for one SQLAlchemy `AsyncSession` or one asyncpg `Connection` used by two or more
    awaitables that run at once: the arguments of `asyncio.gather(...)` (a comprehension counts as
    many), tasks of an `asyncio.TaskGroup`, or `asyncio.create_task`/`ensure_future`. A handle is
    used when it is a call's receiver (`session.execute(...)`) or argument (`count(session, ...)`);
    a name gathered stands for the call it was assigned (`users = count(session)`, then
    `gather(users, orders)`).

    Sessions and connections are known from annotations, factories (`async_sessionmaker`,
    `AsyncSession(...)`, `asyncpg.connect`, `pool.acquire()`) and FastAPI dependencies, never from a
    variable's name: an `httpx`/`aiohttp` session, an asyncpg `Pool`, an engine or a sessionmaker
    passed to each task are fine.

    A session that already holds its connection is not reported: an awaited statement on it
    (`execute`, `scalar`, `get`, ...) earlier in the coroutine, in the same block or at its top level
    (a `with` body counts as the block around it), with no `commit()`, `rollback()` or `close()` after
    it. SQLAlchemy's asyncpg adapter then queues the gathered statements on that connection.

    ## Default
    Off by default: on the real-world ledger (issue 13) 10 of 12 findings were false positives, gathers on a
    session that already ran a statement in the same coroutine. Those are not reported any more (below);
    of the 4 findings now, 1 is a false positive (a session warmed by the caller, which loaded the ORM
    object it passes in), still above the 5 % that on-by-default rules allow. Select it with `--select LDB208`.

    ## Why is this bad?
    A session, like a connection, runs one statement at a time. When two tasks start on a session that
    has no connection yet, the second one fails: `InvalidRequestError: This session is provisioning a
    new connection; concurrent operations are not permitted`; on one asyncpg connection:
    `InterfaceError: cannot perform operation: another operation is in progress`. Tests often pass:
    aiosqlite serialises everything, and a session that already holds its connection queues the
    statements in SQLAlchemy's adapter (while the ORM state the tasks share is still unsafe). A
    `commit()` gives the connection back to the pool: when no connection is idle there (`NullPool`, or
    other requests hold them all), the gather after it provisions a new one and fails.

    ## Example
    ```python
    await asyncio.gather(count(session, "users"), count(session, "orders"))
    ```

    Use instead:
    ```python
    async def count_in_own_session(factory, table):
        async with factory() as session:
            return await count(session, table)

    await asyncio.gather(count_in_own_session(new_session, "users"), count_in_own_session(new_session, "orders"))
    ```

    With asyncpg, use a pool (`pool.fetchval(...)`, or `async with pool.acquire()` in each task).

    ## Fix safety
    There is no automatic fix: each task needs its own session or connection, and its own
    transaction.

    ## References
    - [sqlalchemy/sqlalchemy#10092: This session is provisioning a new connection](https://github.com/sqlalchemy/sqlalchemy/discussions/10092)
    - [sqlalchemy/sqlalchemy#9973: concurrent operations are not permitted](https://github.com/sqlalchemy/sqlalchemy/discussions/9973)
    - [MagicStack/asyncpg#56: another operation is in progress](https://github.com/MagicStack/asyncpg/issues/56)
    - [SQLAlchemy: Using AsyncSession with Concurrent Tasks](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-asyncsession-with-concurrent-tasks)
    """

    CODE = "LDB208"
    DEFAULT_ENABLED = False
    NAME = "session-shared-across-tasks"
    MESSAGE = f"{SESSION_ERROR}: one session used by tasks that run at once"

    VALID = (
        Valid(session_example(_PER_TASK, factory=True)),
        Valid(session_example(_SEQUENTIAL)),
        Valid(session_example(_AWAITED_TASKS)),
        Valid(asyncpg_example(_POOL)),
        Valid("""
            import asyncio


            class Api:
                async def get(self, n: int) -> int:
                    await asyncio.sleep(0)
                    return n


            async def both() -> list[int]:
                session = Api()  # not a database session, whatever its name
                return await asyncio.gather(session.get(1), session.get(2))
            """),
        Valid(session_example(_WARM)),
    )
    INVALID = (
        Invalid(session_example(_DASHBOARD), positions=[(14, 27)]),
        Invalid(session_example(_COMPREHENSION, factory=True), positions=[(16, 22)]),
        Invalid(asyncpg_example(_TASK_GROUP), positions=[(9, 9)]),
        Invalid(session_example(_TASKS), positions=[(14, 14)]),
        Invalid(session_example(_WARM_THEN_COMMITTED), positions=[(16, 27)]),
        Invalid(session_example(_STORED), positions=[(16, 19)]),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        sessions = coroutine_sessions(node, self.model)
        if sessions is None:
            return
        top = statements(node.body)
        holding: dict[str, list[int]] = {}  # session -> the straight-line suites where it took a connection
        # a `with` body runs whenever the statement before the `with` does: it counts as the enclosing suite
        straight: dict[int, int] = {id(top): id(top)}
        loose_tasks: list[tuple[cst.Call, int]] = []
        loose_holding: set[str] = set()
        stored: dict[str, cst.BaseExpression] = {}  # name -> the call whose coroutine it holds, not awaited yet
        for step in walk(top):
            statement = step.statement
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            here = straight.setdefault(id(step.suite), id(step.suite))
            if isinstance(statement, cst.With):
                straight.update((id(suite), here) for suite in suites(statement))
            held = {name for name, where in holding.items() if id(top) in where or here in where}
            handles = {name: kind for name, kind in self._handles(sessions, statement).items() if name not in held}
            repeated, awaited = _repeated_and_awaited(statement)
            in_gather: set[cst.Call] = set()
            for call in calls_in(statement):
                names = self.qualified(call.func)
                if names & GATHER:
                    self._check(call, "`asyncio.gather` runs", _gathered(call, stored), handles)
                    in_gather.update(c for arg in call.args for c in all_calls(arg.value))
                elif names & CREATE_TASK and call.args and call not in awaited | in_gather:  # `await` waits
                    loose_tasks.append((call, 2 if call in repeated or _in_loop(node, statement) else 1))
                    loose_holding = held
            if isinstance(statement, cst.With):
                for item in statement.items:
                    if isinstance(item.item, cst.Call) and self.qualified(item.item.func) & TASK_GROUP and item.asname:
                        group = dotted(item.asname.name)
                        if group is not None:
                            self._check(statement, "this `TaskGroup` runs", _tasks_of(group, statement), handles)
            _track_connections(statement, here, awaited, set(sessions.bound), holding)
            for name, value in sessions.bind(statement):
                stored.pop(name, None)
                if isinstance(value, cst.Call):
                    stored[name] = value
        if len(loose_tasks) > 1 or any(count > 1 for _, count in loose_tasks):
            tasks = [(c.args[0].value, count) for c, count in loose_tasks]
            last = loose_tasks[-1][0]
            handles = {n: k for n, k in self._handles(sessions, last).items() if n not in loose_holding}
            self._check(last, "`asyncio.create_task` runs", tasks, handles)

    def _handles(self, sessions: Sessions, node: cst.CSTNode) -> dict[str, str]:
        """name -> "session" or "connection", for the handles bound before ``node``'s statement."""
        found = {name: "session" for name in sessions.bound}
        for name, handle in self.model.handles_at(node).items():
            if handle.kind in ASYNCPG_CONNECTIONS:
                found[name] = "connection"
        return found

    def _check(
        self,
        where: cst.CSTNode,
        runner: str,
        awaitables: Sequence[tuple[cst.BaseExpression, int]],
        handles: dict[str, str],
    ) -> None:
        uses: Counter[str] = Counter()
        for awaitable, count in awaitables:
            for name in _used(awaitable) & set(handles):
                uses[name] += count
        for name, count in sorted(uses.items()):
            if count < 2:
                continue
            if handles[name] == "session":
                message = (
                    f"{SESSION_ERROR}: the `AsyncSession` `{name}` is used by awaitables that {runner} at once; "
                    "give each task its own session (`async with factory() as session` inside it)"
                )
            else:
                message = (
                    f"{CONNECTION_ERROR}: the asyncpg connection `{name}` is used by awaitables that {runner} "
                    "at once; use a pool (`pool.fetch(...)`, or `async with pool.acquire()` in each task)"
                )
            self.report(where, message)


def _track_connections(
    statement: cst.BaseStatement,
    suite: int,
    awaited: set[cst.BaseExpression],
    sessions: set[str],
    holding: dict[str, list[int]],
) -> None:
    """Record the sessions an awaited statement of ``statement`` gives a connection to (in ``suite``), and
    forget those whose transaction it ends (commit, rollback, close: the connection goes back to the pool)."""
    for call in calls_in(statement):
        if call not in awaited or not isinstance(call.func, cst.Attribute):
            continue
        name = dotted(call.func.value)
        if name not in sessions:
            continue
        method = call.func.attr.value
        if method in ENDS_TRANSACTION:
            holding.pop(name, None)
        elif method in RUNS_STATEMENT:
            holding.setdefault(name, []).append(suite)


def _gathered(call: cst.Call, stored: dict[str, cst.BaseExpression]) -> list[tuple[cst.BaseExpression, int]]:
    """The awaitables of `gather(...)`, with how many each stands for (a comprehension: many); a name
    stands for the call ``stored`` says it holds (`users = count(session)`, then `gather(users, ...)`)."""
    found = []
    for arg in call.args:
        if arg.keyword is not None:
            continue
        value = arg.value
        if arg.star == "*" and isinstance(value, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            found.append((value.elt, 2))
        elif arg.star == "":
            found.append((stored.get(value.value, value) if isinstance(value, cst.Name) else value, 1))
    return found


def _tasks_of(group: str, block: cst.With) -> list[tuple[cst.BaseExpression, int]]:
    """The coroutines `group.create_task(...)` starts inside the `async with TaskGroup()` block."""
    found = []
    for step in walk(statements(block.body)):
        for call in calls_in(step.statement):
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "create_task"
                and dotted(call.func.value) == group
                and call.args
            ):
                found.append((call.args[0].value, 2 if _in_loop(block, step.statement) else 1))
    return found


def _in_loop(root: cst.CSTNode, statement: cst.BaseStatement) -> bool:
    """Whether a statement sits in a `for`/`while` body under ``root``."""

    def inside(body: Sequence[cst.BaseStatement], looping: bool) -> bool | None:
        for candidate in body:
            if candidate is statement:
                return looping
            loop = looping or isinstance(candidate, (cst.For, cst.While))
            for suite in suites(candidate):
                found = inside(suite, loop)
                if found is not None:
                    return found
        return None

    body = root.body if isinstance(root, (cst.FunctionDef, cst.With)) else None
    return bool(inside(statements(body), False)) if body is not None else False


class _TaskShapes(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: set[cst.Call] = set()
        self.awaited: set[cst.BaseExpression] = set()

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(node.expression)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def _comprehension(self, elt: cst.BaseExpression) -> None:
        self.calls.update(all_calls(elt))

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node.elt)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node.elt)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node.elt)


def _repeated_and_awaited(statement: cst.BaseStatement) -> tuple[set[cst.Call], set[cst.BaseExpression]]:
    """The calls of a simple statement that a comprehension makes once per item, and the awaited expressions."""
    finder = _TaskShapes()
    if isinstance(statement, cst.SimpleStatementLine):
        statement.visit(finder)
    return finder.calls, finder.awaited


def _used(awaitable: cst.BaseExpression) -> set[str]:
    """Names an awaitable uses as a call's receiver or argument (`s.execute(...)`, `count(s, ...)`)."""
    names = set()
    for call in all_calls(awaitable):  # the awaitable itself included
        for arg in call.args:
            if isinstance(arg.value, cst.Name):
                names.add(arg.value.value)
        if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
            names.add(call.func.value.value)
    return names
