"""Every ```sh, ```yaml, ```toml and ```ini snippet of README.md, run as written with the real tools:
shell snippets in bash (the install ones in a copy of this checkout, with a venv of their own), pre-commit
configurations through `pre-commit run --all-files` in a temporary git repository, GitHub Actions steps
as shell commands in a fresh venv, configuration snippets loaded by the tool they configure.

Only a snippet preceded by `<!-- after-release -->` is skipped (it names a tag or a package that
does not exist yet). A snippet none of the runners below recognises fails the suite: a new snippet
needs a runner. The repository's placeholder address (lintdb.docs.REPOSITORY_URL) is replaced by this
checkout, at its HEAD commit: the install snippets test what is committed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lintdb.docs import REPOSITORY_URL
from tests.test_cli import BAD, write

PROJECT = Path(__file__).resolve().parents[1]
README = PROJECT / "README.md"
RUN_LANGUAGES = ("sh", "yaml", "toml", "ini", "json")
AFTER_RELEASE = "<!-- after-release -->"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Snippet:
    language: str
    text: str
    line: int
    after_release: bool

    @property
    def kind(self) -> str | None:
        """Which runner runs it; None: none does (a new kind of snippet)."""
        if self.language == "sh":
            return "install" if "python3 -m venv" in self.text else "commands"
        if self.language == "yaml":
            data = yaml.safe_load(self.text)
            if isinstance(data, dict) and "repos" in data:
                return "pre-commit"
            if isinstance(data, list) and all(isinstance(s, dict) and ("run" in s or "uses" in s) for s in data):
                return "actions"
        if self.language == "toml":
            return (
                "lintdb-config"
                if "[tool.lintdb]" in self.text
                else "ruff-config"
                if "[tool.ruff" in self.text
                else None
            )
        if self.language == "ini" and self.text.startswith("[flake8]"):
            return "flake8-config"
        if self.language == "json" and "glspc.server.command" in self.text:
            return "vscode-settings"
        return None


def snippets() -> list[Snippet]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if match.group(1) in RUN_LANGUAGES:
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(match.group(1), match.group(2), line, before.strip() == AFTER_RELEASE))
    return found


def _of(kind: str) -> list[object]:
    return [pytest.param(s, id=f"README.md:{s.line}") for s in snippets() if s.kind == kind and not s.after_release]


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _env(path_first: Path = BIN, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{path_first}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1", **extra}


def _bash(script: str, cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_every_snippet_has_a_runner() -> None:
    found = snippets()
    assert len(found) >= 10, "README.md's snippets were not found: has the fence syntax changed?"
    untested = [f"README.md:{s.line} ({s.language})" for s in found if s.kind is None and not s.after_release]
    assert not untested, f"no test runs these snippets; add a runner in {Path(__file__).name}: {untested}"
    assert {s.kind for s in found if s.after_release} <= {"pre-commit", "actions"}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout's files (tracked and new, not ignored), as a fresh clone would have."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    copy = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed):
        if (PROJECT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, copy / name)
    return copy


@pytest.mark.parametrize("snippet", _of("install"))
def test_install_snippet(snippet: Snippet, checkout: Path) -> None:
    script = snippet.text
    if "-m pytest" in script:  # the test suite itself: collected, not run inside itself
        script = script.replace("-m pytest", "-m pytest --collect-only -q -p no:cacheprovider")
    done = _bash(script, checkout, {**os.environ, "VIRTUAL_ENV": ""})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if "pytest" in script:
        assert re.search(r"\d+ tests collected", done.stdout), done.stdout[-2000:]
    else:
        assert "LDB" in done.stdout and "Found" in done.stdout


@pytest.mark.parametrize("snippet", _of("commands"))
def test_command_snippet_each_line(snippet: Snippet, tmp_path: Path) -> None:
    write(tmp_path, "app.py", BAD)
    for line in snippet.text.splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command:
            continue
        done = _bash(command, tmp_path, _env())
        assert done.returncode in (0, 1) and "lintdb: error" not in done.stderr, (command, done.stdout, done.stderr)
        write(tmp_path, "app.py", BAD)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    write(repo, "app.py", BAD)
    write(repo, "clean.py", "print(1)\n")
    return repo


@pytest.mark.parametrize("snippet", _of("pre-commit"))
def test_pre_commit_snippet(snippet: Snippet, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    config = snippet.text.replace(REPOSITORY_URL, str(PROJECT))
    config = re.sub(r"rev: \S+", f"rev: {_head()}", config)
    write(repo, ".pre-commit-config.yaml", config)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    env = _env(PRE_COMMIT_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "app.py:2:55" in done.stdout and "LDB103" in done.stdout and "clean.py" not in done.stdout


@pytest.mark.parametrize("snippet", _of("actions"))
def test_actions_snippet_steps_as_shell(snippet: Snippet, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    venv = tmp_path / "venv"  # what actions/setup-python provides: a Python of its own
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _env(venv / "bin", VIRTUAL_ENV=str(venv))
    steps = [step["run"] for step in yaml.safe_load(snippet.text) if "run" in step]
    assert steps, "an Actions snippet without a `run` step tests nothing"
    for i, step in enumerate(steps):
        script = step.replace(f"git+{REPOSITORY_URL}@main", f"git+file://{PROJECT}@{_head()}")
        done = _bash(script, repo, env)
        last = i == len(steps) - 1
        assert done.returncode == (1 if last else 0), (script, done.stdout[-3000:], done.stderr[-3000:])
    assert "::error title=lintdb (LDB103),file=" in done.stdout


@pytest.mark.parametrize("snippet", _of("lintdb-config"))
def test_lintdb_config_snippet_is_accepted(snippet: Snippet, lintdb, tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", snippet.text)
    write(tmp_path, "app.py", BAD)
    done = lintdb("check", "--output-format", "concise", ".")
    assert (done.returncode, done.stderr) == (1, ""), done.stderr
    assert done.stdout.startswith("app.py:2:55: LDB103")
    write(tmp_path, "pyproject.toml", snippet.text + "no-such-key = 1\n")
    assert lintdb("check", ".").returncode == 2, "the snippet was not read at all"


@pytest.mark.parametrize("snippet", _of("ruff-config"))
def test_ruff_config_snippet_keeps_lintdb_noqa(snippet: Snippet, tmp_path: Path) -> None:
    write(tmp_path, "app.py", BAD.replace("ids)\n", "ids)  # noqa: LDB103\n"))
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--extend-select", "RUF100,RUF102", "app.py"]
    write(tmp_path, "pyproject.toml", "[tool.ruff]\n")
    assert subprocess.run(ruff, cwd=tmp_path, capture_output=True).returncode == 1, "RUF102 should flag LDB103"
    write(tmp_path, "pyproject.toml", snippet.text)
    done = subprocess.run(ruff, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("snippet", _of("flake8-config"))
def test_flake8_config_snippet(snippet: Snippet, tmp_path: Path) -> None:
    write(tmp_path, ".flake8", snippet.text)
    write(tmp_path, "app.py", BAD)
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "app.py"], cwd=tmp_path, capture_output=True, text=True, env=_env()
    )
    assert done.returncode == 1 and "app.py:2:55: LDB103 " in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("snippet", _of("vscode-settings"))
def test_vscode_settings_start_a_working_server(snippet: Snippet, tmp_path: Path) -> None:
    """The command the settings name, started as the extension starts it, answers an LSP client."""
    import asyncio
    import json

    from lsprotocol import types as lsp
    from pygls.lsp.client import LanguageClient

    settings = json.loads(snippet.text)
    assert settings["glspc.server.languageId"] == ["python"]
    command = shutil.which(settings["glspc.server.command"], path=str(BIN))
    assert command is not None

    async def session() -> None:
        client = LanguageClient("vscode-settings-test", "1")
        published: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            published.put_nowait(params)

        await client.start_io(command, *settings["glspc.server.commandArguments"])
        try:
            await client.initialize_async(
                lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=tmp_path.as_uri())
            )
            client.initialized(lsp.InitializedParams())
            uri = (tmp_path / "app.py").as_uri()
            item = lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=BAD)
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(item))
            first = await asyncio.wait_for(published.get(), 30)
            assert [d.code for d in first.diagnostics] == ["LDB103"]
        finally:
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
            await asyncio.wait_for(client.stop(), 10)

    asyncio.run(session())
