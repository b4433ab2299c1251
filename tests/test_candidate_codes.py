"""`candidate_codes`: which rules would parse a text (the prefilter the real-world ledger triages)."""

from __future__ import annotations

from lintdb.engine import FileSettings, candidate_codes, lint_source
from lintdb.rules import RULES_BY_CODE

ALL = frozenset(RULES_BY_CODE)
IN_LIST = 'async def f(con, ids):\n    return await con.fetch("SELECT * FROM t WHERE id IN $1", ids)\n'
CACHE = 'engine = create_async_engine("postgresql+asyncpg://h/db", connect_args={"statement_cache_size": 0})\n'
IN_DOCSTRING = '"""Usage: con.fetch("SELECT * FROM t WHERE id IN $1", ids)"""\n\nx = 1\n'


def test_a_trigger_in_code_makes_its_rule_a_candidate() -> None:
    assert "LDB103" in candidate_codes(IN_LIST, ALL)
    assert candidate_codes(CACHE, ALL) == ["LDB202"]


def test_codes_come_sorted_and_only_from_the_selection() -> None:
    codes = candidate_codes(IN_LIST + CACHE, ALL)
    assert codes == sorted(codes)
    assert {"LDB103", "LDB202"} <= set(codes)
    assert candidate_codes(IN_LIST + CACHE, {"LDB202", "LDB301"}) == ["LDB202"]


def test_a_trigger_only_in_a_docstring_is_no_candidate() -> None:
    assert candidate_codes(IN_DOCSTRING, ALL) == []


def test_unused_noqa_is_never_a_candidate() -> None:
    assert candidate_codes("x = 1  # noqa: LDB103\n", ALL) == []


def test_a_text_with_no_candidate_is_never_parsed() -> None:
    broken = "def f(:\n    x = 'ON COMMIT PRESERVE ROWS'\n"
    assert candidate_codes(broken, ALL) == []
    assert lint_source(broken, FileSettings(codes=ALL)) == []


def test_a_rule_needing_a_second_word_is_no_candidate_without_it() -> None:
    # LDB202 needs asyncpg, or `connect_args` (only asyncpg takes `statement_cache_size` there)
    no_driver = 'options = {"statement_cache_size": 0}\nengine = create_async_engine("postgresql://h/db")\n'
    assert candidate_codes(no_driver, ALL) == []
    assert candidate_codes(CACHE.replace("postgresql+asyncpg", "postgresql"), ALL) == ["LDB202"]
