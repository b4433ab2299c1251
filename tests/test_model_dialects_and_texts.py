"""Dialect branches around a node, and every text a name may hold (loops over literal tuples, f-strings)."""

from __future__ import annotations

import libcst as cst

from tests.model_support import find, model_of

SOURCE = """
import sqlalchemy as sa
from alembic import op

TABLES = ("a", "b")


def upgrade(url):
    bind = op.get_bind()
    is_sqlite = bind.dialect.name == "sqlite"
    for t in TABLES:
        op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{t}")
    if is_sqlite:
        op.execute("one")
    else:
        op.execute("two")
    if not is_sqlite:
        op.execute("three")
    if url.startswith("postgres"):
        return
    op.execute("four")
"""


def test_dialect_branches() -> None:
    model = model_of(SOURCE)

    def branch(code: str) -> tuple[str, bool] | None:
        return model.dialect_branch(find(model, code, cst.Call))

    assert branch('op.execute("one")') == ("sqlite", True)
    assert branch('op.execute("two")') == ("sqlite", False)
    assert branch('op.execute("three")') == ("sqlite", False)
    assert branch('op.execute("four")') == ("postgresql", False)
    assert branch("op.get_bind()") is None


def test_texts_of_a_loop_variable_and_an_f_string_over_it() -> None:
    model = model_of(SOURCE)
    call = find(model, 'op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{t}")', cst.Call)
    argument = call.args[0].value
    assert model.texts_of(argument) == ["DROP TABLE IF EXISTS _alembic_tmp_a", "DROP TABLE IF EXISTS _alembic_tmp_b"]
    assert isinstance(argument, cst.FormattedString)
    hole = argument.parts[1]
    assert isinstance(hole, cst.FormattedStringExpression)
    assert model.texts_of(hole.expression) == ["a", "b"]
    assert model.texts_of(find(model, "url", cst.Name)) == []
