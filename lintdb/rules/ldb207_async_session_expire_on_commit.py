"""LDB207 async-session-expire-on-commit."""

from __future__ import annotations

import libcst as cst

from lintdb.async_sessions import Session, Sessions, coroutine_sessions
from lintdb.cst_helpers import dotted, unwrap_await
from lintdb.diagnostics import Applicability
from lintdb.flow import walk
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

ERROR = "`MissingGreenlet: greenlet_spawn has not been called; can't call await_() here`"
# session methods whose result is an ORM instance of the session
LOADERS = frozenset({"get", "get_one", "merge"})
SELECT = frozenset({"sqlalchemy.select", "sqlalchemy.sql.expression.select", "sqlalchemy.future.select"})
SCALAR_RESULTS = frozenset({"scalar_one", "scalar_one_or_none", "scalar"})
ENTITY_RESULTS = frozenset({"first", "one", "one_or_none"})
UNTRACKED = frozenset({"delete", "expunge"})
NOT_LOADED = frozenset({"awaitable_attrs"})  # AsyncAttrs: `await obj.awaitable_attrs.name` loads in the loop

_MODELS = """
from sqlalchemy import String{sa_imports}
from sqlalchemy.ext.asyncio import {asyncio_imports}
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
{factory}

class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
{body}"""

_CREATE = """

async def create_user(name: str) -> dict[str, object]:
    async with new_session() as session:
        user = User(name=name)
        session.add(user)
        await session.commit(){refresh}
        return {{"id": user.id, "name": user.name}}
"""


def create_example(factory_args: str = "engine", refresh: str = "") -> str:
    """`create_user` reads the new user after committing, on a session of `async_sessionmaker(<args>)`."""
    return _MODELS.format(
        sa_imports="",
        asyncio_imports="async_sessionmaker, create_async_engine",
        factory=f"new_session = async_sessionmaker({factory_args})\n",
        body=_CREATE.format(refresh=refresh),
    )


_DEPENDENCY = """

async def get_session() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def rename_user(user_id: int, name: str, session: SessionDep) -> str:
    user = await session.get(User, user_id)
    user.name = name
    await session.commit(){refresh}
    return user.name
"""


def dependency_example(factory_args: str = "engine", refresh: str = "") -> str:
    """A FastAPI endpoint whose session comes from `Depends(get_session)`."""
    source = _MODELS.format(
        sa_imports="",
        asyncio_imports="AsyncSession, async_sessionmaker, create_async_engine",
        factory=f"new_session = async_sessionmaker({factory_args})\n",
        body=_DEPENDENCY.format(refresh=refresh),
    )
    return (
        "from collections.abc import AsyncIterator\nfrom typing import Annotated\n\nfrom fastapi import Depends"
        + source
    )


_GIVEN = """

async def add_user(session: AsyncSession, name: str) -> int:
    user = User(name=name)
    session.add(user)
    await session.commit(){refresh}
    return user.id
"""


def given_session_example(refresh: str = "") -> str:
    """A helper that gets its session from the caller (factory unknown)."""
    return _MODELS.format(
        sa_imports="",
        asyncio_imports="AsyncSession, create_async_engine",
        factory="",
        body=_GIVEN.format(refresh=refresh),
    )


_FIXTURE = """

@pytest.fixture
async def db_session() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        yield session


async def test_rename_user(db_session: AsyncSession) -> None:
    user = await db_session.get(User, 1)
    user.name = "grace"
    await db_session.commit(){refresh}
    assert user.name == "grace"
"""


def fixture_example(factory_args: str = "engine", refresh: str = "") -> str:
    """A pytest test whose session comes from a fixture of the same module."""
    source = _MODELS.format(
        sa_imports="",
        asyncio_imports="AsyncSession, async_sessionmaker, create_async_engine",
        factory=f"new_session = async_sessionmaker({factory_args})\n",
        body=_FIXTURE.format(refresh=refresh),
    )
    return "from collections.abc import AsyncIterator\n\nimport pytest" + source


_FIXTURE_FACTORY = """

@pytest.fixture
def session_factory() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def db_session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session
"""


class AsyncSessionExpireOnCommit(LintRule):
    """
    ## What it does
    Checks for an ORM object's attribute read after `await session.commit()` in the same coroutine,
    with no `await session.refresh(obj)` in between, on an `AsyncSession` whose factory
    (`async_sessionmaker(...)`, `AsyncSession(...)`, `sessionmaker(class_=AsyncSession)`) does not set
    `expire_on_commit=False`. The objects are those the coroutine added (`session.add`,
    `session.add_all`) or loaded (`session.get`, `session.scalar(select(Model))`, `.scalars().first()`).

    The factory is followed into the project's other modules: an imported factory
    (`from app.db import SessionLocal`), a function or FastAPI dependency that yields such a session
    (`Depends(get_db)`, `async with get_session()`), a function returning a factory, and the pytest
    fixture a test's `db_session: AsyncSession` parameter names (in the test module or a conftest.py
    above it, also through a fixture returning the factory). A session whose factory is still not
    visible (a helper's `session: AsyncSession` parameter) comes from one of the project's factories:
    when every AsyncSession factory of the project and of the file sets `expire_on_commit=False` it
    does not expire either; otherwise it counts as a default one, unless
    `async-session-expire-on-commit = false` says your factories turn expiry off.

    ## Why is this bad?
    `commit()` expires every object of the session (`expire_on_commit=True` is the default). The next
    attribute read loads it again, which on an `AsyncSession` is IO outside the greenlet SQLAlchemy
    needs: `sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_()
    here. Was IO attempted in an unexpected place?` (After the session is closed the same read raises
    `DetachedInstanceError`.) It is the most reported async SQLAlchemy error.

    ## Example
    ```python
    async with new_session() as session:
        session.add(user)
        await session.commit()
        return {"id": user.id}
    ```

    Use instead:
    ```python
    async with new_session() as session:
        session.add(user)
        await session.commit()
        await session.refresh(user)
        return {"id": user.id}
    ```

    Or make the sessions with `async_sessionmaker(engine, expire_on_commit=False)`.

    ## Fix safety
    The fix inserts `await session.refresh(obj)` after the commit. It is unsafe: it costs one more
    round trip, and it reloads the row (a concurrent change shows).

    ## Options
    - `async-session-expire-on-commit`

    ## References
    - [sqlalchemy/sqlalchemy#6164: MissingGreenlet after commit](https://github.com/sqlalchemy/sqlalchemy/issues/6164)
    - [sqlalchemy/sqlalchemy#9627: greenlet_spawn has not been called](https://github.com/sqlalchemy/sqlalchemy/discussions/9627)
    - [fastapi-users/fastapi-users#1395: MissingGreenlet](https://github.com/fastapi-users/fastapi-users/issues/1395)
    - [SQLAlchemy: Preventing Implicit IO when Using AsyncSession](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession)
    """

    CODE = "LDB207"
    NAME = "async-session-expire-on-commit"
    MESSAGE = f"{ERROR}: an attribute read after `commit()` expired the object"
    FIX_TITLE = "Refresh the object after the commit"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(create_example("engine, expire_on_commit=False")),
        Valid(create_example(refresh="\n        await session.refresh(user)")),
        Valid(dependency_example("engine, expire_on_commit=False")),
        Valid(given_session_example(), options={"async-session-expire-on-commit": False}),
        Valid(
            _MODELS.format(
                sa_imports="",
                asyncio_imports="async_sessionmaker, create_async_engine",
                factory="new_session = async_sessionmaker(engine)\n",
                body="""

async def create_user(name: str) -> str:
    async with new_session() as session:
        user = User(name=name)
        session.add(user)
        await session.flush()
        created = f"{user.id}:{user.name}"  # read before the commit
        await session.commit()
        return created
""",
            )
        ),
        Valid("""
            from sqlalchemy import String, create_engine
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

            engine = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
            new_session = sessionmaker(engine)


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"

                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str] = mapped_column(String(50))


            def create_user(name: str) -> int:
                with new_session() as session:
                    user = User(name=name)
                    session.add(user)
                    session.commit()
                    return user.id  # a sync session loads it again
            """),
        Valid("""
            from sqlalchemy import String
            from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
            new_session = async_sessionmaker(engine)


            class Base(AsyncAttrs, DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"

                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str] = mapped_column(String(50))


            async def create_user(name: str) -> str:
                async with new_session() as session:
                    user = User(name=name)
                    session.add(user)
                    await session.commit()
                    return await user.awaitable_attrs.name
            """),
        Valid(fixture_example("engine, expire_on_commit=False")),
        # the fixture's session comes from another fixture's factory
        Valid(
            fixture_example().replace(
                "\n\n@pytest.fixture\nasync def db_session() -> AsyncIterator[AsyncSession]:\n"
                "    async with new_session() as session:\n        yield session\n",
                _FIXTURE_FACTORY,
            )
        ),
    )
    INVALID = (
        Invalid(
            create_example(),
            positions=[(25, 23)],
            fixed=create_example(refresh="\n        await session.refresh(user)"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            dependency_example(),
            positions=[(36, 12)],
            fixed=dependency_example(refresh="\n    await session.refresh(user)"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            given_session_example(),
            positions=[(23, 12)],
            fixed=given_session_example(refresh="\n    await session.refresh(user)"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            fixture_example(),
            positions=[(33, 12)],
            fixed=fixture_example(refresh="\n    await db_session.refresh(user)"),
            applicability=Applicability.UNSAFE,
        ),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        sessions = coroutine_sessions(node, self.model)
        if sessions is not None:
            _Coroutine(self, sessions, node).run()

    def expires(self, session: Session) -> bool:
        """Whether a commit expires this session's objects (unknown factories: the option)."""
        return self.options.async_session_expire_on_commit if session.expires is None else session.expires


class _Reads(cst.CSTVisitor):
    """Attribute loads `obj.attr` of the given names (not calls `obj.method()`, not assignments)."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.skipped: set[cst.CSTNode] = set()
        self.found: list[tuple[cst.Attribute, str]] = []

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        self.skipped.add(node.func)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.skipped.add(node.target)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if (
            node not in self.skipped
            and isinstance(node.value, cst.Name)
            and node.value.value in self.names
            and attr not in NOT_LOADED
            and not attr.startswith("__")
        ):
            self.found.append((node, node.value.value))


def _header(statement: cst.BaseStatement) -> list[cst.CSTNode]:
    """The parts of a statement that run before its body (all of a simple statement)."""
    if isinstance(statement, cst.SimpleStatementLine):
        return [statement]
    if isinstance(statement, (cst.If, cst.While)):
        return [statement.test]
    if isinstance(statement, cst.For):
        return [statement.iter]
    if isinstance(statement, cst.With):
        return list(statement.items)
    return []


class _Coroutine:
    """One coroutine's sessions, the objects they hold, and the objects a commit expired."""

    def __init__(self, rule: AsyncSessionExpireOnCommit, sessions: Sessions, function: cst.FunctionDef) -> None:
        self.rule = rule
        self.function = function
        self.scope = sessions
        self.sessions = self.scope.bound
        self.objects: dict[str, str] = {}  # object -> its session
        # object -> (its session's name, the commit, the session)
        self.expired: dict[str, tuple[str, cst.BaseStatement, Session]] = {}

    def run(self) -> None:
        for step in walk(self.function.body.body if isinstance(self.function.body, cst.IndentedBlock) else ()):
            statement = step.statement
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                continue
            for part in _header(statement):
                self._check_reads(part)
            self._effects(statement)

    def _check_reads(self, part: cst.CSTNode) -> None:
        if not self.expired:
            return
        reads = _Reads(set(self.expired))
        part.visit(reads)
        for read, name in reads.found:
            if name not in self.expired:
                continue
            session, commit, made = self.expired.pop(name)
            refresh = cst.parse_statement(f"await {session}.refresh({name})\n")
            fix = FixSpec(
                (Replace(commit, cst.FlattenSentinel([commit, refresh])),),
                Applicability.UNSAFE,
                f"Add `await {session}.refresh({name})` after the commit",
            )
            why = (
                "its factory is not visible: `async-session-expire-on-commit = false` says yours turns it off"
                if made.expires is None
                else "`expire_on_commit` is on"
            )
            self.rule.report(
                read,
                f"{ERROR}: `{name}.{read.attr.value}` is read after `await {session}.commit()` expired `{name}` "
                f"({why}); `await {session}.refresh({name})` after the commit, or make the session with "
                "`expire_on_commit=False`",
                fix=fix,
            )

    def _effects(self, statement: cst.BaseStatement) -> None:
        for name, value in self.scope.bind(statement):
            self.objects.pop(name, None)
            self.expired.pop(name, None)
            owner = self._loaded_by(value)
            if owner is not None:
                self.objects[name] = owner
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Expr):
                    self._session_call(unwrap_await(small.value), statement)

    def _loaded_by(self, value: cst.BaseExpression) -> str | None:
        """The session an ORM object comes from: `await s.get(User, 1)`, `await s.scalar(select(User))`,
        `(await s.execute(select(User))).scalar_one()`, `(await s.scalars(select(User))).first()`,
        `(await s.execute(select(User))).scalars().first()`."""
        call = _method_call(value)
        if call is None:
            return None
        receiver, method, node = call
        if dotted(receiver) in self.sessions:
            if method in LOADERS or (method == "scalar" and self._selects_entity(node)):
                return dotted(receiver)
            return None
        inner = _method_call(receiver)
        if inner is None:
            return None
        inner_receiver, inner_method, inner_node = inner
        owner = dotted(inner_receiver)
        entity_result = (inner_method == "execute" and method in SCALAR_RESULTS) or (
            inner_method == "scalars" and method in ENTITY_RESULTS
        )
        if owner in self.sessions and entity_result and self._selects_entity(inner_node):
            return owner
        executed = _method_call(inner_receiver)
        if inner_method == "scalars" and method in ENTITY_RESULTS and executed is not None:
            session, executed_method, executed_node = executed
            if (
                dotted(session) in self.sessions
                and executed_method == "execute"
                and self._selects_entity(executed_node)
            ):
                return dotted(session)
        return None

    def _selects_entity(self, call: cst.Call) -> bool:
        """`s.execute(select(Model)...)`: the statement selects one name (an entity, not a column)."""
        if not call.args:
            return False
        statement = call.args[0].value
        while isinstance(statement, cst.Call) and isinstance(statement.func, cst.Attribute):
            statement = statement.func.value  # `select(User).where(...)`
        return (
            isinstance(statement, cst.Call)
            and bool(self.rule.qualified(statement.func) & SELECT)
            and len(statement.args) == 1
            and isinstance(statement.args[0].value, cst.Name)
        )

    def _session_call(self, value: cst.BaseExpression, statement: cst.BaseStatement) -> None:
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)):
            return
        session, method = dotted(value.func.value), value.func.attr.value
        if session not in self.sessions:
            return
        args = [a.value for a in value.args if a.keyword is None]
        if method == "add" and args and isinstance(args[0], cst.Name):
            self.objects[args[0].value] = session
        elif method == "add_all" and args and isinstance(args[0], (cst.List, cst.Tuple)):
            for element in args[0].elements:
                if isinstance(element.value, cst.Name):
                    self.objects[element.value.value] = session
        elif method == "refresh" and args and isinstance(args[0], cst.Name):
            self.expired.pop(args[0].value, None)
        elif method in UNTRACKED and args and isinstance(args[0], cst.Name):
            self.objects.pop(args[0].value, None)
            self.expired.pop(args[0].value, None)
        elif method == "commit" and self.rule.expires(self.sessions[session]):
            for name, owner in self.objects.items():
                if owner == session:
                    self.expired[name] = (session, statement, self.sessions[session])


def _method_call(value: cst.BaseExpression) -> tuple[cst.BaseExpression, str, cst.Call] | None:
    """(receiver, method, call) of `receiver.method(...)`, awaited or not."""
    value = unwrap_await(value)
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        return unwrap_await(value.func.value), value.func.attr.value, value
    return None
