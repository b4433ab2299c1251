"""Which names in a coroutine are SQLAlchemy `AsyncSession`s, and whether their factory turns
`expire_on_commit` off.

A session is known from its annotation (`session: AsyncSession`, `Annotated[AsyncSession, ...]` and
aliases of it), its factory (`AsyncSession(engine)`, `async_sessionmaker(...)()`,
`sessionmaker(class_=AsyncSession)()`, `factory.begin()`), or a FastAPI `Depends(get_session)` whose
dependency yields from such a factory; never from a name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, unwrap_await
from lintdb.model.project_index import (
    ASYNC_SESSION,
    ASYNC_SESSIONMAKER,
    FACTORY,
    MAKER,
    SESSION,
    SESSIONMAKER,
    Found,
)

if TYPE_CHECKING:
    from lintdb.model import SemanticModel

FACTORIES = ASYNC_SESSIONMAKER | SESSIONMAKER
DEPENDS = frozenset({"fastapi.Depends", "fastapi.param_functions.Depends"})
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
EXPIRE = "expire_on_commit"

Qualified = Callable[[cst.CSTNode], set[str]]
Resolve = Callable[[cst.Name], "cst.BaseExpression | None"]
Defined = Callable[[cst.BaseExpression], "Found | None"]  # what another module of the project defines
Fixture = Callable[[str], "Found | None"]  # what a conftest.py fixture gives


@dataclass(frozen=True)
class Session:
    """An `AsyncSession`: ``expires`` is True (the default), False (`expire_on_commit=False`), or None
    when its factory is not known."""

    expires: bool | None


def _expires(call: cst.Call) -> bool | None:
    setting = call_arg(call, None, EXPIRE)
    if setting is None:
        return True
    value = setting.value
    return {"True": True, "False": False}.get(value.value) if isinstance(value, cst.Name) else None


class SessionFinder:
    """Sessions made by expressions, parameters and FastAPI dependencies of one module."""

    def __init__(
        self,
        module: cst.Module,
        qualified: Qualified,
        resolve: Resolve,
        defined: Defined = lambda _: None,
        fixture: Fixture = lambda _: None,
    ) -> None:
        self.module = module
        self.qualified = qualified
        self.resolve = resolve
        self.defined = defined
        self.fixture = fixture

    def made_by(self, value: cst.BaseExpression, depth: int = 0) -> Session | None:
        """The session an expression makes (`AsyncSession(engine)`, `factory()`, `factory.begin()`)."""
        value = unwrap_await(value)
        if not isinstance(value, cst.Call) or depth > 4:
            return None
        names = self.qualified(value.func)
        if names & ASYNC_SESSION:
            return Session(_expires(value))
        func = value.func
        if isinstance(func, cst.Attribute) and func.attr.value == "begin":
            func = func.value  # `async with factory.begin() as session`
        made = self.factory(func, depth + 1)
        if made is None and isinstance(func, (cst.Name, cst.Attribute)) and self.resolve_name(func) is None:
            given = self.defined(func)  # `async with get_session() as session`, imported
            made = Session(given.expires) if given is not None and given.kind == SESSION else None
        if made is None and isinstance(func, cst.Name):
            made = self._fixture_factory(func.value, depth + 1)  # a fixture's `session_factory()`
        return made

    def _fixture_factory(self, name: str, depth: int) -> Session | None:
        """The factory a fixture of this module named ``name`` returns (`return async_sessionmaker(...)`)."""
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name and is_fixture(statement):
                returns = _Returns()
                statement.body.visit(returns)
                made = {self.factory(value, depth) for value in returns.values}
                return made.pop() if len(made) == 1 else None
        return None

    def resolve_name(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        return self.resolve(node) if isinstance(node, cst.Name) else None

    def factory(self, node: cst.BaseExpression, depth: int = 0) -> Session | None:
        """The sessions a factory makes: `async_sessionmaker(...)`, `sessionmaker(class_=AsyncSession)`,
        or a name assigned one of them."""
        if depth > 4:
            return None
        if isinstance(node, (cst.Name, cst.Attribute)):
            value = self.resolve_name(node)
            if value is not None:
                return self.factory(value, depth + 1)
            return self._defined(node, FACTORY)  # `from app.db import SessionLocal`
        if not isinstance(node, cst.Call):
            return None
        names = self.qualified(node.func.value if isinstance(node.func, cst.Subscript) else node.func)
        if names & ASYNC_SESSIONMAKER:
            return Session(_expires(node))
        class_ = call_arg(node, None, "class_")
        if names & SESSIONMAKER and class_ is not None and self.qualified(class_.value) & ASYNC_SESSION:
            return Session(_expires(node))
        return self._defined(node.func, MAKER)  # `get_session_maker()`, imported

    def _defined(self, node: cst.BaseExpression, kind: str) -> Session | None:
        """The sessions of a ``kind`` of definition another module of the project gives."""
        found = self.defined(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        return Session(found.expires) if found is not None and found.kind == kind else None

    def of_param(self, param: cst.Param) -> Session | None:
        """The session a parameter holds, from its annotation or its `Depends(...)` default."""
        depends = [param.default] if param.default is not None else []
        annotated = False
        if param.annotation is not None:
            annotation = param.annotation.annotation
            if isinstance(annotation, cst.Name) and not self.qualified(annotation) & ASYNC_SESSION:
                annotation = self.resolve(annotation) or annotation  # `SessionDep = Annotated[...]`
            annotated, extra = self._annotation(annotation)
            depends += extra
        for default in depends:
            found = self._dependency(default)
            if found is not None:
                return found
        return Session(None) if annotated else None

    def _annotation(self, node: cst.BaseExpression) -> tuple[bool, list[cst.BaseExpression]]:
        """Whether an annotation is `AsyncSession` (possibly `Annotated`), and its metadata."""
        if self.qualified(node) & ASYNC_SESSION:
            return True, []
        if isinstance(node, cst.Subscript) and self.qualified(node.value) & ANNOTATED:
            parts = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
            if parts and self.qualified(parts[0]) & ASYNC_SESSION:
                return True, parts[1:]
        return False, []

    def _dependency(self, node: cst.BaseExpression) -> Session | None:
        """The session `Depends(get_session)` gives, when `get_session` is a module function that yields
        or returns a session made by a known factory."""
        if not (isinstance(node, cst.Call) and self.qualified(node.func) & DEPENDS and node.args):
            return None
        target = node.args[0].value
        function = next(
            (
                s
                for s in self.module.body
                if isinstance(s, cst.FunctionDef) and isinstance(target, cst.Name) and s.name.value == target.value
            ),
            None,
        )
        if function is None:
            return self._defined(target, SESSION)  # `Depends(get_db)`, imported
        return self.given_by(function)

    def given_by(self, function: cst.FunctionDef) -> Session | None:
        """The session a function of this module yields or returns."""
        finder = _Given(self)
        function.body.visit(finder)
        return finder.session

    def of_fixture(self, name: str) -> Session | None:
        """The session a pytest fixture requested by ``name`` gives: this module's, else a conftest.py's."""
        for statement in self.module.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value == name and is_fixture(statement):
                return self.given_by(statement)
        found = self.fixture(name)
        return Session(found.expires) if found is not None and found.kind == SESSION else None


class _Given(cst.CSTVisitor):
    """The session a dependency function yields or returns."""

    def __init__(self, sessions: SessionFinder) -> None:
        super().__init__()
        self.sessions = sessions
        self.bound: dict[str, Session] = {}
        self.session: Session | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_WithItem(self, node: cst.WithItem) -> None:
        made = self.sessions.made_by(node.item)
        if made is not None and node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.bound[node.asname.name.value] = made

    def visit_Assign(self, node: cst.Assign) -> None:
        made = self.sessions.made_by(node.value)
        for target in node.targets:
            if made is not None and isinstance(target.target, cst.Name):
                self.bound[target.target.value] = made

    def _given(self, value: cst.BaseExpression | None) -> None:
        if value is None or self.session is not None:
            return
        name = dotted(value)
        self.session = self.bound.get(name) if name is not None else self.sessions.made_by(value)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self._given(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        self._given(node.value)


class _Returns(cst.CSTVisitor):
    """The values a function returns (not those of nested functions)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)


class Sessions:
    """The sessions bound so far in one function, statement by statement (parameters first). A session
    whose factory is not known gets ``unknown`` (False when every factory of the project turns expiry off)."""

    def __init__(self, finder: SessionFinder, function: cst.FunctionDef, unknown: bool | None = None) -> None:
        self.finder = finder
        params = [*function.params.posonly_params, *function.params.params, *function.params.kwonly_params]
        self.bound = {p.name.value: s for p in params if (s := finder.of_param(p)) is not None}
        if function.name.value.startswith("test") or is_fixture(function):
            for name, session in self.bound.items():
                if session.expires is None:  # `db_session: AsyncSession`, given by a fixture
                    self.bound[name] = finder.of_fixture(name) or session
        self.unknown = Session(unknown)
        for name, session in self.bound.items():
            if session.expires is None:
                self.bound[name] = self.unknown

    def bind(self, statement: cst.BaseStatement) -> list[tuple[str, cst.BaseExpression]]:
        """Record the sessions a statement binds (`with ... as`, assignments, aliases) and forget names it
        rebinds; returns the statement's other bindings (name, value)."""
        pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
        if isinstance(statement, cst.With):
            pairs = [(i.asname.name, i.item) for i in statement.items if i.asname is not None]
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    pairs.append((small.targets[0].target, small.value))
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    pairs.append((small.target, small.value))
        others = []
        for target, value in pairs:
            name = dotted(target)
            if name is None:
                continue
            alias = dotted(value)
            made = self.finder.made_by(value) or (self.bound.get(alias) if alias is not None else None)
            if made is not None and made.expires is None:
                made = self.unknown
            self.bound.pop(name, None)
            if made is not None:
                self.bound[name] = made
            else:
                others.append((name, value))
        return others


def is_fixture(function: cst.FunctionDef) -> bool:
    """Whether a pytest fixture decorator (`@pytest.fixture`, `@pytest_asyncio.fixture(...)`) marks it."""
    for decorator in function.decorators:
        node = decorator.decorator
        name = dotted(node.func if isinstance(node, cst.Call) else node)
        if name is not None and name.split(".")[-1] == "fixture":
            return True
    return False


def coroutine_sessions(function: cst.FunctionDef, model: SemanticModel) -> Sessions | None:
    """The sessions of an `async def` (its parameters bound; statements to come), None for a plain `def`."""
    if function.asynchronous is None:
        return None
    finder = SessionFinder(
        model.module, model.qualified_names, model.value_of, model.project_definition, model.project_fixture
    )
    return Sessions(finder, function, False if model.expiry_off else None)


def expiry_off(model: SemanticModel) -> bool:
    """Whether every AsyncSession factory of the project, and of this file, sets `expire_on_commit=False`
    (so a session whose factory is not visible comes from one of them)."""
    if model.index.expiry_settings != {False}:
        return False
    finder = SessionFinder(model.module, model.qualified_names, model.value_of)
    for call in model.tree.calls:
        names = finder.qualified(call.func.value if isinstance(call.func, cst.Subscript) else call.func)
        made = finder.made_by(call) if names & ASYNC_SESSION else finder.factory(call) if names & FACTORIES else None
        if made is not None and made.expires is not False:
            return False
    return True
