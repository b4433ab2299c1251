"""When each rule runs: its cheap text test and its candidate check, one entry per code.

A file reaches LibCST and a rule only when three stages let it through, cheapest first:

1. gate: one of the rule's words occurs in the lower-cased text (a plain substring test);
2. text: the rule's trigger regex and every required regex match the lower-cased text, then the same with
   docstrings emptied. Trigger regexes start with a literal, which the regex engine finds as fast as
   `str.find` (a leading `\b`, `(?i)` or character class makes it try every position: several times
   slower); a trigger that cannot start with one names an `anchor` that does, and is searched only just
   before each of the anchor's matches;
3. candidate: the rule's check on Python's `ast` tree (parsed once per file) says the file can hold a
   finding. Each check is a superset of what the rule can report (tests/test_triggers.py proves it on the
   examples, the fuzz corpus and real code); a rule without one is decided by stages 1 and 2.

Nothing here imports LibCST or pglast (pglast is imported by LDB107's check, for files that reach it).
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from lintdb.options import RuleOptions
from lintdb.prefilter import HOLE, FileText, dotted_name, fold, inner_statements, strings_in

# An asyncpg connection can be in the file: an asyncpg import, a driver connection borrowed from
# SQLAlchemy, or a pool's `acquire()` awaited or entered with `async with` (ASYNCPG_MADE); or a method only
# asyncpg connections have, for the rules that know a project factory's connection by its use
# (model/handles.py; LDB106 does not: the factory may register json codecs).
ASYNCPG_MADE = (
    r"(?m)^[ \t]*(?:import|from)[ \t]+asyncpg\b|driver_connection|(?:await|async with)[ \t]+[\w.]+\.acquire\("
)
ASYNCPG_IN_FILE = (
    ASYNCPG_MADE
    + r"|\.(?:fetchrow|fetchval|copy_records_to_table|copy_to_table|copy_from_table|copy_from_query|set_type_codec)\("
)
ASYNCPG_MADE_GATE = ("asyncpg", "driver_connection", ".acquire(")
ASYNCPG_GATE = (*ASYNCPG_MADE_GATE, ".fetchrow(", ".fetchval(", ".copy_", "type_codec(")
ALEMBIC_IMPORT = re.compile(r"(?m)^\s*(?:from|import)\s+alembic\b")
AUTOCOMMIT = re.compile(r"autocommit[\"']")  # starts with its literal: no leading quote
ASYNC_DRIVERS = ("asyncpg", "aiosqlite", "asyncmy", "aiomysql", "psycopg_async")
# The words a SQL statement starts with: a text() that starts otherwise is a fragment (`text("id > 5")`).
SQL_KEYWORDS = (
    "select|insert|update|delete|with|create|drop|alter|truncate|copy|values|merge|"
    "grant|revoke|comment|lock|vacuum|analyze|explain|refresh|set|show"
)
STATEMENT_START = re.compile(rf"(?i)\s*(?:{SQL_KEYWORDS})\b")
# SQLAlchemy's own rule for bind parameters in text(): `:name` not touching another `:` or `\` (so
# `:name::type` is not a bind, and PostgreSQL then rejects the `:`).
SQLALCHEMY_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
# Methods LDB107 reads SQL from: asyncpg's own, and execute/executemany of a traced connection.
QUERY_METHODS = frozenset(
    {"fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "cursor", "copy_from_query", "execute", "executemany"}
)
TEXT_IN = re.compile(r"(?i)\bin\s*\(?\s*:\w+(?![\w:`])")  # not Sphinx roles such as `in :class:`
# An engine call whose URL is a name (`create_async_engine(settings.DATABASE_URL)`): the project index may
# know the URL from another module.
NAMED_URL = r"\(\s*(?:url\s*=\s*)?(?:str\()?[a-z_][\w.]*\)?\s*[,)]"
# How far before its anchor a trigger's match may start.
ANCHOR_LOOKBACK = 200


@dataclass(frozen=True)
class Trigger:
    """One rule's stages: gate words (lower case), trigger regex (searched in the lower-cased text unless
    ``ignore_case`` is False), required regexes (in the text as written), candidate check on the `ast`
    tree; ``anchor``: a regex (in the lower-cased text) where each match of ``pattern`` ends."""

    gate: tuple[str, ...]
    pattern: re.Pattern[str] | None
    requires: tuple[re.Pattern[str], ...] = ()
    candidate: Callable[[FileText], bool] | None = None
    anchor: re.Pattern[str] | None = None
    ignore_case: bool = True
    configured: Callable[[RuleOptions], tuple[str, ...]] | None = None

    def fires(self, text: str, lowered: str, options: RuleOptions | None = None) -> bool:
        """Stages 1 and 2 on one text (``lowered``: the same text in lower case). ``configured`` gives words
        from the options (lower case) that count as gate and trigger both, e.g. `pgbouncer-hosts`."""
        if self.pattern is None:
            return False
        words = self.configured(options) if self.configured is not None and options is not None else ()
        if any(word in lowered for word in words):
            return all(r.search(text) for r in self.requires)
        if self.gate and not any(word in lowered for word in self.gate):
            return False
        return self._matches(lowered if self.ignore_case else text) and all(r.search(text) for r in self.requires)

    def _matches(self, text: str) -> bool:
        assert self.pattern is not None
        if self.anchor is None:
            return self.pattern.search(text) is not None
        return any(
            self.pattern.search(text, max(0, m.start() - ANCHOR_LOOKBACK), m.end()) for m in self.anchor.finditer(text)
        )


def _pglast_rejects(sql: str) -> bool:
    from pglast import parser

    try:
        parser.parse_sql(sql)
    except parser.ParseError:
        return True
    return False


_BINDING = (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)


def _bindings(view: FileText) -> dict[str, list[ast.expr]]:
    """The values assigned (or iterated by a `for`) to each name or attribute name in the file."""
    found: dict[str, list[ast.expr]] = {}
    for node in view.nodes(ast.Assign, *_BINDING, ast.For, ast.AsyncFor):
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, _BINDING):
            targets, value = [node.target], node.value
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets, value = [node.target], node.iter
        if value is None:
            continue
        for target in targets:
            for part in ast.walk(target):
                name = part.id if isinstance(part, ast.Name) else part.attr if isinstance(part, ast.Attribute) else None
                if name is not None:
                    found.setdefault(name, []).append(value)
    return found


def _text_names(view: FileText) -> set[str]:
    """Local names `text` may be imported under (`from sqlalchemy import text as sql`)."""
    names = {"text"}
    for node in view.nodes(ast.ImportFrom):
        names.update(alias.asname for alias in node.names if alias.name == "text" and alias.asname)
    return names


def _string_values(node: ast.expr) -> list[str]:
    """The strings an expression can evaluate to: a string literal, f-string or `+` concatenation; the
    template of `%` or `.format()`; the elements of a literal container; both arms of `a if c else b`;
    the default of `os.environ.get` / `os.getenv`."""
    text = fold(node)
    if text is not None:
        return [text]
    if isinstance(node, ast.BinOp):
        return _string_values(node.left)
    if isinstance(node, ast.Await):
        return _string_values(node.value)
    if isinstance(node, ast.IfExp):
        return _string_values(node.body) + _string_values(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [sql for element in node.elts for sql in _string_values(element)]
    if isinstance(node, ast.Dict):
        return [sql for value in node.values for sql in _string_values(value)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return _string_values(node.func.value)
        if node.func.attr in ("get", "getenv") and len(node.args) > 1:
            return _string_values(node.args[1])
    return []


def _argument_strings(argument: ast.expr, bindings: dict[str, list[ast.expr]]) -> list[str]:
    """The strings an argument can be: its own string values, or those of any value the file binds to
    the name or attribute it is (subscripted or not)."""
    argument = argument.value if isinstance(argument, ast.Await) else argument
    if isinstance(argument, ast.Subscript):
        argument = argument.value
    if isinstance(argument, (ast.Name, ast.Attribute)):
        name = argument.id if isinstance(argument, ast.Name) else argument.attr
        return [sql for value in bindings.get(name, ()) for sql in _string_values(value)]
    return _string_values(argument)


def _callee(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)


def _calls(node: ast.expr, names: set[str]) -> bool:
    """``node`` (awaited or not) is a call of one of ``names``."""
    node = node.value if isinstance(node, ast.Await) else node
    return isinstance(node, ast.Call) and _callee(node) in names


def sql_syntax_candidate(view: FileText) -> bool:
    """LDB107: SQL reaching the first argument of a query method (`fetch`, `execute`, ...) that PostgreSQL
    rejects as written, or of a `text()` call (any spelling of it) that starts like a statement and that
    PostgreSQL rejects once `:name` binds are parameters; directly or through a name bound in the file."""
    text_names = _text_names(view)
    bindings = _bindings(view)
    rejected = functools.lru_cache(maxsize=None)(_pglast_rejects)
    for node in view.nodes(ast.Call):
        callee = _callee(node)
        is_query = isinstance(node.func, ast.Attribute) and callee in QUERY_METHODS
        if not is_query and callee not in text_names:
            continue
        keyword = "query" if is_query else "text"
        argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == keyword), None)
        if argument is None or (is_query and _calls(argument, text_names)):  # text() is judged as its own call
            continue
        for sql in _argument_strings(argument, bindings):
            if is_query and rejected(sql):
                return True
            if not is_query and STATEMENT_START.match(sql) and rejected(SQLALCHEMY_BIND.sub("$1", sql)):
                return True
    return False


def autocommit_candidate(view: FileText) -> bool:
    """LDB205: a call with an `isolation_level=` argument that is "AUTOCOMMIT" or not a literal, or a
    dict literal with an "isolation_level" key."""
    for call in view.nodes(ast.Call):
        for keyword in call.keywords:
            if keyword.arg == "isolation_level":
                value = keyword.value
                if not isinstance(value, ast.Constant) or str(value.value).upper() == "AUTOCOMMIT":
                    return True
    return any(
        isinstance(k, ast.Constant) and k.value == "isolation_level" for d in view.nodes(ast.Dict) for k in d.keys
    )


_ASYNC_DRIVER = re.compile(r"\+(?:" + "|".join(ASYNC_DRIVERS) + r")\b")


def _imported_url_engine(view: FileText) -> bool:
    """An engine call whose URL is read from a name the file imports (`settings.DATABASE_URL`,
    `str(config.URL)`, `get_settings().URL`, or a name assigned one of those): the project index may know
    that URL."""
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in view.nodes(ast.Import, ast.ImportFrom)
        for alias in node.names  # type: ignore[attr-defined]
    }
    bindings = _bindings(view)

    def from_import(node: ast.expr | None, depth: int = 0) -> bool:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and node.args:
            node = node.args[0]
        while isinstance(node, (ast.Attribute, ast.Call)):
            node = node.value if isinstance(node, ast.Attribute) else node.func
        if not isinstance(node, ast.Name):
            return False
        if node.id in imported:
            return True
        return depth < 3 and any(from_import(value, depth + 1) for value in bindings.get(node.id, []))

    for call in view.nodes(ast.Call):
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in ("create_engine", "create_async_engine"):
            args, keywords = call.args, call.keywords
            url = args[0] if args else next((k.value for k in keywords if k.arg == "url"), None)
            if from_import(url):
                return True
    return False


def sync_engine_candidate(view: FileText) -> bool:
    """LDB203: an asyncio driver in the text, an env.py that sets `sqlalchemy.url`, or an engine on an
    imported URL."""
    return bool(_ASYNC_DRIVER.search(view.lowered)) or "set_main_option" in view.text or _imported_url_engine(view)


def async_fallback_candidate(view: FileText) -> bool:
    """LDB204: `async_fallback` in the text, or an engine on an imported URL."""
    return "async_fallback" in view.lowered or _imported_url_engine(view)


def text_in_candidate(view: FileText) -> bool:
    """LDB206: a string of the code holding `IN :name` or `IN (:name)`."""
    return any(TEXT_IN.search(sql) for sql in view.strings)


# LDB207's ORM objects: what these session methods return, and these methods of `session.execute(...)` or
# `session.scalars(...)` results (a bare result is not an object).
SESSION_LOADERS = frozenset({"get", "get_one", "merge", "scalar"})
RESULT_LOADERS = frozenset({"scalar_one", "scalar_one_or_none", "scalar", "first", "one", "one_or_none"})
TASK_STARTERS = frozenset({"gather", "create_task", "ensure_future"})
Position = tuple[int, int]


def _position(node: ast.expr | ast.stmt) -> Position:
    return node.lineno, node.col_offset


def _method_calls(nodes: list[ast.AST]) -> list[tuple[str, str, ast.Call]]:
    """(dotted receiver, method, call) of every `receiver.method(...)` among ``nodes``."""
    found = []
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = dotted_name(node.func.value)
            if receiver is not None:
                found.append((receiver, node.func.attr, node))
    return found


def _own_statements(function: ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The statements of a function's body, nested functions and classes (and their bodies) left out."""
    found: list[ast.stmt] = []
    pending: list[ast.stmt] = list(function.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        found.append(statement)
        pending.extend(inner_statements(statement))
    return found


def _objects(nodes: list[ast.AST], session: str) -> list[tuple[str, Position]]:
    """(name, where) of the names that may hold an ORM object of ``session``: the arguments of its
    `add`/`add_all`, and the names assigned what one of its loaders returns."""
    found = []
    for receiver, method, call in _method_calls(nodes):
        if receiver == session and method in ("add", "add_all") and call.args:
            argument = _starred(call.args[0])
            elements = argument.elts if isinstance(argument, (ast.List, ast.Tuple)) else [argument]
            found += [(e.id, _position(call)) for e in elements if isinstance(e, ast.Name)]
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value, where = node.value, _position(node)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets, value, where = [node.optional_vars], node.context_expr, _position(node.context_expr)
        else:
            continue
        if _loads(value, session):
            found += [(t.id, where) for t in targets if isinstance(t, ast.Name)]
    return found


def _loads(value: ast.expr, session: str) -> bool:
    """`await session.get(...)` (or another of its loaders), or a result loader (`.scalar_one()`,
    `.scalars().first()`...) of an expression that calls `session.execute` or `session.scalars`."""
    value = _unawaited(value)
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
        return False
    if dotted_name(value.func.value) == session:
        return value.func.attr in SESSION_LOADERS
    inner = _method_calls(list(ast.walk(value.func.value)))
    return value.func.attr in RESULT_LOADERS and any(r == session and m in ("execute", "scalars") for r, m, _ in inner)


def _attribute_reads(nodes: list[ast.AST]) -> dict[str, list[Position]]:
    """Where each name's attributes are read (`obj.attr`, not `obj.method()` nor `obj.attr = ...`)."""
    skipped = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    skipped |= {id(t) for n in nodes if isinstance(n, ast.Assign) for t in n.targets}
    found: dict[str, list[Position]] = {}
    for node in nodes:
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and id(node) not in skipped
            and node.attr != "awaitable_attrs"
            and not node.attr.startswith("__")
        ):
            found.setdefault(node.value.id, []).append(_position(node))
    return found


def expire_on_commit_candidate(view: FileText) -> bool:
    """LDB207: in one `async def`, a name added to or loaded by a receiver (`s.add(obj)`, `obj = await
    s.get(...)`, `obj = (await s.execute(...)).scalar_one()`...) before `s.commit()`, whose attribute is
    read after that commit with no `await s.refresh(obj)` statement of the function's own in between."""
    for function in view.nodes(ast.AsyncFunctionDef):
        nodes = list(ast.walk(function))
        calls = _method_calls(nodes)
        commits: dict[str, list[Position]] = {}
        for receiver, method, call in calls:
            if method == "commit":
                commits.setdefault(receiver, []).append(_position(call))
        if not commits:
            continue
        refreshes = [
            (receiver, call.args[0].id, _position(call), statement.end_lineno or statement.lineno)
            for statement in _own_statements(function)
            if isinstance(statement, ast.Expr)
            for receiver, method, call in _method_calls([_unawaited(statement.value)])
            if method == "refresh" and call.args and isinstance(call.args[0], ast.Name)
        ]
        reads = _attribute_reads(nodes)
        for session, times in commits.items():
            for name, added in _objects(nodes, session):
                for commit in (t for t in times if t[0] >= added[0]):  # a line binds before it commits
                    for read in (r for r in reads.get(name, ()) if r > commit):
                        if not _refreshed(session, name, commit, read, refreshes, times):
                            return True
    return False


def _unawaited(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Await) else node


def _refreshed(
    session: str,
    name: str,
    commit: Position,
    read: Position,
    refreshes: list[tuple[str, str, Position, int]],
    commits: list[Position],
) -> bool:
    """Whether a `session.refresh(name)` statement runs after the commit and ends on a line before the
    read's (a line's reads are judged before its calls), with no commit after it."""
    return any(
        receiver == session
        and refreshed == name
        and commit < at
        and last < read[0]
        and not any(at < other < read for other in commits)
        for receiver, refreshed, at, last in refreshes
    )


def _called_names(node: ast.expr) -> set[str]:
    """The names used as a call's receiver or argument anywhere in an expression."""
    names: set[str] = set()
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        values = [_starred(a) for a in call.args] + [k.value for k in call.keywords]
        names.update(v.id for v in values if isinstance(v, ast.Name))
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            names.add(call.func.value.id)
    return names


def _starred(node: ast.expr) -> ast.expr:
    return node.value if isinstance(node, ast.Starred) else node


def shared_session_candidate(view: FileText) -> bool:
    """LDB208: in one `async def`, a name used as a call's receiver or argument by two awaitables of
    `gather(...)`, `create_task(...)`, `ensure_future(...)` (any spelling; all of the function's counted
    together), or by one that a starred argument, a comprehension or a loop repeats. An awaitable that is
    a name stands for the values the function assigns to it too (`coro = s.scalar(...)`, then gathered)."""
    starters = {name: name for name in TASK_STARTERS}  # local name -> the function it stands for
    for node in view.nodes(ast.ImportFrom):
        starters.update((a.asname, a.name) for a in node.names if a.name in TASK_STARTERS and a.asname)
    for function in view.nodes(ast.AsyncFunctionDef):
        nodes = list(ast.walk(function))
        repeating = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
        repeated = {id(n) for loop in nodes if isinstance(loop, repeating) for n in ast.walk(loop)}
        assigned: dict[str, list[ast.expr]] = {}
        for bound in nodes:
            if isinstance(bound, ast.Assign):
                for target in (t for t in bound.targets if isinstance(t, ast.Name)):
                    assigned.setdefault(target.id, []).append(bound.value)
        uses: dict[str, int] = {}
        for call in (n for n in nodes if isinstance(n, ast.Call)):
            starter = starters.get(_callee(call) or "")
            if starter is None:
                continue
            if starter == "gather":
                awaitables = [(_starred(a), 2 if isinstance(a, ast.Starred) else 1) for a in call.args]
            else:
                weight = 2 if id(call) in repeated else 1
                awaitables = [(a, weight) for a in [*call.args, *(k.value for k in call.keywords)]]
            for awaitable, weight in awaitables:
                values = assigned.get(awaitable.id, []) if isinstance(awaitable, ast.Name) else []
                for name in set().union(_called_names(awaitable), *map(_called_names, values)):
                    uses[name] = uses.get(name, 0) + weight
        if any(count > 1 for count in uses.values()):
            return True
    return False


def _aware_looking(node: ast.AST) -> bool:
    """`now(...)` with an argument (`datetime.now(timezone.utc)`), any `.astimezone(...)`, or a call
    given a `now` and something more (`partial(datetime.now, timezone.utc)`)."""
    if not isinstance(node, ast.Call):
        return False
    callee = _callee(node)
    if callee == "astimezone" or (callee == "now" and (node.args or node.keywords)):
        return True
    named_now = any((dotted_name(a) or "").rsplit(".", 1)[-1] == "now" for a in node.args)
    return named_now and len(node.args) + len(node.keywords) > 1


def _naive_type_call(call: ast.Call) -> bool:
    """A type call whose `timezone` (first argument or keyword) is absent or `False`, or not known."""
    if any(isinstance(a, ast.Starred) for a in call.args):
        return True
    given = [k.value for k in call.keywords if k.arg == "timezone"] + call.args[:1]
    return not given or any(isinstance(v, ast.Constant) and v.value is False for v in given)


def _may_be_naive_column(call: ast.Call) -> bool:
    """A column call that names a type that may be a naive `DateTime` (a name, or a call of one without
    `timezone=True`), or names no type at all (a `Mapped[datetime]` then decides)."""
    types = [a for a in call.args if not isinstance(a, ast.Starred)]
    types += [k.value for k in call.keywords if k.arg == "type_"]
    if any(
        isinstance(t, (ast.Name, ast.Attribute))
        or (isinstance(t, ast.Call) and isinstance(t.func, (ast.Name, ast.Attribute)) and _naive_type_call(t))
        for t in types
    ):
        return True
    return not any(k.arg == "type_" for k in call.keywords) and all(
        isinstance(a, ast.Starred) or (isinstance(a, ast.Constant) and isinstance(a.value, str)) for a in call.args
    )


def _builtins_not_rebound(view: FileText) -> frozenset[str]:
    """Builtin names (`dict`, `list`, `str`...) the file never binds: a default naming one is not aware."""
    bound = set(_bindings(view))
    bound.update(n.name for n in view.nodes(ast.FunctionDef))
    bound.update(n.name for n in view.nodes(ast.AsyncFunctionDef))
    bound.update(n.name for n in view.nodes(ast.ClassDef))
    bound.update(a.arg for a in view.nodes(ast.arg))
    bound.update((a.asname or a.name).split(".")[0] for a in view.nodes(ast.alias))
    return frozenset(dir(builtins)) - bound


def aware_default_candidate(view: FileText) -> bool:
    """LDB209: an aware-looking datetime call anywhere in the file, and a call whose type may be a naive
    `DateTime` (or is not given) with a `default=` or `onupdate=` that may make an aware datetime: an
    aware-looking call, a lambda returning one, or a name (not an unbound builtin such as `dict`)."""
    calls = view.nodes(ast.Call)
    if not any(_aware_looking(node) for node in calls):
        return False
    plain: frozenset[str] | None = None
    for call in calls:
        for keyword in call.keywords:
            value = keyword.value
            if keyword.arg not in ("default", "onupdate") or not _may_be_naive_column(call):
                continue
            if isinstance(value, ast.Name):
                plain = _builtins_not_rebound(view) if plain is None else plain
                if value.id not in plain:
                    return True
            elif _aware_looking(value.body if isinstance(value, ast.Lambda) else value):
                return True
    return False


def asyncpg_sslmode_candidate(view: FileText) -> bool:
    """LDB210: a string holding both `+asyncpg://` and `sslmode`, or a dict literal with an "sslmode" key."""
    texts = [*view.strings, *(c.value for c in view.nodes(ast.Constant) if isinstance(c.value, str))]
    if any("sslmode" in text and "+asyncpg://" in text.lower() for text in texts):
        return True
    return any(isinstance(k, ast.Constant) and k.value == "sslmode" for d in view.nodes(ast.Dict) for k in d.keys)


# What LDB306 reads in a migration's SQL: the words of a statement that cannot run in a transaction block
# (VACUUM, COMMIT and its synonym END start one: after a `;`, a line break, a comment, or a hole, since the
# rule follows the names a hole stands for), or that adds an enum value (the value, when quoted).
_STATEMENT = rf"(?:^|[;\n]|\*/|{HOLE})\s*"
_WORD_END = rf"(?:(?![\w$])|(?={HOLE}))"
NON_TRANSACTIONAL = re.compile(
    rf"(?i)concurrently|{_STATEMENT}(?:vacuum|commit|end){_WORD_END}|(?:create|drop|{HOLE})\s+database"
    r"|add\s+value\s+(?:if\s+not\s+exists\s+)?(?:'((?:[^']|'')*)')?"
)
SQL_CALLS = frozenset({"execute", "exec_driver_sql"})
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _local_names(view: FileText, *names: str) -> set[str]:
    """``names`` and the local names an import gives them (`from sqlalchemy import Enum as SAEnum`)."""
    found = set(names)
    for node in view.nodes(ast.ImportFrom):
        found.update(alias.asname for alias in node.names if alias.name in names and alias.asname)
    return found


def _keyword_is(call: ast.Call, name: str, value: object) -> bool:
    """``call`` passes the literal ``value`` (True, False or None) as keyword ``name``."""
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value for k in call.keywords)


def _calls_in(node: ast.AST, names: set[str]) -> bool:
    """A call of one of ``names`` (a function or a method) under ``node``."""
    return any(isinstance(n, ast.Call) and _callee(n) in names for n in ast.walk(node))


def _own_nodes(statements: list[ast.stmt]) -> list[ast.AST]:
    """The nodes under ``statements``, nested functions, classes and lambdas excluded."""
    pending: list[ast.AST] = list(statements)
    for node in pending:
        pending.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, SCOPES))
    return pending


def _enum_type_name(call: ast.Call) -> str | None:
    """The type name LDB305 reads from an enum call: a literal `name=`, else the lower-cased name of a class
    given first; None when it reads none."""
    name = next((k.value for k in call.keywords if k.arg == "name"), None)
    if name is not None:
        return name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None
    first = call.args[0] if call.args else None
    if isinstance(first, (ast.Name, ast.Attribute)):
        return (first.id if isinstance(first, ast.Name) else first.attr).lower()
    return None


def _binders(view: FileText) -> dict[str, list[ast.AST]]:
    """Every node that binds each name anywhere in the file (assignment and loop targets, parameters,
    imports, functions and classes, `except ... as`, `global`)."""
    found: dict[str, list[ast.AST]] = {}
    for node in view.nodes(ast.Name):
        if not isinstance(node.ctx, ast.Load):
            found.setdefault(node.id, []).append(node)
    for arg in view.nodes(ast.arg):
        found.setdefault(arg.arg, []).append(arg)
    imports: list[ast.Import | ast.ImportFrom] = [*view.nodes(ast.Import), *view.nodes(ast.ImportFrom)]
    for imported in imports:
        for alias in imported.names:
            found.setdefault(alias.asname or alias.name.split(".")[0], []).append(imported)
    defined_nodes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = [
        *view.nodes(ast.FunctionDef),
        *view.nodes(ast.AsyncFunctionDef),
        *view.nodes(ast.ClassDef),
    ]
    for defined in defined_nodes:
        found.setdefault(defined.name, []).append(defined)
    for handler in view.nodes(ast.ExceptHandler):
        if handler.name:
            found.setdefault(handler.name, []).append(handler)
    scopes: list[ast.Global | ast.Nonlocal] = [*view.nodes(ast.Global), *view.nodes(ast.Nonlocal)]
    for scoped in scopes:
        for name in scoped.names:
            found.setdefault(name, []).append(scoped)
    return found


def _sqlalchemy_enums(view: FileText, binders: dict[str, list[ast.AST]]) -> tuple[set[str], dict[str, str]]:
    """The local names bound only (by an import) to SQLAlchemy's `Enum` or PostgreSQL's `ENUM`, and those
    bound only to a module holding one, with the enum's name there (`sa` -> `Enum`, `postgresql` -> `ENUM`)."""
    names: set[str] = set()
    modules: dict[str, str] = {}
    imports: list[ast.Import | ast.ImportFrom] = [*view.nodes(ast.Import), *view.nodes(ast.ImportFrom)]
    for imported in imports:
        for alias in imported.names:
            local = alias.asname or alias.name
            if len(binders.get(local, ())) != 1:
                continue
            source = (imported.module if isinstance(imported, ast.ImportFrom) else None, alias.name)
            if source in ((None, "sqlalchemy"), ("sqlalchemy.dialects", "postgresql")):
                modules[local] = "Enum" if source[1] == "sqlalchemy" else "ENUM"
            elif source in (("sqlalchemy", "Enum"), ("sqlalchemy.dialects.postgresql", "ENUM")):
                names.add(local)
    return names, modules


def _dropped_enum(
    view: FileText,
    call: ast.Call,
    binders: dict[str, list[ast.AST]],
    own: set[int],
    assignments: list[ast.Assign],
) -> ast.Call | None:
    """The SQLAlchemy enum call `<enum>.drop(...)` in downgrade() (``own``: the ids of every node under
    it) surely drops: written in place, or the value of a name's only binding in downgrade(), else
    in the file, when that is one of ``assignments`` (`status = sa.Enum(...)`), whatever the model may
    make of other forms."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "drop"):
        return None
    target: ast.expr | None = call.func.value
    if isinstance(target, ast.Name):
        bound = binders.get(target.id, [])
        local = [b for b in bound if id(b) in own]
        if local or any(isinstance(b, (ast.Global, ast.Nonlocal)) for b in bound):
            bound = local  # downgrade()'s own name (a `global` makes two binders: never read)
        assigned = next((a for a in assignments if len(bound) == 1 and a.targets == bound), None)
        target = assigned.value if assigned is not None else None
    if not isinstance(target, ast.Call):
        return None
    names, modules = _sqlalchemy_enums(view, binders)
    func = target.func
    if isinstance(func, ast.Name) and func.id in names:
        return target
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return target if modules.get(func.value.id) == func.attr else None
    return None


def _types_dropped(view: FileText, downgrade: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str] | None:
    """The enum types downgrade() surely drops, as PostgreSQL names them (unqualified): by
    `op.execute("DROP TYPE ...")` with a literal SQL text (or `text()` of one), or by `<enum>.drop(...)`
    on a SQLAlchemy enum; None when it drops an enum whose type LDB305 cannot name (it then reports
    nothing)."""
    from pglast import enums, parse_sql, parser
    from pglast.ast import DropStmt

    ops = {a.asname or a.name for n in view.nodes(ast.ImportFrom) if n.module == "alembic" for a in n.names}
    text_names = _text_names(view)
    binders = _binders(view)
    own = _own_nodes(downgrade.body)
    own_ids = {id(node) for node in ast.walk(downgrade)}  # nested functions too: more binders, never fewer
    assert view.tree is not None
    assignments = [a for a in (*view.tree.body, *own) if isinstance(a, ast.Assign)]  # what downgrade() sees
    found: set[str] = set()
    for node in own:
        if not isinstance(node, ast.Call):
            continue
        enum = _dropped_enum(view, node, binders, own_ids, assignments)
        if enum is not None:
            name = _enum_type_name(enum)
            if name is None:
                return None
            found.add(name)
        if not (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "execute"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ops & _local_names(view, "op")
            and node.args
        ):
            continue
        argument = node.args[0]
        if isinstance(argument, ast.Call) and _callee(argument) in text_names and argument.args:
            argument = argument.args[0]
        sql = fold(argument)
        if sql is None or HOLE in sql or "drop" not in sql.lower():
            continue
        try:
            parsed = parse_sql(sql)
        except parser.ParseError:
            continue
        for raw in parsed:
            stmt = raw.stmt
            if isinstance(stmt, DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_TYPE:
                found.update(name.names[-1].sval for name in stmt.objects or ())
    return found


def enum_not_dropped_candidate(view: FileText) -> bool:
    """LDB305: module-level `upgrade()` and `downgrade()`, a `create_table` or `.create()` call in upgrade(),
    a `drop_table` or `drop_column` call in downgrade(), and an `Enum` / `ENUM` call (under any import name)
    without `native_enum=False` whose type is created (no `create_type=False`, or a `.create()` call), is
    named, and is not dropped in downgrade() (by `op.execute("DROP TYPE ...")` or `<enum>.drop(...)`)."""
    assert view.tree is not None
    functions = {s.name: s for s in view.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    if upgrade is None or downgrade is None:
        return False
    if not _calls_in(upgrade, _local_names(view, "create_table") | {"create"}):
        return False
    if not _calls_in(downgrade, _local_names(view, "drop_table", "drop_column")):
        return False
    enums = _local_names(view, "Enum", "ENUM")
    creates = _calls_in(upgrade, {"create"})
    names = {
        _enum_type_name(call)
        for call in view.nodes(ast.Call)
        if _callee(call) in enums
        and not _keyword_is(call, "native_enum", False)
        and (creates or not _keyword_is(call, "create_type", False))
    } - {None}
    dropped = _types_dropped(view, downgrade)
    return bool(names) and dropped is not None and not names <= dropped


def _in_autocommit_blocks(view: FileText) -> list[ast.AST]:
    """The nodes in the bodies of `with <context>.autocommit_block():` blocks, nested functions and classes
    excluded (what LDB306 counts as inside one)."""
    found: list[ast.AST] = []
    blocks: list[ast.With | ast.AsyncWith] = [*view.nodes(ast.With), *view.nodes(ast.AsyncWith)]
    for block in blocks:
        if any(_calls(item.context_expr, {"autocommit_block"}) for item in block.items):
            found.extend(_own_nodes(block.body))
    return found


def _sql_arguments(call: ast.Call, text_names: set[str]) -> list[ast.expr]:
    """A call's arguments, a `text()` call among them replaced by its own (strings in any other call may
    reach a helper that runs them elsewhere)."""
    found: list[ast.expr] = []
    for argument in (*call.args, *(k.value for k in call.keywords)):
        if isinstance(argument, ast.Call) and _callee(argument) in text_names:
            found.extend((*argument.args, *(k.value for k in argument.keywords)))
        elif not isinstance(argument, ast.Call):
            found.append(argument)
    return found


def non_transactional_candidate(view: FileText) -> bool:
    """LDB306: outside the arguments of `execute` calls in autocommit blocks, a string of the code naming a
    statement that cannot run in a transaction block (CONCURRENTLY, VACUUM, CREATE or DROP DATABASE, COMMIT),
    or adding an enum value that another string names too (or that is not quoted); or a
    `postgresql_concurrently=True` outside autocommit blocks."""
    inside = _in_autocommit_blocks(view)
    text_names = _text_names(view)
    sheltered = Counter(
        sql
        for node in inside
        if isinstance(node, ast.Call) and _callee(node) in SQL_CALLS
        for argument in _sql_arguments(node, text_names)
        for sql in strings_in(argument)
    )
    for sql in Counter(view.strings) - sheltered:
        for match in NON_TRANSACTIONAL.finditer(sql):
            added = match.group(1)
            if not match.group(0).lower().startswith("add") or added is None:
                return True
            value = added.replace("''", "'")
            if sum(text.count(value) for text in view.strings) > 1:
                return True
    inside_ids = {id(node) for node in inside}
    return any(
        _keyword_is(call, "postgresql_concurrently", True) and id(call) not in inside_ids
        for call in view.nodes(ast.Call)
    )


def not_null_column_candidate(view: FileText) -> bool:
    """LDB307: an `add_column` call (under any import name), and a `Column` call (under any import name) with
    `nullable=False`, no `server_default=` but None, no `primary_key=` and no `**` argument, that is not an
    argument of `create_table` or `Table` (the rule's column, given inline or bound to a name)."""
    calls = view.nodes(ast.Call)
    add_column = _local_names(view, "add_column")
    if not any(_callee(call) in add_column for call in calls):
        return False
    tables = _local_names(view, "create_table", "Table")
    in_tables = {id(arg) for call in calls if _callee(call) in tables for arg in call.args}
    columns = _local_names(view, "Column")
    return any(
        _callee(call) in columns
        and id(call) not in in_tables
        and _keyword_is(call, "nullable", False)
        and all(k.arg not in (None, "primary_key") for k in call.keywords)
        and all(k.arg != "server_default" or _keyword_is(call, "server_default", None) for k in call.keywords)
        for call in calls
    )


def command_in_event_loop_candidate(view: FileText) -> bool:
    """LDB308: an `async def` in a file that imports `alembic.command` (or `alembic` itself, or `*` from it)."""
    if not view.nodes(ast.AsyncFunctionDef):
        return False
    if any(alias.name in ("alembic", "alembic.command") for node in view.nodes(ast.Import) for alias in node.names):
        return True
    return any(
        (node.module == "alembic" and any(alias.name in ("command", "*") for alias in node.names))
        or (node.module or "").startswith("alembic.command")
        for node in view.nodes(ast.ImportFrom)
    )


TRIGGERS: dict[str, Trigger] = {
    "LDB101": Trigger(  # raw-connection-on-commit-drop
        ("commit",),
        re.compile(r"commit\W{1,20}drop\b"),
        (re.compile(ASYNCPG_IN_FILE + "|get_raw_connection"),),
    ),
    "LDB102": Trigger(  # temp-table-without-drop-guard
        ("temp",),
        re.compile(r"create\s+(?:(?:local|global)\s+)?temp(?:orary)?\s+table\b"),
        (re.compile(r"\.(?:execute|exec_driver_sql)\("),),
    ),
    "LDB103": Trigger(  # sql-in-list-parameter
        ("$",), re.compile(r"\$\d"), (re.compile(r"(?i)\bin\b[\s\"'+(]*\$\d"),)
    ),
    "LDB104": Trigger(  # cursor-outside-transaction
        ASYNCPG_GATE, re.compile(r"\.cursor\("), (re.compile(ASYNCPG_IN_FILE),)
    ),
    "LDB105": Trigger(  # record-attribute-access
        ASYNCPG_GATE, re.compile(r"\.fetch(?:row)?\(|\.cursor\("), (re.compile(ASYNCPG_IN_FILE),)
    ),
    "LDB106": Trigger(  # json-codec-mismatch
        ASYNCPG_MADE_GATE, re.compile(r"json|\]\s*\[\s*[\"']|,\s*(?:\{|dict\()"), (re.compile(ASYNCPG_MADE),)
    ),
    "LDB107": Trigger(  # sql-syntax-error: a checked call with a SQL literal, or a module constant holding one
        ("fetch", "prepare", "cursor", "copy_from_query", "execute", "text(", *SQL_KEYWORDS.split("|")),
        re.compile(
            rf"(?:\.(?:fetch\w*|prepare|cursor|copy_from_query|execute\w*)|\btext)\(\s*[rfu]{{0,2}}[\"']+\s*"
            rf"(?:{SQL_KEYWORDS})\s|^\w+\s*(?::[^=\n]+)?=\s*\(?\s*[rfu]{{0,2}}[\"']+\s*(?:{SQL_KEYWORDS})\s",
            re.MULTILINE,
        ),
        (
            re.compile(
                ASYNCPG_IN_FILE + r"|\.(?:fetch|fetchrow|fetchval|copy_from_query)\(|import[^\n]*\btext\b|\.text\("
            ),
        ),
        sql_syntax_candidate,
        anchor=re.compile(rf"[\"']\s*(?:{SQL_KEYWORDS})\s"),
    ),
    "LDB201": Trigger(  # pgbouncer-prepared-statements (or a host configured in `pgbouncer-hosts`)
        ("6432", "bouncer", "pooler"),
        re.compile("6432|pgbouncer|pooler|bouncer"),
        (re.compile("asyncpg"),),
        configured=lambda options: options.pgbouncer_hosts,
    ),
    "LDB202": Trigger(  # statement-cache-half-disabled
        ("statement_cache_size",), re.compile("statement_cache_size"), (re.compile("asyncpg|connect_args"),)
    ),
    "LDB203": Trigger(  # sync-engine-async-driver
        (*(f"+{driver}" for driver in ASYNC_DRIVERS), "create_engine(", "set_main_option"),
        re.compile(_ASYNC_DRIVER.pattern + "|create_engine" + NAMED_URL + "|set_main_option"),
        (re.compile("create_engine|engine_from_config"),),
        sync_engine_candidate,
    ),
    "LDB204": Trigger(  # async-fallback
        ("async_fallback", "create_engine(", "create_async_engine("),
        re.compile("async_fallback|create_(?:async_)?engine" + NAMED_URL),
        (),
        async_fallback_candidate,
    ),
    "LDB205": Trigger(  # autocommit-in-application-code
        ("autocommit",), AUTOCOMMIT, (re.compile("isolation_level"),), autocommit_candidate
    ),
    "LDB207": Trigger(  # async-session-expire-on-commit
        ("commit(",),
        re.compile(r"\.commit\("),
        (re.compile("AsyncSession|async_sessionmaker"),),
        expire_on_commit_candidate,
    ),
    "LDB208": Trigger(  # session-shared-across-tasks
        ("gather(", "create_task(", "ensure_future("),
        re.compile(r"(?:gather|create_task|ensure_future)\("),
        (re.compile("asyncpg|AsyncSession|async_sessionmaker"),),
        shared_session_candidate,
    ),
    "LDB209": Trigger(  # aware-datetime-in-naive-column
        ("datetime",),
        re.compile(r"now\(|now\b\s*,"),
        (re.compile(r"\b(?:DateTime|TIMESTAMP|Mapped)\b"),),
        aware_default_candidate,
    ),
    "LDB210": Trigger(  # sslmode-in-asyncpg-url
        ("sslmode",), re.compile("sslmode"), (re.compile("asyncpg"),), asyncpg_sslmode_candidate
    ),
    "LDB206": Trigger(  # text-in-without-expanding (`in` starts the regex: no `\b`, see above)
        ("text(", " in :", " in (:"),
        re.compile(r"in\s*\(?\s*:\w+(?![\w:`])"),
        # text(), or a project wrapper called with a SQL statement (`query("SELECT ... IN :ids")`)
        (re.compile(r"\btext\(|\(\s*[rRfF]?(?:\"\"\"|\'\'\'|\"|\')\s*(?i:select|insert|update|delete|with)\b"),),
        text_in_candidate,
    ),
    "LDB301": Trigger(  # migrations-never-committed
        ("context.configure",), re.compile(r"context\.configure\b"), (ALEMBIC_IMPORT,), ignore_case=False
    ),
    "LDB302": Trigger(  # migrations-autocommit
        ("autocommit",), AUTOCOMMIT, (re.compile(r"context\.configure\b"),)
    ),
    "LDB303": Trigger(  # batch-without-tmp-table-guard
        ("batch_alter_table",), re.compile("batch_alter_table"), (ALEMBIC_IMPORT,)
    ),
    "LDB304": Trigger(  # sqlite-transactional-ddl-without-begin
        ("transactional_ddl",), re.compile("transactional_ddl"), (ALEMBIC_IMPORT,)
    ),
    "LDB305": Trigger(  # enum-type-not-dropped
        ("enum",),
        re.compile(r"enum\b"),
        (ALEMBIC_IMPORT, re.compile(r"\bdef\s+downgrade\b")),
        enum_not_dropped_candidate,
    ),
    "LDB306": Trigger(  # non-transactional-statement-in-migration
        ("concurrently", "vacuum", "database", "add value", "commit"),
        re.compile(r"concurrently|vacuum|database|add\s+value|commit"),
        (ALEMBIC_IMPORT,),
        non_transactional_candidate,
    ),
    "LDB307": Trigger(  # add-not-null-column-without-default
        ("add_column",),
        re.compile("add_column"),
        (ALEMBIC_IMPORT, re.compile(r"nullable\s*=\s*False")),
        not_null_column_candidate,
    ),
    "LDB308": Trigger(  # alembic-command-in-event-loop
        ("alembic",), re.compile(r"async\s+def\b"), (ALEMBIC_IMPORT,), command_in_event_loop_candidate
    ),
    # unused-noqa: never run as a rule; the engine judges `noqa` comments after the other rules.
    "LDB900": Trigger((), None),
}


def text_codes(view: FileText, codes: Collection[str], options: RuleOptions | None = None) -> list[str]:
    """The codes whose gate and text stages fire, on the text and then on the docstring-free code."""
    fired = [c for c in codes if TRIGGERS[c].fires(view.text, view.lowered, options)]
    if not fired:
        return []
    return [c for c in fired if TRIGGERS[c].fires(view.code, view.code_lowered, options)]


def candidates(view: FileText, codes: Collection[str], options: RuleOptions | None = None) -> list[str]:
    """The codes that pass all three stages (a text Python cannot parse skips the candidate checks)."""
    fired = text_codes(view, codes, options)
    if not fired or view.tree is None:
        return fired
    return [c for c in fired if (check := TRIGGERS[c].candidate) is None or check(view)]
