"""LDB206 text-in-without-expanding."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from lintdb.cst_helpers import call_arg, string_value
from lintdb.diagnostics import Applicability
from lintdb.rule import FixSpec, Invalid, LintRule, Span, TextEdit, Valid

BINDPARAM = frozenset({"sqlalchemy.bindparam", "sqlalchemy.sql.bindparam", "sqlalchemy.sql.expression.bindparam"})

_QUERY = """
from sqlalchemy import bindparam, text


async def find(session, ids):
    query = text("SELECT id FROM t WHERE id {condition} ORDER BY id"){bind}
    return (await session.execute(query, {{"ids": ids}})).scalars().all()
"""
EXPANDING = '.bindparams(bindparam("ids", expanding=True))'


_WRAPPED = """
from sqlalchemy import text

from app.db import query

COUNT = text("SELECT count(*) FROM t")


def hide(ids):
    return query("UPDATE t SET hidden = true WHERE id {condition}", ids=tuple(ids){more})
"""


def wrapped_example(condition: str, more: str = "") -> str:
    """Hides rows through the project's own `query()` wrapper (imported: what it does is not known here)."""
    return _WRAPPED.format(condition=condition, more=more)


def query_example(condition: str, bind: str = "") -> str:
    """Selects the ids of `t` matching ``condition`` on the parameter `:ids`."""
    return _QUERY.format(condition=condition, bind=bind)


@dataclass(frozen=True)
class _Finding:
    span: Span
    name: str
    written: str
    parenthesized: bool
    negated: bool
    wrapper: bool


class TextInWithoutExpanding(LintRule):
    """
    ## What it does
    Checks SQLAlchemy `text()` SQL for `IN :name` where no `bindparam("name", expanding=True)` is
    given, and for `IN (:name)` in any case. SQL given to the project's own wrappers (`query("... IN
    :ids", ids=ids)`, the wrapper imported or defined in the module) is checked for `IN :name` unless the
    call names the parameter in an `*expand*` keyword (`bind_expanding=["ids"]`); those findings have no
    fix, since the wrapper's database is not known (on SQLite too, `IN ?` is a syntax error).

    ## Why is this bad?
    Without `expanding=True`, SQLAlchemy sends the list as one parameter: `IN :ids` becomes `IN $1`,
    a syntax error (`syntax error at or near "$1"`), and `IN (:ids)` compares with a single value
    (`invalid input for query argument $1: [1, 3]`). With `expanding=True`, `IN (:ids)` becomes
    `IN ((…))`, which works for one element and fails for two (`operator does not exist: integer =
    record`). And SQLAlchemy's compiled cache is keyed on the SQL string, not on `expanding`: once the
    same string ran one way, other uses of it behave the same way, so tests can pass by accident.

    ## Example
    ```python
    session.execute(text("SELECT id FROM t WHERE id IN :ids"), {"ids": ids})
    ```

    Use instead:
    ```python
    session.execute(text("SELECT id FROM t WHERE id = ANY(:ids)"), {"ids": ids})
    ```

    Files that mention SQLite are not checked (`= ANY` is PostgreSQL's).

    ## Fix safety
    `IN :name` → `= ANY(:name)` is safe: the original can only work with `expanding=True`. `IN
    (:name)` → `= ANY(:name)` is unsafe: a caller may pass a single value, which `= ANY` rejects. For
    `NOT IN`, `<> ALL(:name)` matches no rows when the list holds a NULL. Where the parameter is
    expanding, the fix drops the parentheses instead (`IN :name`), also unsafe.

    ## References
    - [SQLAlchemy: bindparam expanding](https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.bindparam.params.expanding)
    - [PostgreSQL: Row and Array Comparisons](https://www.postgresql.org/docs/current/functions-comparisons.html)
    """

    CODE = "LDB206"
    NAME = "text-in-without-expanding"
    MESSAGE = "`IN :name` in `text()` needs an expanding bind parameter; use `= ANY(:name)`"
    FIX_TITLE = "Replace with `= ANY(:name)`"
    FIX_AVAILABILITY = "Sometimes"

    VALID = (
        Valid(query_example("= ANY(:ids)")),
        Valid(query_example("IN :ids", EXPANDING)),
        Valid(query_example("IN (:first, :second)")),
        Valid("""
            from sqlalchemy import create_engine, text

            engine = create_engine("sqlite:///app.db")
            QUERY = text("SELECT id FROM t WHERE id IN (:id)")
            """),
        Valid(wrapped_example("IN :ids", ', bind_expanding=["ids"]')),
        Valid(wrapped_example("IN (:ids)")),
    )
    INVALID = (
        Invalid(
            query_example("IN :ids"),
            positions=[(5, 45)],
            fixed=query_example("= ANY(:ids)"),
            applicability=Applicability.SAFE,
        ),
        Invalid(
            query_example("IN (:ids)"),
            positions=[(5, 45)],
            fixed=query_example("= ANY(:ids)"),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            query_example("IN (:ids)", EXPANDING),
            positions=[(5, 45)],
            fixed=query_example("IN :ids", EXPANDING),
            applicability=Applicability.UNSAFE,
        ),
        Invalid(
            query_example("NOT IN :ids"),
            positions=[(5, 45)],
            fixed=query_example("<> ALL(:ids)"),
            applicability=Applicability.SAFE,
        ),
        Invalid(wrapped_example("IN :ids"), positions=[(9, 55)]),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self.checked = "sqlite" not in self.text.lower()
        self.expanding: set[str] = set()
        self.findings: list[_Finding] = []

    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified(node.func)
        if names & BINDPARAM:
            key, flag = call_arg(node, 0, "key"), call_arg(node, None, "expanding")
            name = string_value(key.value) if key else None
            if (
                name is not None
                and flag is not None
                and isinstance(flag.value, cst.Name)
                and flag.value.value == "True"
            ):
                self.expanding.add(name)
        elif self.checked and self.model.is_text(node):
            self._collect(node)
        elif self.checked and (site := self.model.sql_site(node)) is not None and site.style == "wrapper":
            self._collect(node, _expanded_by(node))

    def _collect(self, call: cst.Call, expanded: frozenset[str] | None = None) -> None:
        """The `IN :name` of a `text()` call, or of a wrapper call (``expanded``: the names its arguments
        ask it to expand)."""
        sql = self.model.sql_of_call(call)
        if sql is None or ":" not in sql.text:
            return
        tokens = sql.with_binds_as_params().tokens()
        for index, token in enumerate(tokens):
            if token.name != "IN_P":
                continue
            negated = index > 0 and tokens[index - 1].name in ("NOT", "NOT_LA")
            rest = [t.name for t in tokens[index + 1 : index + 4]]
            parenthesized = rest == ["ASCII_40", "PARAM", "ASCII_41"]
            if rest[:1] != ["PARAM"] and not parenthesized:
                continue
            param = tokens[index + 2] if parenthesized else tokens[index + 1]
            match = re.match(r":(\w+)", sql.text[param.start :])
            if match is None:
                continue
            if expanded is not None and (match.group(1) in expanded or "*" in expanded):
                continue
            first = tokens[index - 1] if negated else token
            end = tokens[index + 3].end if parenthesized else param.start + len(match.group(0))
            span = sql.span(first.start, end)
            if span is not None:
                self.findings.append(
                    _Finding(
                        span,
                        match.group(1),
                        " ".join(sql.text[first.start : end].split()),
                        parenthesized,
                        negated,
                        expanded is not None,
                    )
                )

    def leave_Module(self, original_node: cst.Module) -> None:
        for finding in self.findings:
            if finding.wrapper:
                self._report_wrapper(finding)
                continue
            expanding = finding.name in self.expanding
            if expanding and not finding.parenthesized:
                continue
            if expanding:  # the list is expanded: drop the parentheses that made it a row
                replacement = f"{'NOT IN' if finding.negated else 'IN'} :{finding.name}"
            else:
                replacement = f"<> ALL(:{finding.name})" if finding.negated else f"= ANY(:{finding.name})"
            if not finding.parenthesized:
                why = f"SQLAlchemy sends the list as one parameter and `{finding.written}` is a syntax error"
            elif expanding:
                why = f"with `expanding=True`, `{finding.written}` becomes `IN ((…))` and fails for more than one value"
            else:
                why = (
                    f"`{finding.written}` compares with one value, so a list raises `invalid input for query argument`"
                )
            applicability = Applicability.UNSAFE if finding.parenthesized else Applicability.SAFE
            fix = FixSpec((TextEdit(finding.span, replacement),), applicability, f"Replace with `{replacement}`")
            self.report(
                finding.span,
                f"{why}; use `{replacement}`"
                + (" (a NULL in the list makes `<> ALL` match no rows)" if finding.negated and not expanding else ""),
                fix=fix,
            )

    def _report_wrapper(self, finding: _Finding) -> None:
        """A wrapper's `IN :name`: no fix, since its database and driver are not known here."""
        if finding.parenthesized:
            return  # `IN (:name)` is right for one value, and the wrapper's callers are not known
        self.report(
            finding.span,
            f"`{finding.written}` sent through the project's wrapper: without an expanding bind parameter the list "
            f"is one parameter, a syntax error on asyncpg and on SQLite; expand it "
            f'(`bindparam("{finding.name}", expanding=True)`) or, on PostgreSQL only, use `= ANY(:{finding.name})`',
        )


def _expanded_by(call: cst.Call) -> frozenset[str]:
    """The parameter names a wrapper call asks to expand: the strings of its `*expand*` keywords
    (`bind_expanding=["ids"]`), or "*" for `expanding=True`."""
    found: set[str] = set()
    for arg in call.args:
        if arg.keyword is None or "expand" not in arg.keyword.value.lower():
            continue
        value = arg.value
        if isinstance(value, cst.Name) and value.value == "True":
            found.add("*")
        items = value.elements if isinstance(value, (cst.List, cst.Tuple, cst.Set)) else ()
        found.update(text for e in items if (text := string_value(e.value)) is not None)
        if (text := string_value(value)) is not None:
            found.add(text)
    return frozenset(found)
