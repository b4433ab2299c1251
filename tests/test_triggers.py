"""The cheap stages (lintdb.triggers) against the rules they guard: one entry per rule, every bad example
gets through, the candidate checks on Python's `ast` never reject a file a rule has a finding in (on the
examples, the fuzz corpus and the installed SQLAlchemy, Alembic and asyncpg sources), and the commands that
need no rule never import LibCST or pglast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import alembic
import asyncpg
import hypothesmith
import pytest
import sqlalchemy
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.realworld import CACHE, LEDGER, _git, git_dir, load
from lintdb.catalog import RULES_BY_CODE as CATALOG
from lintdb.config import build_settings
from lintdb.engine import SourceError, _run_rules, candidate_codes
from lintdb.options import RuleOptions
from lintdb.prefilter import FileText
from lintdb.rule import Invalid, LintRule, Valid
from lintdb.rules import RULES, RULES_BY_CODE
from lintdb.triggers import TRIGGERS, candidates, text_codes
from tests.test_fuzz import FUZZ, SNIPPETS

CODES = [code for code in RULES_BY_CODE if code != "LDB900"]
PACKAGES = [Path(m.__file__).parent for m in (sqlalchemy, alembic, asyncpg) if m.__file__]


DEFAULT_OPTIONS = RuleOptions()


def _rejected_findings(text: str, options: RuleOptions = DEFAULT_OPTIONS) -> list[tuple[str, str]]:
    """Findings of the rules whose text stages fire but whose candidate check rejects the text, computed
    by running those rules anyway (the candidate stage bypassed)."""
    view = FileText(text)
    kept = set(candidates(view, CODES))
    rejected = [code for code in text_codes(view, CODES) if code not in kept]
    if not rejected:
        return []
    crashes: dict[str, str] = {}
    try:
        found = _run_rules(text, [RULES_BY_CODE[c] for c in rejected], options, crashes)
    except SourceError:
        return []
    return [(report.code, report.message) for report, _, _, _ in found]


def test_every_rule_has_exactly_one_trigger_and_one_catalog_entry() -> None:
    assert sorted(TRIGGERS) == sorted(RULES_BY_CODE) == list(CATALOG)
    assert len(RULES) == len(RULES_BY_CODE)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_catalog_reads_what_the_rule_class_says(rule: type[LintRule]) -> None:
    info = CATALOG[rule.CODE]
    assert (info.NAME, info.MESSAGE, info.FIX_TITLE, info.FIX_AVAILABILITY, info.DEFAULT_ENABLED) == (
        rule.NAME,
        rule.MESSAGE,
        rule.FIX_TITLE,
        rule.FIX_AVAILABILITY,
        rule.DEFAULT_ENABLED,
    )
    assert (info.documentation(), info.url(), info.module, info.class_name) == (
        rule.documentation(),
        rule.url(),
        rule.__module__,
        rule.__name__,
    )


def _examples(kind: str) -> list[object]:
    return [
        pytest.param(rule, case, id=f"{rule.CODE}-{kind}-{i}")
        for rule in RULES
        for i, case in enumerate(getattr(rule, kind))
        if rule.CODE != "LDB900"
    ]


@pytest.mark.parametrize(("rule", "case"), _examples("INVALID"))
def test_trigger_and_candidate_check_pass_every_bad_example(rule: type[LintRule], case: Invalid) -> None:
    assert candidate_codes(case.source(), [rule.CODE]) == [rule.CODE]


@pytest.mark.parametrize(("rule", "case"), _examples("INVALID") + _examples("VALID"))
def test_candidate_checks_reject_no_example_with_a_finding(rule: type[LintRule], case: Invalid | Valid) -> None:
    options = build_settings(dict(case.options), {"select": ["ALL"]}, Path.cwd(), None).for_file(Path("x.py")).options
    assert _rejected_findings(case.source(), options) == []


@FUZZ
@given(hypothesmith.from_grammar(), st.sampled_from(SNIPPETS), st.integers(min_value=0, max_value=200))
def test_candidate_checks_reject_no_fuzzed_file_with_a_finding(program: str, snippet: str, cut: int) -> None:
    lines = program.splitlines(keepends=True)
    at = cut % (len(lines) + 1)
    text = "".join(lines[:at]) + ("\n" if lines[:at] and not lines[at - 1].endswith("\n") else "") + snippet
    assert _rejected_findings(text + "".join(lines[at:])) == []


def test_candidate_checks_reject_no_real_file_with_a_finding() -> None:
    found = {
        str(path): findings
        for root in PACKAGES
        for path in sorted(root.rglob("*.py"))
        if (findings := _rejected_findings(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert found == {}


def test_candidate_checks_reject_real_files() -> None:
    """The checks do work: some real files pass the text stages of LDB107 and LDB205 but not their checks."""
    rejected = set()
    for root in PACKAGES:
        for path in root.rglob("*.py"):
            view = FileText(path.read_text(encoding="utf-8", errors="replace"))
            rejected |= set(text_codes(view, ["LDB107", "LDB205"])) - set(candidates(view, ["LDB107", "LDB205"]))
    assert rejected == {"LDB107", "LDB205"}


def test_second_wave_candidate_checks_reject_real_files() -> None:
    """LDB207-LDB210's checks reject some real files that pass their text stages."""
    codes = ["LDB207", "LDB208", "LDB209", "LDB210"]
    rejected = set()
    for root in PACKAGES:
        for path in root.rglob("*.py"):
            view = FileText(path.read_text(encoding="utf-8", errors="replace"))
            rejected |= set(text_codes(view, codes)) - set(candidates(view, codes))
    assert rejected == set(codes)


_RENAME = """
from sqlalchemy.ext.asyncio import AsyncSession
from app.models import User


async def rename(session: AsyncSession, user_id: int, name: str) -> str:
    user = await session.get(User, user_id)
    user.name = name
    await session.commit()
"""
_COUNTS = """
import asyncio
from sqlalchemy.ext.asyncio import AsyncSession


async def counts(db: AsyncSession, factory) -> list[int]:
"""
_COLUMN = """
from datetime import datetime, timezone

import asyncpg  # LDB209 reports only where asyncpg is in play
from sqlalchemy import Column, DateTime

"""
_ENGINE = """
import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

"""
# (code, source, whether the candidate check lets it through, whether the rule reports it when run anyway)
SECOND_WAVE_SHAPES = {
    "207-read-after-commit": ("LDB207", _RENAME + "    return user.name\n", True, True),
    "207-refreshed": ("LDB207", _RENAME + "    await session.refresh(user)\n    return user.name\n", False, False),
    "207-refreshed-on-the-reading-line": (
        "LDB207",
        _RENAME + "    await session.refresh(user); return user.name\n",
        True,
        True,
    ),
    "207-committed-again": (
        "LDB207",
        _RENAME + "    await session.refresh(user)\n    await session.commit()\n    return user.name\n",
        True,
        True,
    ),
    "207-no-read": ("LDB207", _RENAME + "    return name\n", False, False),
    "207-result-not-an-object": (
        "LDB207",
        _RENAME
        + "    result = await session.execute(DELETE)\n    await session.commit()\n    return result.rowcount\n",
        False,
        False,
    ),
    "208-named-coroutines": (  # coroutines stored in names, then gathered: the rule follows the names
        "LDB208",
        _COUNTS
        + "    users = db.scalar(USERS)\n    orders = db.scalar(ORDERS)\n"
        + "    return await asyncio.gather(users, orders)\n",
        True,
        True,
    ),
    "208-a-session-each": (
        "LDB208",
        _COUNTS + '    await db.execute(X)\n    return await asyncio.gather(count(factory, "a"), count(other, "b"))\n',
        False,
        False,
    ),
    "209-aware-name": (
        "LDB209",
        _COLUMN + "NOW = lambda: datetime.now(timezone.utc)\ncreated = Column(DateTime, default=NOW)\n",
        True,
        True,
    ),
    "209-utcnow-attribute": (
        "LDB209",
        _COLUMN + "created = Column(DateTime, default=datetime.utcnow)\nstamp = datetime.now(timezone.utc)\n",
        False,
        False,
    ),
    "209-timezone-column": (
        "LDB209",
        _COLUMN + "created = Column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))\n",
        False,
        False,
    ),
    "209-builtin-default": (
        "LDB209",
        _COLUMN + "created = Column(DateTime, default=dict)\nstamp = datetime.now(timezone.utc)\n",
        False,
        False,
    ),
    "209-server-side-now": (
        "LDB209",
        _COLUMN + "created = Column(DateTime, default=func.now())\nstamp = datetime.now(timezone.utc)\n",
        False,
        False,
    ),
    "209-naive-now": ("LDB209", _COLUMN + "created = Column(DateTime, default=lambda: datetime.now())\n", False, False),
    "210-f-string-url": (
        "LDB210",
        _ENGINE + 'engine = create_async_engine(f"postgresql+asyncpg://{HOST}/app?sslmode=require")\n',
        True,
        True,
    ),
    "210-psycopg-url": (
        "LDB210",
        _ENGINE + 'engine = create_async_engine("postgresql+psycopg://db/app?sslmode=require")\n',
        False,
        False,
    ),
}


@pytest.mark.parametrize(("code", "source", "passes", "reported"), SECOND_WAVE_SHAPES.values(), ids=SECOND_WAVE_SHAPES)
def test_second_wave_candidate_checks_on_shapes(code: str, source: str, passes: bool, reported: bool) -> None:
    found = _run_rules(source, [RULES_BY_CODE[code]], DEFAULT_OPTIONS, {})
    assert (candidate_codes(source, [code]), [r.code for r, _, _, _ in found]) == (
        [code] if passes else [],
        [code] if reported else [],
    )


_MIGRATION_NEAR_MISSES = {
    "LDB305-add-column": """
from alembic import op
import sqlalchemy as sa

STATUS = sa.Enum("open", "closed", name="status")


def upgrade():
    op.add_column("ticket", sa.Column("status", STATUS, nullable=True))


def downgrade():
    op.drop_column("ticket", "status")
""",
    "LDB305-dropped": """
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ENUM as PgEnum


def upgrade():
    op.create_table("ticket", sa.Column("status", PgEnum("open", "closed", name="Status")))
    op.create_table("task", sa.Column("state", sa.Enum("new", "done", name="state")))


def downgrade():
    op.drop_table("task")
    op.drop_table("ticket")
    op.execute(sa.text('DROP TYPE IF EXISTS "Status", public.state'))
""",
    "LDB305-dropped-by-drop": """
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

STATUS = sa.Enum("open", "closed", name="status")


def upgrade():
    kind = postgresql.ENUM("a", "b", name="kind")
    op.create_table("ticket", sa.Column("status", STATUS), sa.Column("kind", kind))


def downgrade():
    op.drop_table("ticket")
    STATUS.drop(op.get_bind())
    kind = postgresql.ENUM(name="kind")  # downgrade()'s own binding wins over upgrade()'s
    kind.drop(op.get_bind())
""",
    "LDB306-words": """
from alembic import op


def upgrade():
    op.create_index("ix_ticket_title", "ticket", ["title"])
    op.execute("UPDATE ticket SET title = 'commit' WHERE title = ''")  # the database keeps a commit log


def downgrade():
    op.drop_index("ix_ticket_title")
""",
    "LDB306-autocommit": """
from alembic import op
import sqlalchemy as sa


def upgrade():
    with op.get_context().autocommit_block():
        op.execute(sa.text("CREATE INDEX CONCURRENTLY ix_ticket_title ON ticket (title)"))
        op.execute("ALTER TYPE status ADD VALUE IF NOT EXISTS 'archived' AFTER 'closed'")
        op.create_index("ix_ticket_owner", "ticket", ["owner"], postgresql_concurrently=True)


def downgrade():
    pass
""",
    "LDB307": """
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.add_column("account", sa.Column("email", sa.String(255), nullable=False, server_default=""))
    op.create_table("audit", sa.Column("id", sa.Integer, nullable=False))
""",
    "LDB308": """
import asyncio

from alembic import op


async def migrate():
    await asyncio.sleep(0)


def upgrade():
    op.execute("SELECT 1")
""",
}


@pytest.mark.parametrize(("code", "source"), _MIGRATION_NEAR_MISSES.items(), ids=list(_MIGRATION_NEAR_MISSES))
def test_migration_candidate_checks_reject_near_misses_their_words_let_through(code: str, source: str) -> None:
    code = code.split("-")[0]
    view = FileText(source)
    assert (text_codes(view, [code]), candidates(view, [code])) == ([code], [])
    assert _rejected_findings(source) == []


_MIGRATION_HITS = {
    "LDB305-unquoted-drop": """
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table("ticket", sa.Column("status", sa.Enum("open", "closed", name="Status")))


def downgrade():
    op.drop_table("ticket")
    op.execute("DROP TYPE Status")  # PostgreSQL folds the name to status: "Status" stays
""",
    "LDB305-dropped-out-of-scope": """
from alembic import op
import sqlalchemy as sa


def upgrade():
    status = sa.Enum("open", "closed", name="status")
    op.create_table("ticket", sa.Column("status", status))


def downgrade():
    op.drop_table("ticket")
    status.drop(op.get_bind())  # upgrade()'s local: a NameError, the type stays
""",
    "LDB306-bound-in-block": """
from alembic import op


def upgrade():
    with op.get_context().autocommit_block():
        sql = "VACUUM ticket"
    op.execute(sql)


def downgrade():
    pass
""",
    "LDB306-value-used": """
from alembic import op


def upgrade():
    op.execute("ALTER TYPE status ADD VALUE 'archived'")
    op.execute("UPDATE ticket SET status = 'archived' WHERE closed")


def downgrade():
    pass
""",
    "LDB307-bound": """
from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table("audit", sa.Column("id", sa.Integer, nullable=False))
    email = sa.Column("email", sa.String(255), nullable=False, server_default=None)
    op.add_column("account", email)
""",
}


@pytest.mark.parametrize(("code", "source"), _MIGRATION_HITS.items(), ids=list(_MIGRATION_HITS))
def test_migration_candidate_checks_keep_the_shapes_next_to_their_near_misses(code: str, source: str) -> None:
    code = code.split("-")[0]
    assert candidate_codes(source, [code]) == [code]
    found = _run_rules(source, [RULES_BY_CODE[code]], DEFAULT_OPTIONS, {})
    assert [report.code for report, _, _, _ in found] == [code]


def _reported_in_ledger() -> list[tuple[Path, str, str, str]]:
    """(git dir, commit, path, code) of every ledger finding lintdb reports (real bug or false positive) of a
    rule with a candidate check, in the snapshots present under the cache."""
    found = []
    for ledger in map(load, sorted(LEDGER.glob("*.toml"))):
        git = git_dir(CACHE, ledger.name)
        for finding in ledger.findings if git is not None else ():
            if finding.verdict != "missed-bug" and TRIGGERS[finding.code].candidate is not None:
                found.append((git, ledger.commit, finding.path, finding.code))
    return found


def test_candidate_checks_pass_every_file_the_ledger_has_a_finding_in() -> None:
    """On real code: each file of the real-world ledger with a reported finding (at the ledger's commit)
    passes that rule's candidate check."""
    reported = _reported_in_ledger()
    if not reported:
        pytest.skip(f"no ledger snapshot under {CACHE}")
    texts = {}
    for git, commit, path, _ in reported:
        texts.setdefault((git, commit, path), _git(git, "show", f"{commit}:{path}").decode("utf-8", "replace"))
    missed = sorted(
        (path, code)
        for git, commit, path, code in reported
        if code not in candidates(FileText(texts[git, commit, path]), [code])
    )
    assert missed == []
    assert {code for *_, code in reported} >= {"LDB305", "LDB306", "LDB307"}


@pytest.mark.parametrize(
    "args",
    [["--version"], ["rule", "LDB107"], ["rule", "--all", "--output-format", "json"], ["check", "--no-cache", "."]],
    ids=["version", "rule", "rule-all", "check-clean-files"],
)
def test_commands_that_need_no_rule_import_neither_libcst_nor_pglast(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text('import json\n\n\ndef f(x):\n    return json.dumps({"select": x})\n')
    (tmp_path / "pyproject.toml").write_text('[tool.lintdb]\nselect = ["ALL"]\n')
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lintdb", *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "lintdb.cli" in imported
    assert {m for m in imported if m.split(".")[0] in ("libcst", "pglast") or m.startswith("lintdb.rules")} == set()


def test_invalid_configuration_imports_neither_libcst_nor_pglast(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lintdb]\nselect = ["LDB999"]\n')
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lintdb", "check", "."], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 2 and "LDB999" in run.stderr
    assert " libcst" not in run.stderr and " pglast" not in run.stderr


def _imported(args: list[str], cwd: Path) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lintdb", *args], cwd=cwd, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}


def test_version_imports_only_the_argument_parser(tmp_path: Path) -> None:
    imported = _imported(["--version"], tmp_path)
    assert {m for m in imported if m.startswith("lintdb")} == {"lintdb", "lintdb.cli", "lintdb.output_formats"}
    assert {"urllib.request", "http.client", "xml.sax.saxutils", "tomllib", "concurrent.futures"} & imported == set()


def test_rule_imports_the_catalog_but_not_the_checking_machinery(tmp_path: Path) -> None:
    imported = _imported(["rule", "LDB107"], tmp_path)
    assert {"lintdb.catalog", "lintdb.docs", "lintdb.rule_command"} <= imported
    heavy = {"lintdb.check_command", "lintdb.config", "lintdb.engine", "lintdb.output", "lintdb.runner"}
    assert heavy & imported == set()
    assert {"urllib.request", "http.client", "xml.sax.saxutils"} & imported == set()
