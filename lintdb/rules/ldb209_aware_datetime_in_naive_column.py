"""LDB209 aware-datetime-in-naive-column."""

from __future__ import annotations

import re

import libcst as cst

from lintdb.cst_fixes import add_import, imported_name
from lintdb.cst_helpers import call_arg, statements
from lintdb.diagnostics import Applicability
from lintdb.engine_args import with_keyword
from lintdb.rule import FixSpec, Invalid, LintRule, Replace, Valid

COLUMNS = frozenset({"sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.sql.schema.Column"})
MAPPED_COLUMNS = frozenset({"sqlalchemy.orm.mapped_column", "sqlalchemy.orm._orm_constructors.mapped_column"})
DATETIME_TYPES = frozenset(
    {
        "sqlalchemy.DateTime",
        "sqlalchemy.types.DateTime",
        "sqlalchemy.sql.sqltypes.DateTime",
        "sqlalchemy.TIMESTAMP",
        "sqlalchemy.types.TIMESTAMP",
        "sqlalchemy.sql.sqltypes.TIMESTAMP",
        "sqlalchemy.dialects.postgresql.TIMESTAMP",
        "sqlalchemy.dialects.postgresql.types.TIMESTAMP",
    }
)
DECLARATIVE_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
DECLARATIVE_BASE_FACTORIES = frozenset(
    {"sqlalchemy.orm.declarative_base", "sqlalchemy.orm.decl_api.declarative_base", "sqlalchemy.orm.registry"}
)
MAPPED = frozenset({"sqlalchemy.orm.Mapped", "sqlalchemy.orm.base.Mapped"})
DATETIME = "datetime.datetime"
NOW = "datetime.datetime.now"
PARTIAL = frozenset({"functools.partial"})
TYPE_MAP = "type_annotation_map"
# asyncpg in the file: an import, or a `postgresql+asyncpg://` URL
ASYNCPG_EVIDENCE = re.compile(r"(?m)^[ \t]*(?:import|from)[ \t]+asyncpg\b|\+asyncpg\b")
# the URL line that puts the examples in an asyncpg project
ASYNCPG_URL = '\n\nDATABASE_URL = "postgresql+asyncpg://app@localhost/app"\n'

ERROR = (
    "`DataError: invalid input for query argument $N: datetime.datetime(...) "
    "(can't subtract offset-naive and offset-aware datetimes)`"
)

_MODELS = """
from datetime import {imports}

{sa_import}
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    {base_body}


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column({column})
"""


def models_example(
    column: str,
    imports: str = "datetime, timezone",
    sa_import: str = "from sqlalchemy import DateTime, String",
    base_body: str = "pass",
    asyncpg: bool = True,
) -> str:
    """A declarative `Event` model whose `created_at` is `mapped_column(<column>)`, in a file with an
    asyncpg URL unless ``asyncpg`` is False."""
    models = _MODELS.format(column=column, imports=imports, sa_import=sa_import, base_body=base_body)
    return models + ASYNCPG_URL if asyncpg else models


_HELPER = """
from datetime import datetime, timezone

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column{extra_import}


def utcnow() -> datetime:
    return datetime.now(tz=timezone.utc)


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column({column}default=utcnow, onupdate=utcnow)
"""


def helper_example(column: str = "", extra_import: str = "") -> str:
    """`Mapped[datetime]` with a module function as its default."""
    return _HELPER.format(column=column, extra_import=extra_import) + ASYNCPG_URL


_TABLE = """
from datetime import datetime, timezone
from functools import partial

import sqlalchemy as sa

metadata = sa.MetaData()
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("created_at", {type_}, default=partial(datetime.now, timezone.utc)),
)
"""


def table_example(type_: str) -> str:
    """A Core table whose `created_at` column has type ``type_``."""
    return _TABLE.format(type_=type_) + ASYNCPG_URL


class AwareDatetimeInNaiveColumn(LintRule):
    """
    ## What it does
    Checks for `Column`/`mapped_column` with a naive `DateTime`/`TIMESTAMP` (no `timezone=True`), or a
    `Mapped[datetime]` with no explicit type on a declarative base whose type map is SQLAlchemy's
    default, whose `default=` or `onupdate=` makes a timezone-aware datetime
    (`datetime.now(timezone.utc)`, `datetime.now(UTC)`, `datetime.now(tz=...)`, directly, in a
    `lambda`, a `functools.partial` or a module function).

    Only where asyncpg is in play: the file imports asyncpg or holds a `+asyncpg` URL, or the project
    declares an asyncpg dependency (pyproject.toml, requirements*.txt). psycopg2 and psycopg store the
    aware value into the naive column without an error.

    ## Default
    Off by default: since it judges asyncpg projects only, it reports nothing on the real-world ledger
    (the 3 findings it had, in a psycopg2-only project, were false positives), so no real repository's
    bug backs it yet. Select it with `--select LDB209`.

    ## Why is this bad?
    The column is `TIMESTAMP WITHOUT TIME ZONE`, and asyncpg refuses to encode an aware datetime for
    it: the first insert raises `DataError: invalid input for query argument $1: datetime.datetime(...)
    (can't subtract offset-naive and offset-aware datetimes)`. psycopg2 accepts it and silently drops
    the offset, so the bug can hide until the switch to asyncpg.

    A `Mapped[datetime]` whose base has a `type_annotation_map` is left alone, and so is one whose base
    is imported: the map may say `DateTime(timezone=True)`.

    ## Example
    ```python
    created_at: Mapped[datetime] = mapped_column(DateTime, default=lambda: datetime.now(timezone.utc))
    ```

    Use instead:
    ```python
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))
    ```

    ## Fix safety
    The fix is unsafe: it changes the column's type to `TIMESTAMP WITH TIME ZONE`, which needs a
    migration (`ALTER COLUMN ... TYPE timestamptz`) for existing tables, and reads then return aware
    datetimes.

    ## References
    - [MagicStack/asyncpg#1139: can't subtract offset-naive and offset-aware datetimes](https://github.com/MagicStack/asyncpg/issues/1139)
    - [SQLAlchemy: DateTime(timezone=True)](https://docs.sqlalchemy.org/en/20/core/type_basics.html#sqlalchemy.types.DateTime)
    """

    CODE = "LDB209"
    DEFAULT_ENABLED = False
    NAME = "aware-datetime-in-naive-column"
    MESSAGE = f"{ERROR}: an aware default in a naive `DateTime` column"
    FIX_TITLE = "Use `DateTime(timezone=True)`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(models_example("DateTime(timezone=True), default=lambda: datetime.now(timezone.utc)")),
        Valid(models_example("DateTime, default=datetime.utcnow")),
        Valid(models_example("DateTime, default=lambda: datetime.now(timezone.utc).replace(tzinfo=None)")),
        Valid(
            models_example(
                "default=lambda: datetime.now(timezone.utc)",
                base_body=f"{TYPE_MAP} = {{datetime: DateTime(timezone=True)}}",
            )
        ),
        Valid(table_example("sa.TIMESTAMP(timezone=True)")),
        Valid("""
            from datetime import datetime, timezone

            from sqlalchemy.orm import Mapped, mapped_column

            from app.db import Base  # its type_annotation_map is not visible here


            class Event(Base):
                __tablename__ = "events"

                id: Mapped[int] = mapped_column(primary_key=True)
                created_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(timezone.utc))
            """),
        # The same model in a project with no asyncpg (psycopg2 stores the aware value): not judged.
        Valid(models_example("DateTime, default=lambda: datetime.now(timezone.utc)", asyncpg=False)),
    )
    INVALID = (
        Invalid(
            models_example("DateTime, default=lambda: datetime.now(timezone.utc)"),
            positions=[(16, 36)],
            fixed=models_example("DateTime(timezone=True), default=lambda: datetime.now(timezone.utc)"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            helper_example(),
            positions=[(20, 36)],
            fixed=helper_example("DateTime(timezone=True), ", "\nfrom sqlalchemy import DateTime"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            table_example("sa.TIMESTAMP()"),
            positions=[(12, 5)],
            fixed=table_example("sa.TIMESTAMP(timezone=True)"),
            applicability=Applicability.UNSAFE,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.asyncpg = ASYNCPG_EVIDENCE.search(self.text) is not None or self.model.project.depends_on("asyncpg")

    def visit_Call(self, node: cst.Call) -> None:
        if not self.asyncpg:
            return
        names = self.qualified(node.func)
        if not names & (COLUMNS | MAPPED_COLUMNS):
            return
        type_ = self._datetime_type(node)
        if type_ is None or not self._naive(type_):
            return
        setting = self._aware_setting(node)
        if setting is not None:
            self._report(node, setting, self._timezone_fix(type_))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self.asyncpg or not self._default_type_map(node, 0):
            return
        for line in statements(node.body):
            for small in line.body if isinstance(line, cst.SimpleStatementLine) else ():
                if not (isinstance(small, cst.AnnAssign) and isinstance(small.value, cst.Call)):
                    continue
                call = small.value
                if not self.qualified(call.func) & MAPPED_COLUMNS or not self._mapped_datetime(small.annotation):
                    continue
                if call_arg(call, None, "type_") or any(
                    a.keyword is None and not isinstance(a.value, cst.SimpleString) for a in call.args
                ):
                    continue  # an explicit type: `visit_Call` judges it
                setting = self._aware_setting(call)
                if setting is not None:
                    self._report(call, setting, self._added_type_fix(call))

    def _report(self, call: cst.Call, setting: str, fix: FixSpec | None) -> None:
        self.report(
            call,
            f"{ERROR} from asyncpg at the first insert: this column is `TIMESTAMP WITHOUT TIME ZONE` and its "
            f"`{setting}=` makes an aware datetime; use `DateTime(timezone=True)` (a type change: add a migration)",
            fix=fix,
        )

    def _datetime_type(self, call: cst.Call) -> cst.BaseExpression | None:
        candidates = [a.value for a in call.args if a.keyword is None or a.keyword.value == "type_"]
        for value in candidates:
            target = value.func if isinstance(value, cst.Call) else value
            if self.qualified(target) & DATETIME_TYPES:
                return value
        return None

    def _naive(self, type_: cst.BaseExpression) -> bool:
        if not isinstance(type_, cst.Call):
            return True
        timezone = call_arg(type_, 0, "timezone")
        return timezone is None or (isinstance(timezone.value, cst.Name) and timezone.value.value == "False")

    def _aware_setting(self, call: cst.Call) -> str | None:
        for keyword in ("default", "onupdate"):
            arg = call_arg(call, None, keyword)
            if arg is not None and self._makes_aware(arg.value, 0):
                return keyword
        return None

    def _makes_aware(self, value: cst.BaseExpression, depth: int) -> bool:
        """Whether a default (a value, a lambda, a partial, a module function) is an aware datetime."""
        if depth > 3:
            return False
        if isinstance(value, cst.Lambda):
            return self._aware_call(value.body)
        if isinstance(value, cst.Call) and self.qualified(value.func) & PARTIAL:
            first = call_arg(value, 0)
            return (
                first is not None
                and NOW in self.qualified(first.value)
                and any(a.keyword is None or a.keyword.value == "tz" for a in value.args[1:])
            )
        if isinstance(value, cst.Name):
            function = self._module_function(value.value)
            if function is not None:
                returns = _returned(function)
                return bool(returns) and all(self._aware_call(r) for r in returns)
            assigned = self.model.value_of(value)
            return assigned is not None and self._makes_aware(assigned, depth + 1)
        return self._aware_call(value)

    def _aware_call(self, value: cst.BaseExpression) -> bool:
        """`datetime.now(tz)`, `datetime.now(tz=tz)` (tz not None), or `.astimezone()` of a `now()`."""
        if not isinstance(value, cst.Call):
            return False
        if isinstance(value.func, cst.Attribute) and value.func.attr.value == "astimezone":
            inner = value.func.value
            return isinstance(inner, cst.Call) and NOW in self.qualified(inner.func)
        if NOW not in self.qualified(value.func):
            return False
        tz = call_arg(value, 0, "tz")
        return tz is not None and not (isinstance(tz.value, cst.Name) and tz.value.value == "None")

    def _module_function(self, name: str) -> cst.FunctionDef | None:
        found = [s for s in self.module.body if isinstance(s, cst.FunctionDef) and s.name.value == name]
        return found[0] if len(found) == 1 else None

    def _mapped_datetime(self, annotation: cst.Annotation) -> bool:
        """`Mapped[datetime]`, `Mapped[datetime | None]`, `Mapped[Optional[datetime]]`."""
        node = annotation.annotation
        if not (isinstance(node, cst.Subscript) and self.qualified(node.value) & MAPPED and len(node.slice) == 1):
            return False
        inner = node.slice[0].slice
        if not isinstance(inner, cst.Index):
            return False
        value = inner.value
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.BitOr):
            sides = [value.left, value.right]
            value = next((s for s in sides if not (isinstance(s, cst.Name) and s.value == "None")), value)
        elif isinstance(value, cst.Subscript) and "typing.Optional" in self.qualified(value.value):
            first = value.slice[0].slice
            value = first.value if isinstance(first, cst.Index) else value
        return DATETIME in self.qualified(value)

    def _default_type_map(self, cls: cst.ClassDef, depth: int) -> bool:
        """Whether the class maps `datetime` with SQLAlchemy's default type map: a declarative base of
        this module with no `type_annotation_map`. An imported base is not known, so not."""
        if depth > 5 or _assigns(cls, TYPE_MAP):
            return False
        for base in cls.bases:
            if self.qualified(base.value) & DECLARATIVE_BASES:
                return True
            if not isinstance(base.value, cst.Name):
                continue
            local = [s for s in self.module.body if isinstance(s, cst.ClassDef) and s.name.value == base.value.value]
            if local:
                if self._default_type_map(local[0], depth + 1):
                    return True
                continue
            made = self.model.value_of(base.value)
            if (
                isinstance(made, cst.Call)
                and self.qualified(made.func) & DECLARATIVE_BASE_FACTORIES
                and call_arg(made, None, TYPE_MAP) is None
            ):
                return True
        return False

    def _timezone_fix(self, type_: cst.BaseExpression) -> FixSpec:
        true = cst.Name("True")
        if not isinstance(type_, cst.Call):
            new: cst.BaseExpression = cst.Call(type_, [cst.Arg(true, keyword=cst.Name("timezone"), equal=_EQUAL)])
        else:
            timezone = call_arg(type_, 0, "timezone")
            new = (
                with_keyword(type_, "timezone", true)
                if timezone is None
                else type_.with_deep_changes(timezone, value=true)
            )
        return FixSpec((Replace(type_, new),), Applicability.UNSAFE, "Use `DateTime(timezone=True)`")

    def _added_type_fix(self, call: cst.Call) -> FixSpec | None:
        local, anchor = imported_name(self.module, frozenset({"sqlalchemy"}), "DateTime")
        if local is None:
            return None
        type_ = cst.parse_expression(f"{local}(timezone=True)")
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if call.args else cst.MaybeSentinel.DEFAULT
        first = cst.Arg(type_, comma=comma)
        changes: list[Replace] = [Replace(call, call.with_changes(args=[first, *call.args]))]
        if anchor is not None:
            changes.append(add_import(anchor, f"from sqlalchemy import {local}"))
        return FixSpec(tuple(changes), Applicability.UNSAFE, "Use `DateTime(timezone=True)`")


_EQUAL = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _assigns(cls: cst.ClassDef, name: str) -> bool:
    for line in statements(cls.body):
        for small in line.body if isinstance(line, cst.SimpleStatementLine) else ():
            targets = (
                [t.target for t in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
                if isinstance(small, cst.AnnAssign)
                else []
            )
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                return True
    return False


class _Returns(cst.CSTVisitor):
    def __init__(self, root: cst.FunctionDef) -> None:
        super().__init__()
        self.root = root
        self.values: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.root

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)


def _returned(function: cst.FunctionDef) -> list[cst.BaseExpression]:
    """The values a function returns (nested functions left out)."""
    finder = _Returns(function)
    function.visit(finder)
    return finder.values
