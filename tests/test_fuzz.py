"""Fuzzing with hypothesmith: on any program (and programs with our triggers spliced in) lintdb never
raises anything but a one-line SourceError, diagnostics lie inside the file, every fix re-parses, and
fixing is idempotent. CI runs a bounded number of examples; set LINTDB_FUZZ_EXAMPLES for a longer run."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lintdb.config import build_settings
from lintdb.diagnostics import Applicability
from lintdb.engine import FileSettings, SourceError, fix_source, lint_source, parse
from lintdb.rules import RULES

EXAMPLES = int(os.environ.get("LINTDB_FUZZ_EXAMPLES", "60"))
SETTINGS: FileSettings = build_settings({}, {"select": ["ALL"]}, Path.cwd(), None).for_file(Path("fuzz.py"))
SNIPPETS = [case.source() for rule in RULES for case in (*rule.INVALID, *rule.VALID)]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _compiles(text: str) -> bool:
    try:
        compile(text, "fuzz.py", "exec")
    except SyntaxError:
        return False
    return True


def _check(text: str) -> None:
    try:
        parse(text)
    except SourceError:
        with contextlib.suppress(SourceError):
            lint_source(text, SETTINGS)
        return
    try:
        diagnostics = lint_source(text, SETTINGS)
    except SourceError:
        return  # a one-line error for the file is the designed outcome; a fix that breaks code is not
    for d in diagnostics:
        assert 0 <= d.start <= d.end <= len(text)
        assert all(0 <= e.start <= e.end <= len(text) for e in (d.fix.edits if d.fix else ()))
    fixed = fix_source(text, SETTINGS, Applicability.UNSAFE)
    parse(fixed.text)
    if _compiles(text):  # a spliced `from __future__` import after other code parses but never compiles
        compile(fixed.text, "fuzz.py", "exec")
    assert fix_source(fixed.text, SETTINGS, Applicability.UNSAFE).text == fixed.text


@FUZZ
@given(hypothesmith.from_grammar())
def test_generated_programs(program: str) -> None:
    _check(program)


@FUZZ
@given(hypothesmith.from_grammar(), st.sampled_from(SNIPPETS), st.integers(min_value=0, max_value=200))
@example(  # found by this test: ` \\` joins the snippet's first line into an indented one that LibCST
    # parses and CPython does not compile; the fixed text is then no more compilable than the input
    program="\n \\\n\n",
    snippet="from sqlalchemy import text\n\n\nasync def load(session):\n    await session.execute(text('SELECT 1'))\n",
    cut=2,
)
def test_generated_programs_with_triggers_spliced_in(program: str, snippet: str, cut: int) -> None:
    lines = program.splitlines(keepends=True)
    at = cut % (len(lines) + 1)
    _check(
        "".join(lines[:at])
        + ("\n" if lines[:at] and not lines[at - 1].endswith("\n") else "")
        + snippet
        + "".join(lines[at:])
    )


@FUZZ
@example(  # found by this test: a table name with a quote broke the guard's string literal
    snippet="from alembic import op\n\n\ndef upgrade():\n"
    '    with op.batch_alter_table("a_table_name") as batch_op:\n        batch_op.drop_column("x")\n',
    noise=":",
    cut=79,
)
@example(  # found by this test: LibCST drops a backslash continuation on line 1, so its offsets were off
    snippet="async def find(con, ids):\n"
    '    return await con.fetch("SELECT id FROM t WHERE id IN $1 ORDER BY id", ids)\n',
    noise="\\\r",
    cut=0,
)
@example(
    snippet="async def f(c, r):\n    d = r.driver_connection\n"
    '    await d.execute(\'CREATE TEMP TABLE "T""x" (a int) ON COMMIT DROP\')\n',
    noise="",
    cut=0,
)
@given(
    st.sampled_from(SNIPPETS),
    st.text(alphabet="\t\n\r \\'\"#$()[]{}:,;=INotin1", max_size=20),
    st.integers(min_value=0, max_value=5000),
)
def test_snippets_with_noise_inserted(snippet: str, noise: str, cut: int) -> None:
    at = cut % (len(snippet) + 1)
    _check(snippet[:at] + noise + snippet[at:])
