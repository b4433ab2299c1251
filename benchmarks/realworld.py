"""Re-run the real-world ledger (tests/realworld/ledger/*.toml) and print precision and recall per rule.

    python benchmarks/realworld.py [--cache /work/.mirror] [--ledger DIR] [--only owner/name ...] [--prune]
    python benchmarks/realworld.py --draft owner/name

Each ledger file names a public repository, the commit that was checked, and our verdict on every finding
lintdb reported there, every missed bug, every file the prefilter let through without a finding, and
fix-commit pairs (the file before a fix must be reported where the bug is, the file after it must report
fewer findings of that code: a migration fixed in `upgrade()` may keep an unguarded `downgrade()`). The
repositories' files come from local git snapshots (``<cache>/<owner>+<name>/repo``, as `fetch` leaves
them); absent ones are skipped with a line saying so. Each commit's Python and config files are extracted
with `git archive` into a temporary directory and checked with
`lintdb check --select ALL --no-cache --output-format json`, as a user would run it. Entries that no longer
match what lintdb reports are printed as stale; the exit code is 1 when there are any.

``--only`` re-runs just the named repositories. ``--prune`` deletes the ``[[candidate]]`` entries that have
gone stale (the prefilter no longer lets the file through, or the file has findings now) from the ledger
files, as happens when a trigger gets narrower. ``--draft owner/name`` prints a ledger skeleton for a
snapshot's newest commit (verdicts left as TODO).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lintdb.config import ConfigResolver  # noqa: E402
from lintdb.discovery import discover  # noqa: E402
from lintdb.engine import candidate_codes  # noqa: E402
from lintdb.rules import RULES_BY_CODE  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LEDGER = HERE.parent / "tests" / "realworld" / "ledger"
CACHE = Path("/work/.mirror")
LINTDB = (sys.executable, "-m", "lintdb", "check", "--select", "ALL", "--no-cache", "--output-format", "json")
LINTDB += ("--no-respect-gitignore", "--exit-zero")
EXTRACTED = (".py", ".pyi", ".ini", ".cfg", ".toml")
USES = frozenset({"asyncpg", "sqlalchemy-asyncio", "alembic", "sqlalchemy"})  # "sqlalchemy": sync only
FINDING_VERDICTS = frozenset({"real-bug", "false-positive", "missed-bug"})
CANDIDATE_VERDICTS = frozenset({"clean", "missed-bug"})
COMMIT = re.compile(r"[0-9a-f]{40}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_WHY = 200
KEYS = {
    "repository": {"name", "commit", "uses", "why"},
    "finding": {"path", "line", "code", "verdict", "why"},
    "candidate": {"path", "verdict", "why"},
    "pair": {"path", "before", "after", "code", "line", "why"},
}


# --- the ledger files ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    code: str
    verdict: str
    why: str


@dataclass(frozen=True)
class Candidate:
    path: str
    verdict: str
    why: str


@dataclass(frozen=True)
class Pair:
    path: str
    before: str
    after: str
    code: str
    line: int
    why: str


@dataclass
class Ledger:
    name: str
    commit: str
    uses: list[str]
    why: str
    findings: list[Finding] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)


def file_name(repository: str) -> str:
    """The ledger file's name for ``owner/name``."""
    return repository.replace("/", "__") + ".toml"


def _problems_of_entry(kind: str, entry: Any, where: str) -> Iterator[str]:
    if not isinstance(entry, dict):
        yield f"{where}: not a table"
        return
    required = KEYS[kind]
    missing, unknown = required - entry.keys(), entry.keys() - required
    if missing:
        yield f"{where}: missing {', '.join(sorted(missing))}"
    if unknown:
        yield f"{where}: unknown key {', '.join(sorted(unknown))}"
    why = entry.get("why")
    if "why" in entry and (not isinstance(why, str) or not why.strip() or "\n" in why or len(why) > MAX_WHY):
        yield f"{where}: `why` must be one non-empty line of at most {MAX_WHY} characters"
    path = entry.get("path")
    if "path" in entry and (
        not isinstance(path, str) or not path or path.startswith("/") or ".." in path.split("/") or "\\" in path
    ):
        yield f"{where}: `path` must be a relative POSIX path inside the repository"
    line = entry.get("line")
    if "line" in entry and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        yield f"{where}: `line` must be a positive integer"
    if "code" in entry and entry["code"] not in RULES_BY_CODE:
        yield f"{where}: unknown rule code {entry['code']!r}"
    for key in ("commit", "before", "after"):
        if key in entry and not (isinstance(entry[key], str) and COMMIT.fullmatch(entry[key])):
            yield f"{where}: `{key}` must be a 40-hex commit"
    verdicts = {"finding": FINDING_VERDICTS, "candidate": CANDIDATE_VERDICTS}.get(kind)
    if verdicts is not None and "verdict" in entry and entry["verdict"] not in verdicts:
        yield f"{where}: verdict {entry['verdict']!r} is not one of {', '.join(sorted(verdicts))}"


def problems(data: dict[str, Any], source: str) -> list[str]:
    """What is wrong with one parsed ledger file (empty when it is well-formed)."""
    found: list[str] = []
    unknown = data.keys() - KEYS.keys()
    if unknown:
        found.append(f"{source}: unknown table {', '.join(sorted(unknown))}")
    repository = data.get("repository")
    if not isinstance(repository, dict):
        return [*found, f"{source}: no [repository] table"]
    found.extend(_problems_of_entry("repository", repository, f"{source} [repository]"))
    name = repository.get("name")
    if not (isinstance(name, str) and NAME.fullmatch(name)):
        found.append(f"{source}: `name` must be owner/name")
    elif Path(source).name != file_name(name):
        found.append(f"{source}: a ledger for {name} must be named {file_name(name)}")
    uses = repository.get("uses")
    if not (isinstance(uses, list) and uses and set(uses) <= USES and len(set(uses)) == len(uses)):
        found.append(f"{source}: `uses` must list some of {', '.join(sorted(USES))}, each once")
    seen: dict[str, Counter[tuple[Any, ...]]] = {kind: Counter() for kind in ("finding", "candidate", "pair")}
    keys = {
        "finding": ("path", "line", "code"),
        "candidate": ("path",),
        "pair": ("path", "before", "code", "line"),
    }
    for kind in seen:
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            found.append(f"{source}: `{kind}` must be an array of tables ([[{kind}]])")
            continue
        for index, entry in enumerate(entries):
            where = f"{source} [[{kind}]] #{index + 1}"
            entry_problems = list(_problems_of_entry(kind, entry, where))
            found.extend(entry_problems)
            if not entry_problems:
                seen[kind][tuple(entry[k] for k in keys[kind])] += 1
    for kind, counts in seen.items():
        found.extend(f"{source}: duplicate [[{kind}]] {key}" for key, count in counts.items() if count > 1)
    findings = data.get("finding") if isinstance(data.get("finding"), list) else []
    missed = {e.get("path") for e in findings if isinstance(e, dict) and e.get("verdict") == "missed-bug"}
    for entry in data.get("candidate", []) if isinstance(data.get("candidate"), list) else []:
        if isinstance(entry, dict) and entry.get("verdict") == "missed-bug" and entry.get("path") not in missed:
            found.append(f"{source}: candidate {entry.get('path')} is a missed bug with no [[finding]] for it")
    for entry in data.get("pair", []) if isinstance(data.get("pair"), list) else []:
        if isinstance(entry, dict) and entry.get("before") is not None and entry.get("before") == entry.get("after"):
            found.append(f"{source}: pair {entry.get('path')} has the same commit before and after")
    return found


def load(path: Path) -> Ledger:
    """Read and check one ledger file; raises ValueError listing its problems."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    wrong = problems(data, str(path))
    if wrong:
        raise ValueError("\n".join(wrong))
    repository = data["repository"]
    return Ledger(
        repository["name"],
        repository["commit"],
        list(repository["uses"]),
        repository["why"],
        [Finding(**entry) for entry in data.get("finding", [])],
        [Candidate(**entry) for entry in data.get("candidate", [])],
        [Pair(**entry) for entry in data.get("pair", [])],
    )


# --- snapshots and lintdb -----------------------------------------------------------------------------------


def git_dir(cache: Path, repository: str) -> Path | None:
    """The snapshot's git directory in the cache, if there is one."""
    folder = cache / repository.replace("/", "+")
    for candidate in (folder / "repo", folder):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _git(git: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git), *args], check=True, capture_output=True).stdout


def extract(git: Path, commit: str, target: Path) -> None:
    """The Python and config files of ``commit`` into ``target``, with `git archive`."""
    names = _git(git, "ls-tree", "-r", "-z", "--name-only", commit).decode("utf-8", "surrogateescape").split("\0")
    patterns = sorted({f"*{suffix}" for name in names for suffix in EXTRACTED if name.endswith(suffix)})
    target.mkdir(parents=True, exist_ok=True)
    if not patterns:
        return
    archive = _git(git, "archive", "--format=tar", commit, "--", *patterns)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        tar.extractall(target, members=members, filter="data")


@dataclass(frozen=True)
class Reported:
    path: str
    line: int
    code: str
    message: str


def run_lintdb(root: Path, targets: list[Path]) -> tuple[list[Reported], list[str]]:
    """Findings of `lintdb check --select ALL` over ``targets`` (paths relative to ``root``), and its
    error lines (files it could not check)."""
    result = subprocess.run(
        [*LINTDB, *map(str, targets)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit code 2 with findings on stdout: some files had errors (an internal error in one rule, say); the
    # other files and rules were still checked, and the error lines are returned.
    if result.returncode not in (0, 1) and not (result.returncode == 2 and result.stdout.lstrip().startswith("[")):
        raise RuntimeError(f"lintdb check failed ({result.returncode}): {result.stderr.strip()}")
    found = [
        Reported(
            Path(item["filename"]).resolve().relative_to(root).as_posix(),
            item["location"]["row"],
            item["code"],
            item["message"],
        )
        for item in json.loads(result.stdout or "[]")
    ]
    return found, [line for line in result.stderr.splitlines() if line.strip()]


def candidates(tree: Path) -> tuple[dict[str, list[str]], int]:
    """Every file lintdb would check under ``tree`` whose prefilter lets some rule through (path -> codes),
    and how many files it would check."""
    codes = frozenset(RULES_BY_CODE)
    found = {}
    files = list(discover([tree], ConfigResolver({"respect-gitignore": False}, None, True), None))
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        triggered = candidate_codes(text, codes)
        if triggered:
            found[file.relative_to(tree).as_posix()] = triggered
    return found, len(files)


# --- matching ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    reported: int = 0
    real: int = 0
    false: int = 0
    untriaged: int = 0
    known: int = 0
    found: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Outcome:
    """What one run found, over every repository: tallies per rule, listed entries, stale entries, and the
    stale ``[[candidate]]`` paths per repository (what ``--prune`` deletes)."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=lambda: {"false-positive": [], "missed": []})
    files: int = 0
    checked: int = 0
    prunable: dict[str, set[str]] = field(default_factory=dict)

    def tally(self, code: str) -> Tally:
        return self.tallies.setdefault(code, Tally())


def compare(
    ledger: Ledger,
    head: list[Reported],
    pairs: dict[Pair, tuple[bool, bool]],
    files: dict[str, list[str]],
    outcome: Outcome,
) -> None:
    """Match what lintdb reports now against the ledger's verdicts."""
    name = ledger.name
    entries = {(f.path, f.line, f.code): f for f in ledger.findings}
    reported = {(r.path, r.line, r.code): r for r in head}
    for key, report in sorted(reported.items()):
        tally = outcome.tally(report.code)
        tally.reported += 1
        entry = entries.get(key)
        where = f"{name} {report.path}:{report.line} {report.code}"
        if entry is None:
            tally.untriaged += 1
            outcome.stale.append(f"{where}: reported, not in the ledger ({report.message})")
        elif entry.verdict == "false-positive":
            tally.false += 1
            outcome.lists["false-positive"].append(f"{where}: {entry.why}")
        else:
            tally.real += 1
            if entry.verdict == "missed-bug":
                outcome.stale.append(f"{where}: a missed bug in the ledger, reported now")
    for key, entry in sorted(entries.items()):
        tally = outcome.tally(entry.code)
        where = f"{name} {entry.path}:{entry.line} {entry.code}"
        if entry.verdict != "false-positive":
            tally.known += 1
            tally.found += key in reported
        if key in reported:
            continue
        if entry.verdict == "missed-bug":
            outcome.lists["missed"].append(f"{where}: {entry.why}")
        else:
            outcome.stale.append(f"{where}: {entry.verdict} in the ledger, no longer reported")
            if entry.verdict == "real-bug":
                outcome.lists["missed"].append(f"{where}: {entry.why}")
    for pair, (before, after) in pairs.items():
        tally = outcome.tally(pair.code)
        tally.known += 1
        tally.found += before
        where = f"{name} {pair.path}:{pair.line} {pair.code} (pair {pair.before[:10]}..{pair.after[:10]})"
        if not before:
            outcome.lists["missed"].append(f"{where}: {pair.why}")
        if after:
            outcome.stale.append(f"{where}: still reported after the fix")
    with_findings = {r.path for r in head}
    triaged = {c.path: c for c in ledger.candidates}
    for path in sorted(set(files) - with_findings - set(triaged)):
        outcome.stale.append(f"{name} {path}: a candidate ({', '.join(files[path])}) not in the ledger")
    for path in sorted(triaged):
        if path not in files:
            outcome.stale.append(f"{name} {path}: a [[candidate]] the prefilter no longer lets through")
        elif path in with_findings:
            outcome.stale.append(f"{name} {path}: a [[candidate]] with findings now")
        else:
            continue
        outcome.prunable.setdefault(name, set()).add(path)
    outcome.files += len(files)


def check(ledger: Ledger, git: Path, outcome: Outcome) -> list[str]:
    """Extract the ledger's commits, run lintdb once over them, and compare; returns lintdb's error lines."""
    with tempfile.TemporaryDirectory(prefix="lintdb-realworld-") as temporary:
        root = Path(temporary).resolve()
        commits = {ledger.commit, *(p.before for p in ledger.pairs), *(p.after for p in ledger.pairs)}
        for commit in commits:
            extract(git, commit, root / commit)
        pair_files = sorted({root / c / p.path for p in ledger.pairs for c in (p.before, p.after)})
        reported, errors = run_lintdb(root, [root / ledger.commit, *(f for f in pair_files if f.is_file())])
        prefix = ledger.commit + "/"
        head = [
            Reported(r.path.removeprefix(prefix), r.line, r.code, r.message)
            for r in reported
            if r.path.startswith(prefix)
        ]
        found = {(r.path, r.line, r.code) for r in reported}
        counts = Counter((r.path, r.code) for r in reported)
        pairs = {
            p: (
                (f"{p.before}/{p.path}", p.line, p.code) in found,
                # the fix removed this finding when the file after it reports fewer of the code than before
                counts[(f"{p.after}/{p.path}", p.code)] >= counts[(f"{p.before}/{p.path}", p.code)] > 0,
            )
            for p in ledger.pairs
        }
        files, checked = candidates(root / ledger.commit)
        compare(ledger, head, pairs, files, outcome)
        outcome.checked += checked
    return errors


# --- output -----------------------------------------------------------------------------------------------


def ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "-"


def table(outcome: Outcome) -> Iterable[str]:
    yield f"{'rule':<8} {'reported':>8} {'real':>5} {'false':>5} {'untriaged':>9} {'known':>5} {'found':>5}"
    yield f"{'':<8} {'':>8} {'':>5} {'':>5} {'':>9} {'bugs':>5} {'':>5} {'precision':>9} {'recall':>7}"
    total = Tally()
    for code in sorted(outcome.tallies):
        t = outcome.tallies[code]
        total.add(t)
        yield (
            f"{code:<8} {t.reported:>8} {t.real:>5} {t.false:>5} {t.untriaged:>9} {t.known:>5} {t.found:>5} "
            f"{ratio(t.real, t.real + t.false):>9} {ratio(t.found, t.known):>7}"
        )
    t = total
    yield (
        f"{'all':<8} {t.reported:>8} {t.real:>5} {t.false:>5} {t.untriaged:>9} {t.known:>5} {t.found:>5} "
        f"{ratio(t.real, t.real + t.false):>9} {ratio(t.found, t.known):>7}"
    )


def draft(repository: str, git: Path) -> str:
    """A ledger skeleton for the snapshot's newest commit: every finding and candidate, verdicts TODO."""
    commit = _git(git, "rev-parse", "HEAD").decode().strip()
    with tempfile.TemporaryDirectory(prefix="lintdb-realworld-") as temporary:
        root = Path(temporary).resolve()
        extract(git, commit, root)
        reported, errors = run_lintdb(root, [root])
        files, _ = candidates(root)
    lines = ["[repository]", f'name = "{repository}"', f'commit = "{commit}"', 'uses = ["TODO"]', 'why = "TODO"']
    lines += [f"# lintdb: {e}" for e in errors]
    for r in sorted(reported, key=lambda r: (r.path, r.line, r.code)):
        lines += [
            "",
            "[[finding]]",
            f'path = "{r.path}"',
            f"line = {r.line}",
            f'code = "{r.code}"',
            'verdict = "TODO"',
            f"why = {json.dumps(r.message)}",
        ]
    with_findings = {r.path for r in reported}
    for path in sorted(set(files) - with_findings):
        lines += [
            "",
            "[[candidate]]",
            f'path = "{path}"',
            'verdict = "TODO"',
            f'why = "TODO ({", ".join(files[path])})"',
        ]
    return "\n".join(lines) + "\n"


def prune(path: Path, stale: set[str]) -> int:
    """Delete the ``[[candidate]]`` tables for ``stale`` paths from one ledger file; returns how many."""
    blocks = re.split(r"\n(?=\[)", path.read_text(encoding="utf-8"))
    kept = [
        block
        for block in blocks
        if not (block.startswith("[[candidate]]") and tomllib.loads(block)["candidate"][0]["path"] in stale)
    ]
    path.write_text("\n".join(kept), encoding="utf-8")
    return len(blocks) - len(kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE, help="folder of snapshots (owner+name/repo)")
    parser.add_argument("--ledger", type=Path, default=LEDGER, help="folder of ledger files")
    parser.add_argument("--draft", metavar="OWNER/NAME", help="print a ledger skeleton for a snapshot")
    parser.add_argument("--only", metavar="OWNER/NAME", nargs="+", help="re-run only these repositories")
    parser.add_argument("--prune", action="store_true", help="delete stale [[candidate]] entries from the ledger")
    args = parser.parse_args(argv)
    if args.draft:
        git = git_dir(args.cache, args.draft)
        if git is None:
            print(f"no snapshot of {args.draft} under {args.cache}", file=sys.stderr)
            return 2
        sys.stdout.write(draft(args.draft, git))
        return 0
    outcome = Outcome()
    checked: list[str] = []
    for path in sorted(args.ledger.glob("*.toml")):
        ledger = load(path)
        if args.only and ledger.name not in args.only:
            continue
        git = git_dir(args.cache, ledger.name)
        if git is None:
            print(f"skipped {ledger.name}: no snapshot under {args.cache}")
            continue
        errors = check(ledger, git, outcome)
        checked.append(ledger.name)
        for error in errors:
            print(f"{ledger.name}: lintdb: {error}")
        if args.prune and ledger.name in outcome.prunable:
            print(f"pruned {prune(path, outcome.prunable[ledger.name])} stale candidates from {path.name}")
    print(
        f"{len(checked)} repositories, {outcome.checked} Python files checked at the ledger commits, "
        f"{outcome.files} of them let through by the prefilter"
    )
    print(*table(outcome), sep="\n")
    for title, key in (("False positives", "false-positive"), ("Missed bugs", "missed")):
        print(f"\n{title} ({len(outcome.lists[key])}):")
        print(*(f"  {line}" for line in outcome.lists[key]), sep="\n")
    print(f"\nStale entries ({len(outcome.stale)}):")
    print(*(f"  {line}" for line in outcome.stale), sep="\n")
    return 1 if outcome.stale else 0


if __name__ == "__main__":
    sys.exit(main())
