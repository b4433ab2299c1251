"""Every real-world ledger file is well-formed (no snapshots needed), and the checker catches bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.realworld import (
    LEDGER,
    Candidate,
    Finding,
    Ledger,
    Outcome,
    Pair,
    Reported,
    compare,
    file_name,
    load,
    problems,
    prune,
    tomllib,
)

LEDGERS = sorted(LEDGER.glob("*.toml"))
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GOOD = f"""
[repository]
name = "someone/service"
commit = "{COMMIT}"
uses = ["asyncpg"]
why = "a service"

[[finding]]
path = "app/db.py"
line = 3
code = "LDB103"
verdict = "real-bug"
why = "IN $1 can never run"

[[finding]]
path = "app/q.py"
line = 9
code = "LDB105"
verdict = "missed-bug"
why = "row.id on a fetchrow result"

[[candidate]]
path = "app/q.py"
verdict = "missed-bug"
why = "see the finding"

[[pair]]
path = "app/db.py"
before = "{COMMIT}"
after = "{COMMIT[::-1]}"
code = "LDB103"
line = 3
why = "the fix turned IN $1 into = ANY($1)"
"""


def test_there_are_ledger_files() -> None:
    assert LEDGERS, f"no ledger files in {LEDGER}"


@pytest.mark.parametrize("path", LEDGERS, ids=[p.name for p in LEDGERS])
def test_ledger_file_is_well_formed(path: Path) -> None:
    ledger = load(path)
    assert path.name == file_name(ledger.name)


def _problems(text: str) -> list[str]:
    return problems(tomllib.loads(text), "someone__service.toml")


def test_a_good_ledger_has_no_problems() -> None:
    assert _problems(GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('verdict = "real-bug"', 'verdict = "bug"'), "verdict 'bug' is not one of"),
        (('verdict = "missed-bug"\nwhy = "see', 'verdict = "dirty"\nwhy = "see'), "verdict 'dirty'"),
        ((f'commit = "{COMMIT}"', 'commit = "abc123"'), "`commit` must be a 40-hex commit"),
        ((f'before = "{COMMIT}"', f'before = "{COMMIT.upper()}"'), "`before` must be a 40-hex commit"),
        (('code = "LDB103"\nverdict', 'code = "LDB999"\nverdict'), "unknown rule code 'LDB999'"),
        (('why = "a service"', 'why = """two\nlines"""'), "`why` must be one non-empty line"),
        (('why = "IN $1 can never run"', 'why = ""'), "`why` must be one non-empty line"),
        (('line = 3\ncode = "LDB103"\nverdict', 'line = 0\ncode = "LDB103"\nverdict'), "`line` must be a positive"),
        (('path = "app/db.py"\nline', 'path = "../db.py"\nline'), "`path` must be a relative POSIX path"),
        (('uses = ["asyncpg"]', 'uses = ["django"]'), "`uses` must list some of"),
        (('name = "someone/service"', 'name = "other/service"'), "must be named other__service.toml"),
        (('why = "a service"', 'why = "a service"\nstars = 5'), "unknown key stars"),
        (('path = "app/q.py"\nline = 9', 'path = "app/other.py"\nline = 9'), "a missed bug with no [[finding]]"),
        ((f'after = "{COMMIT[::-1]}"', f'after = "{COMMIT}"'), "the same commit before and after"),
    ],
)
def test_a_bad_ledger_is_caught(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = _problems(GOOD.replace(old, new, 1))
    assert any(expected in problem for problem in found), found


def test_a_duplicate_entry_is_caught() -> None:
    first = GOOD.index("[[finding]]")
    entry = GOOD[first : GOOD.index("[[finding]]", first + 1)]
    found = _problems(GOOD + "\n" + entry)
    assert found == ["someone__service.toml: duplicate [[finding]] ('app/db.py', 3, 'LDB103')"]


def test_a_missing_key_is_caught() -> None:
    found = _problems(GOOD.replace('why = "IN $1 can never run"\n', "", 1))
    assert found == ["someone__service.toml [[finding]] #1: missing why"]


def test_compare_counts_verdicts_and_reports_stale_entries() -> None:
    ledger = Ledger(
        "someone/service",
        COMMIT,
        ["asyncpg"],
        "a service",
        [
            Finding("a.py", 1, "LDB103", "real-bug", "IN $1"),
            Finding("a.py", 5, "LDB105", "false-positive", "a record_class row"),
            Finding("b.py", 2, "LDB104", "missed-bug", "cursor outside a transaction"),
            Finding("c.py", 3, "LDB202", "real-bug", "only one cache"),
        ],
        [Candidate("d.py", "clean", "SQL parses"), Candidate("gone.py", "clean", "was a candidate")],
        [Pair("e.py", COMMIT, COMMIT[::-1], "LDB103", 4, "fixed IN $1")],
    )
    reported = [
        Reported("a.py", 1, "LDB103", "m"),
        Reported("a.py", 5, "LDB105", "m"),
        Reported("f.py", 9, "LDB201", "m"),
    ]
    outcome = Outcome()
    pair = ledger.pairs[0]
    compare(ledger, reported, {pair: (True, False)}, {"d.py": ["LDB107"], "new.py": ["LDB105"]}, outcome)
    ldb103, ldb202, ldb201 = outcome.tally("LDB103"), outcome.tally("LDB202"), outcome.tally("LDB201")
    assert (ldb103.reported, ldb103.real, ldb103.known, ldb103.found) == (1, 1, 2, 2)
    assert (outcome.tally("LDB105").false, outcome.tally("LDB104").known, outcome.tally("LDB104").found) == (1, 1, 0)
    assert (ldb202.known, ldb202.found, ldb201.untriaged) == (1, 0, 1)
    assert outcome.stale == [
        "someone/service f.py:9 LDB201: reported, not in the ledger (m)",
        "someone/service c.py:3 LDB202: real-bug in the ledger, no longer reported",
        "someone/service new.py: a candidate (LDB105) not in the ledger",
        "someone/service gone.py: a [[candidate]] the prefilter no longer lets through",
    ]
    assert outcome.prunable == {"someone/service": {"gone.py"}}
    assert [line.split(":")[0] for line in outcome.lists["missed"]] == [
        "someone/service b.py",
        "someone/service c.py",
    ]


def test_prune_deletes_only_the_stale_candidates(tmp_path: Path) -> None:
    path = tmp_path / "someone__service.toml"
    stale = '\n[[candidate]]\npath = "gone.py"\nverdict = "clean"\nwhy = "was a candidate"\n'
    path.write_text(GOOD + stale, encoding="utf-8")
    assert prune(path, {"gone.py", "never.py"}) == 1
    assert path.read_text(encoding="utf-8") == GOOD
    assert problems(tomllib.loads(path.read_text(encoding="utf-8")), path.name) == []
