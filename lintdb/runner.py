"""Checking many files: cache look-ups, a process pool sized to the work, fixing and writing."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lintdb.cache import Cache
from lintdb.config import ConfigResolver, Settings
from lintdb.diagnostics import Applicability, Diagnostic
from lintdb.engine import FileSettings, InvalidSyntax, SourceError, lint_file_text, lint_source
from lintdb.fileio import read_source, write_source
from lintdb.noqa import parse_suppressions
from lintdb.source import SourceText
from lintdb.syntax import syntax_diagnostic

POOL_THRESHOLD = 40


@dataclass(frozen=True)
class Mode:
    """What to do with each file."""

    fix: Applicability | None = None
    write: bool = True
    add_noqa: bool = False


@dataclass
class Outcome:
    """The result for one file."""

    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str = ""
    original: str = ""
    errors: list[str] = field(default_factory=list)
    fixed: Counter[str] = field(default_factory=Counter)
    noqa_added: int = 0


def add_noqa(text: str, diagnostics: Iterable[Diagnostic]) -> tuple[str, int]:
    """Append or extend `# noqa: CODES` on each diagnostic's noqa row."""
    source = SourceText(text)
    noqa = parse_suppressions(text, source.line_starts)
    wanted: dict[int, list[str]] = {}
    for diagnostic in diagnostics:
        codes = wanted.setdefault(diagnostic.noqa_row, [])
        if diagnostic.code not in codes:
            codes.append(diagnostic.code)
    pieces: list[tuple[int, str]] = []
    for row, codes in wanted.items():
        directive = noqa.lines.get(row)
        if directive is None:
            pieces.append((source.line_end(row), f"  # noqa: {', '.join(codes)}"))
        elif directive.codes is not None:
            missing = [c for c in codes if c not in {code for code, _, _ in directive.codes}]
            if missing:
                pieces.append((directive.codes[-1][2], ", " + ", ".join(missing)))
    out: list[str] = []
    pos = 0
    for offset, insert in sorted(pieces):
        out.extend((text[pos:offset], insert))
        pos = offset
    out.append(text[pos:])
    return "".join(out), len(pieces)


def check_text(path: Path, text: str, settings: FileSettings, mode: Mode) -> Outcome:
    """Lint (or fix) one text in memory."""
    try:
        result = lint_file_text(text, settings, mode.fix)
    except InvalidSyntax as error:
        return Outcome(path, [syntax_diagnostic(text, error)], text, text)
    except SourceError as error:
        return Outcome(path, text=text, original=text, errors=[str(error)])
    outcome = Outcome(path, result.diagnostics, result.text, text, fixed=result.fixed, errors=result.errors)
    if mode.add_noqa and result.diagnostics:
        outcome.text, outcome.noqa_added = add_noqa(text, result.diagnostics)
        outcome.diagnostics = lint_source(outcome.text, settings)
    return outcome


def check_file(job: tuple[Path, FileSettings, Mode]) -> Outcome:
    """Read, check and (when asked) write back one file; every failure becomes a one-line reason."""
    path, settings, mode = job
    try:
        source = read_source(path)
        outcome = check_text(path, source.text, settings, mode)
        if mode.write and outcome.text != source.text:
            write_source(source, outcome.text)
    except SourceError as error:
        return Outcome(path, errors=[str(error)])
    except Exception as error:  # a bug in lintdb must not cost the other files their check
        return Outcome(path, errors=[f"internal error: {type(error).__name__}: {error} (please report this)"])
    return outcome


def _counted(
    results: Iterable[Outcome], done: int, total: int, progress: Callable[[int, int], None] | None
) -> Iterator[Outcome]:
    for outcome in results:
        done += 1
        if progress is not None:
            progress(done, total)
        yield outcome


def _reusable(diagnostics: list[Diagnostic], mode: Mode) -> bool:
    """Whether a file's cached diagnostics are its outcome in this mode: fixing would change nothing."""
    if mode.add_noqa:
        return not diagnostics
    return mode.fix is None or not any(
        d.fix is not None and d.fix.applicability >= mode.fix and d.fix.edits for d in diagnostics
    )


def _cached_outcome(path: Path, diagnostics: list[Diagnostic]) -> Outcome | None:
    """The outcome of a cached file; a file with findings is read (the output shows its lines)."""
    if not diagnostics:
        return Outcome(path)
    try:
        text = read_source(path).text
    except (OSError, SourceError):
        return None
    return Outcome(path, diagnostics, text, text)


def pool_size(jobs: int) -> int:
    """Worker processes for ``jobs`` files: one per POOL_THRESHOLD files, at most one per core (a pool's
    start costs about what checking that many files in-process does)."""
    return min(os.cpu_count() or 1, max(1, jobs // POOL_THRESHOLD))


def check_paths(
    files: list[Path],
    resolver: ConfigResolver,
    mode: Mode,
    use_cache: bool,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Check files, reusing the cached outcome of those unchanged since; a process pool for long lists.
    ``progress(done, total)`` is called as each file is done."""
    caches: dict[Settings, Cache] = {}
    jobs: list[tuple[Path, FileSettings, Mode]] = []
    owners: dict[Path, Cache] = {}
    outcomes: list[Outcome] = []
    for file in files:
        settings = resolver.for_directory(file.parent)
        if use_cache:
            cache = caches.get(settings)
            if cache is None:
                cache = caches[settings] = Cache(settings.cache_dir, settings.fingerprint())
            cached = cache.lookup(file)
            outcome = _cached_outcome(file, cached) if cached is not None and _reusable(cached, mode) else None
            if outcome is not None:
                outcomes.append(outcome)
                continue
            owners[file] = cache
        jobs.append((file, settings.for_file(file), mode))
    workers = pool_size(len(jobs))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(_counted(pool.map(check_file, jobs, chunksize=8), len(outcomes), len(files), progress))
    else:
        results = list(_counted(map(check_file, jobs), len(outcomes), len(files), progress))
    for outcome in results:
        cache_of = owners.get(outcome.path)
        if cache_of is not None:
            reusable = not outcome.errors and outcome.text == outcome.original
            cache_of.record(outcome.path, outcome.diagnostics if reusable else None)
    for cache in caches.values():
        cache.save()
    return sorted(outcomes + results, key=lambda o: str(o.path))
