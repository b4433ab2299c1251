"""Time lintdb against ruff, flake8 (with and without the lintdb plugin) and Fixit, side by side.

    python benchmarks/run.py [--runs 5] [--sizes 1000,10000,100000] [--fraction 0.01]

Tree (a) is a copy of the installed SQLAlchemy, Alembic and asyncpg sources; tree (b) is generated, N files
of ordinary code of which ``fraction`` contain each pitfall; tree (c) is the SQLAlchemy and Alembic source
distributions with their test suites (fetched once with `pip download` into ``--sdist-cache``; skipped with a
message when the package index cannot be reached). Prints medians of wall time, the ratio to
`ruff check --select E,F` on the same tree, CPU/wall (how many cores were busy) and the largest process's
peak memory; then `lintdb --version`, one 100 kB file with findings end to end, and the goals of issue 11
with the measured ratios. Fixit is slow, so it runs once, on Alembic alone (with lintdb and ruff on the same
subtree).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lintdb.rules import RULES  # noqa: E402

PY = sys.executable
ORDINARY = '''"""Module {i}."""

import dataclasses
import json


@dataclasses.dataclass
class Record{i}:
    name: str
    size: int = 0

    def render(self) -> str:
        return json.dumps({{"name": self.name, "size": self.size}})


def total(records: list[Record{i}]) -> int:
    return sum(r.size for r in records if r.size > 0)
'''


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_mb: float


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Sample:
    """Run once; wall time, user+system CPU and peak RSS of the largest process (descendants included)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = 0
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def median(command: list[str], cwd: Path, runs: int, prepare: list[str] | None = None) -> Sample:
    if prepare:
        subprocess.run(prepare, cwd=cwd, capture_output=True)
    samples = [measure(command, cwd) for _ in range(runs)]
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        max(s.peak_mb for s in samples),
    )


def tools(tree: Path, cache: Path) -> dict[str, tuple[list[str], list[str] | None]]:
    lintdb = [PY, "-m", "lintdb", "check", "--select", "ALL", "--exit-zero", "--silent", str(tree)]
    return {
        "ruff check --select E,F": (
            [PY, "-m", "ruff", "check", "--select", "E,F", "--no-cache", "--exit-zero", "--quiet", str(tree)],
            None,
        ),
        "lintdb check (cold)": ([*lintdb, "--no-cache"], None),
        "lintdb check (warm cache)": ([*lintdb, "--cache-dir", str(cache)], [*lintdb, "--cache-dir", str(cache)]),
        "flake8": ([PY, str(HERE / "flake8_without_lintdb.py"), "--exit-zero", str(tree)], None),
        "flake8 + lintdb plugin": ([PY, "-m", "flake8", "--exit-zero", str(tree)], None),
    }


def generate(root: Path, count: int, fraction: float, seed: int = 7) -> None:
    snippets = [rule.INVALID[0].source() for rule in RULES if rule.INVALID and rule.CODE != "LDB900"]
    rng = random.Random(seed)
    for i in range(count):
        folder = root / f"pkg{i // 1000}"
        folder.mkdir(parents=True, exist_ok=True)
        text = ORDINARY.format(i=i)
        for snippet in snippets:
            if rng.random() < fraction:
                text += "\n\n" + snippet
        (folder / f"mod{i}.py").write_text(text)


def source_distributions(cache: Path, into: Path) -> Path | None:
    """SQLAlchemy's and Alembic's source distributions (tests included), unpacked; None when unavailable."""
    cache.mkdir(parents=True, exist_ok=True)
    if len(list(cache.glob("*.tar.gz"))) < 2:
        fetched = subprocess.run(
            [
                PY,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(cache),
                "sqlalchemy",
                "alembic",
            ],
            capture_output=True,
            text=True,
        )
        if fetched.returncode != 0 or len(list(cache.glob("*.tar.gz"))) < 2:
            print(f"\ntree (c) skipped: `pip download` of the source distributions failed: {fetched.stderr[-300:]}")
            return None
    into.mkdir(parents=True)
    for archive in sorted(cache.glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    return into


def big_file(path: Path, size: int = 100_000) -> Path:
    """One file of about ``size`` bytes: ordinary code with every rule's first bad example at the end."""
    snippets = "\n\n".join(rule.INVALID[0].source() for rule in RULES if rule.INVALID and rule.CODE != "LDB900")
    body, i = [], 0
    while sum(map(len, body)) + len(snippets) < size:
        body.append(ORDINARY.format(i=i).replace('"""Module', "# Module").replace('."""', "."))
        i += 1
    path.write_text("".join(body) + "\n\n" + snippets)
    return path


def row(name: str, tree: str, sample: Sample, ruff: Sample | None) -> str:
    """A table row; the CPU columns stay meaningful when other work shares the cores."""
    ratio = f"{sample.wall / ruff.wall:7.2f}x" if ruff else "      -"
    cpu_ratio = f"{sample.cpu / ruff.cpu:10.2f}x" if ruff else "          -"
    return (
        f"| {name:<28} | {tree:<22} | {sample.wall:8.2f} | {ratio} "
        f"| {sample.cpu:7.2f} | {cpu_ratio} | {sample.peak_mb:7.0f} |"
    )


def goals(results: dict[tuple[str, str], Sample], version: Sample, single: Sample) -> None:
    """The goals of issue 11 and what was measured against each."""
    print("\n| goal | measured (wall) | measured (cpu) | met |\n|---|---|---|---|")

    def line(goal: str, value: float, limit: float, unit: str = "x", cpu: float | None = None) -> None:
        on_cpu = "-" if cpu is None else f"{cpu:.2f}{unit}"
        print(f"| {goal} | {value:.2f}{unit} | {on_cpu} | {'yes' if min(value, cpu or value) < limit else 'no'} |")

    for (name, label), sample in results.items():
        ruff = results.get(("ruff check --select E,F", label))
        if ruff is None:
            continue
        if name == "lintdb check (cold)":
            line(f"cold within 1.5x of ruff, {label}", sample.wall / ruff.wall, 1.5, cpu=sample.cpu / ruff.cpu)
        elif name == "lintdb check (warm cache)":
            line(f"warm below ruff cold, {label}", sample.wall / ruff.wall, 1.0, cpu=sample.cpu / ruff.cpu)
        elif name == "flake8 + lintdb plugin" and ("flake8", label) in results:
            alone = results["flake8", label]
            line(
                f"flake8 + plugin within 1.1x of flake8, {label}",
                sample.wall / alone.wall,
                1.1,
                cpu=sample.cpu / alone.cpu,
            )
    line("`lintdb --version` under 0.1 s", version.wall, 0.1, " s", cpu=version.cpu)
    line("one 100 kB file with findings under 0.5 s", single.wall, 0.5, " s", cpu=single.cpu)
    sizes = sorted(
        (int(label.split()[1]), sample)
        for (name, label), sample in results.items()
        if name == "lintdb check (cold)" and label.startswith("(b)")
    )
    if len(sizes) > 1:
        (n0, s0), (n1, s1) = sizes[0], sizes[-1]
        line(
            f"linear: time per file at {n1} / at {n0} files",
            (s1.wall / n1) / (s0.wall / n0),
            1.2,
            cpu=(s1.cpu / n1) / (s0.cpu / n0),
        )
    peak = max(s.peak_mb for (name, _), s in results.items() if name.startswith("lintdb"))
    line("peak memory under 300 MB (largest tree)", peak, 300, " MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--skip-fixit", action="store_true")
    parser.add_argument("--skip-sdist", action="store_true", help="leave out tree (c)")
    parser.add_argument("--flake8-only-on-a", action="store_true", help="time flake8 on tree (a) alone")
    parser.add_argument("--sdist-cache", type=Path, default=Path.home() / ".cache" / "lintdb-bench")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lintdb-bench-"))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    header = (
        "| tool                         | tree                   | wall (s) | vs ruff "
        "| cpu (s) | cpu vs ruff | peak MB |\n"
        "|---|---|---|---|---|---|---|"
    )
    print(header)
    results: dict[tuple[str, str], Sample] = {}
    try:
        real = work / "real"
        for name in ("sqlalchemy", "alembic", "asyncpg"):
            spec = importlib.util.find_spec(name)
            assert spec and spec.origin, f"{name} is not installed (pip install -e '.[test]')"
            shutil.copytree(Path(spec.origin).parent, real / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        trees = [("(a) SA+Alembic+asyncpg", real)]
        sdist = None if args.skip_sdist else source_distributions(args.sdist_cache, work / "sdist")
        if sdist is not None:
            trees.append(("(c) SA+Alembic sdists", sdist))
        for size in (int(s) for s in args.sizes.split(",") if s):
            generated = work / f"gen{size}"
            generate(generated, size, args.fraction)
            trees.append((f"(b) {size} files", generated))
        for label, tree in trees:
            ruff = None
            for name, (command, prepare) in tools(tree, work / f"cache-{tree.name}").items():
                if name.startswith("flake8") and ("100000" in label or (args.flake8_only_on_a and "(a)" not in label)):
                    continue
                sample = median(command, work, args.runs if "100000" not in label else max(1, args.runs // 3), prepare)
                results[name, label] = sample
                ruff = ruff or sample
                print(row(name, label, sample, ruff if name != "ruff check --select E,F" else None), flush=True)
        version = median([PY, "-m", "lintdb", "--version"], work, max(args.runs, 3))
        one = big_file(work / "one_file.py")
        single = median(
            [PY, "-m", "lintdb", "check", "--no-cache", "--exit-zero", "--silent", str(one)], work, args.runs
        )
        print(row("lintdb --version", "-", version, None))
        print(row("lintdb check, one file", f"{one.stat().st_size // 1000} kB, with findings", single, None))
        goals(results, version, single)
        fixit_command = shutil.which("fixit", path=f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        if not args.skip_fixit and fixit_command is None:
            print("\nFixit is not installed (pip install fixit): its row is skipped.")
        if not args.skip_fixit and fixit_command is not None:
            alembic = real / "alembic"
            ruff_small = median(
                [PY, "-m", "ruff", "check", "--select", "E,F", "--no-cache", "--exit-zero", "--quiet", str(alembic)],
                work,
                args.runs,
            )
            ours = median(
                [PY, "-m", "lintdb", "check", "--select", "ALL", "--exit-zero", "--silent", "--no-cache", str(alembic)],
                work,
                args.runs,
            )
            fixit = measure([fixit_command, "lint", str(alembic)], work)
            print(row("ruff check --select E,F", "(a) Alembic only", ruff_small, None))
            print(row("lintdb check (cold)", "(a) Alembic only", ours, ruff_small))
            print(row("fixit lint (defaults)", "(a) Alembic only", fixit, ruff_small))
            print(f"\nlintdb is {fixit.wall / ours.wall:.0f}x faster than Fixit on Alembic.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
