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
import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from lintdb.options import RuleOptions
from lintdb.prefilter import FileText, fold

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


def text_in_candidate(view: FileText) -> bool:
    """LDB206: a string of the code holding `IN :name` or `IN (:name)`."""
    return any(TEXT_IN.search(sql) for sql in view.strings)


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
        tuple(f"+{driver}" for driver in ASYNC_DRIVERS),
        re.compile(r"\+(?:" + "|".join(ASYNC_DRIVERS) + r")\b"),
        (re.compile("create_engine|engine_from_config"),),
    ),
    "LDB204": Trigger(("async_fallback",), re.compile("async_fallback")),  # async-fallback
    "LDB205": Trigger(  # autocommit-in-application-code
        ("autocommit",), AUTOCOMMIT, (re.compile("isolation_level"),), autocommit_candidate
    ),
    "LDB207": Trigger(  # async-session-expire-on-commit
        ("commit(",), re.compile(r"\.commit\("), (re.compile("AsyncSession|async_sessionmaker"),)
    ),
    "LDB208": Trigger(  # session-shared-across-tasks
        ("gather(", "create_task(", "ensure_future("),
        re.compile(r"(?:gather|create_task|ensure_future)\("),
        (re.compile("asyncpg|AsyncSession|async_sessionmaker"),),
    ),
    "LDB209": Trigger(  # aware-datetime-in-naive-column
        ("datetime",), re.compile(r"now\(|now\b\s*,"), (re.compile(r"\b(?:DateTime|TIMESTAMP|Mapped)\b"),)
    ),
    "LDB210": Trigger(("sslmode",), re.compile("sslmode"), (re.compile("asyncpg"),)),  # sslmode-in-asyncpg-url
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
        ("enum",), re.compile(r"enum\b"), (ALEMBIC_IMPORT, re.compile(r"\bdef\s+downgrade\b"))
    ),
    "LDB306": Trigger(  # non-transactional-statement-in-migration
        ("concurrently", "vacuum", "database", "add value", "commit"),
        re.compile(r"concurrently|vacuum|database|add\s+value|commit"),
        (ALEMBIC_IMPORT,),
    ),
    "LDB307": Trigger(  # add-not-null-column-without-default
        ("add_column",), re.compile("add_column"), (ALEMBIC_IMPORT, re.compile(r"nullable\s*=\s*False"))
    ),
    "LDB308": Trigger(("alembic",), re.compile(r"async\s+def\b"), (ALEMBIC_IMPORT,)),  # alembic-command-in-event-loop
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
