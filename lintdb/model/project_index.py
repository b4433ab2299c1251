"""What the project's other modules define that a file may import: SQLAlchemy session factories and the
functions and pytest fixtures that give their sessions (whether they set `expire_on_commit=False`), and
database URLs kept in module constants and settings defaults. Built once per project root and run: a
text prefilter picks the modules that can matter (conftest.py, package `__init__.py`, and modules naming
a session factory or a database URL), Python's `ast` parses them, and names are resolved on demand
through their imports."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from lintdb.prefilter import HOLE, dotted_name

MAX_DEPTH = 32  # steps of following names, calls and imports
SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist", "venv", "env"})
MAX_FILES = 5000
# A module can define a session factory or a URL only if its text names one.
URL_SCHEME = re.compile(r"""["'](postgres(?:ql)?|sqlite|mysql|mariadb)(?:\+\w+)?://""")
# `engine.name == "postgresql"`, `dialect.name in ("mysql", ...)`: a database the code has a branch for
DIALECT_TEST = re.compile(
    r"""(?:dialect\.name|engine\.name|drivername|get_backend_name\(\))\s*(?:[!=]=|in|not\s+in)\s*[(\[{]?\s*"""
    r"""["'](postgres(?:ql)?|sqlite|mysql|mariadb)\b"""
)
TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})
RELEVANT = re.compile(r"sessionmaker|AsyncSession|\b(?:postgres(?:ql)?|sqlite|mysql|mariadb)[+\w]*://")
ASYNC_SESSION = frozenset({"sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession"})
ASYNC_SESSIONMAKER = frozenset(
    {"sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.session.async_sessionmaker"}
)
SESSIONMAKER = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
_FACTORIES = ASYNC_SESSION | ASYNC_SESSIONMAKER | SESSIONMAKER
FIXTURES = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
ENVIRON_GETTERS = frozenset({"os.environ.get", "os.getenv"})

FACTORY = "factory"  # calling it makes a session
SESSION = "session"  # a session, or a function / fixture giving one (called, entered or `Depends` on)
MAKER = "maker"  # a function returning a factory


@dataclass(frozen=True)
class Found:
    """A project definition: what ``kind`` of session thing it is and whether its sessions expire objects
    on commit (None when the factory's setting is not a literal)."""

    kind: str
    expires: bool | None


@dataclass(frozen=True)
class Imported:
    """A name an import binds: ``module`` (dotted, relative to the importer when ``level`` > 0) and the
    ``name`` in it (None for `import module`)."""

    module: str
    name: str | None
    level: int = 0


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    imports: dict[str, Imported] = field(default_factory=dict)
    assigned: dict[str, list[ast.expr]] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    fixtures: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)


def _read_module(path: Path) -> _Module | None:
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    module = _Module(path, tree)
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                bound = alias.asname or alias.name.split(".")[0]
                module.imports[bound] = Imported(alias.name if alias.asname else bound, None)
        elif isinstance(statement, ast.ImportFrom):
            for alias in statement.names:
                module.imports[alias.asname or alias.name] = Imported(
                    statement.module or "", alias.name, statement.level
                )
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    module.assigned.setdefault(target.id, []).append(statement.value)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            module.functions[statement.name] = statement
        elif isinstance(statement, ast.ClassDef):
            module.classes[statement.name] = statement
    for function in module.functions.values():
        name = _fixture_name(module, function)
        if name is not None:
            module.fixtures[name] = function
    return module


def _fixture_name(module: _Module, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The name a pytest fixture is requested by (its `name=` or the function's), None for other functions."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if _qualified(module, target) & FIXTURES:
            for keyword in call.keywords if call is not None else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
            return function.name
    return None


def _qualified(module: _Module, node: ast.expr) -> set[str]:
    """The qualified name of a dotted expression whose root the module imports (absolute imports only);
    of a generic alias's origin (`async_sessionmaker[AsyncSession]`)."""
    path = dotted_name(node.value if isinstance(node, ast.Subscript) else node)
    if path is None:
        return set()
    root, _, rest = path.partition(".")
    imported = module.imports.get(root)
    if imported is None or imported.level:
        return set()
    full = imported.module if imported.name is None else f"{imported.module}.{imported.name}"
    return {f"{full}.{rest}" if rest else full}


def _expires(call: ast.Call) -> bool | None:
    for keyword in call.keywords:
        if keyword.arg == "expire_on_commit":
            value = keyword.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None
        if keyword.arg is None:
            return None  # `**options` may set it
    return True


def _is_test_module(path: Path) -> bool:
    return path.name.startswith("test_") or path.stem.endswith("_test")


def _python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found += [Path(directory, f) for f in sorted(files) if f.endswith(".py")]
        if len(found) > MAX_FILES:
            return []  # too large to index cheaply
    return found


def _relevant(path: Path) -> bool:
    """The prefilter: conftest.py (fixtures), `__init__.py` (re-exports), and non-test modules whose text
    names a session factory or a database URL."""
    if path.name in ("conftest.py", "__init__.py"):
        return True
    if _is_test_module(path):
        return False  # a test module's own fixtures are visible only to it (the per-file model reads them)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return RELEVANT.search(text) is not None


class ProjectIndex:
    """The indexed modules of one project root, resolved on demand (each module parsed once)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._modules: dict[Path, _Module | None] = {}
        self._functions: dict[tuple[Path, str], Found | None] = {}

    @cached_property
    def files(self) -> tuple[Path, ...]:
        """The modules the prefilter keeps (read and parsed only when a query reaches them)."""
        return tuple(p for p in _python_files(self.root) if _relevant(p)) if self.root is not None else ()

    @cached_property
    def url_dialects(self) -> frozenset[str]:
        """The databases the project's own (non-test) modules name in URL literals (`"sqlite:///app.db"`,
        a settings default, a docstring's example) or branch on (`engine.name == "postgresql"`): ones it
        can run on, whatever alembic.ini says."""
        found: set[str] = set()
        for path in self.files:
            if path.name == "conftest.py" or TEST_DIRECTORIES & set(path.parts):
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for pattern in (URL_SCHEME, DIALECT_TEST):
                found.update("postgresql" if m[1].startswith("postgres") else m[1] for m in pattern.finditer(text))
        return frozenset(found)

    @cached_property
    def _dotted(self) -> dict[Path, tuple[str, ...]]:
        found = {}
        for path in self.files:
            parts = path.relative_to(self.root).with_suffix("").parts if self.root is not None else ()
            found[path] = parts[:-1] if parts and parts[-1] == "__init__" else parts
        return found

    def module(self, path: Path) -> _Module | None:
        if path not in self._dotted:
            return None
        if path not in self._modules:
            self._modules[path] = _read_module(path)
        return self._modules[path]

    def module_file(self, imported: str, level: int, importer: Path | None) -> Path | None:
        """The indexed file an import names: relative to the importer, or the one file whose dotted path
        ends with the module's (`backend.db` is `src/backend/db.py`)."""
        parts = tuple(p for p in imported.split(".") if p)
        if level:
            if importer is None:
                return None
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            wanted = [base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")]
            return next((p for p in wanted if p in self._dotted), None)
        if not parts:
            return None
        matches = [p for p, dotted in self._dotted.items() if dotted[-len(parts) :] == parts]
        return matches[0] if len(matches) == 1 else None

    # --- sessions ------------------------------------------------------------------------------------

    def session(self, imported: Imported, importer: Path | None) -> Found | None:
        """What an imported name is, as a session factory or a giver of sessions."""
        return self._named(imported, importer, 0)

    def fixture(self, name: str, test_file: Path) -> Found | None:
        """The session a fixture of a conftest.py above ``test_file`` gives (the nearest defines it)."""
        if self.root is None:
            return None
        for directory in test_file.resolve().parents:
            conftest = directory / "conftest.py"
            module = self.module(conftest)
            if module is not None and name in module.fixtures:
                return self.function(module, module.fixtures[name], 0)
            if directory == self.root:
                break
        return None

    def function(self, module: _Module, function: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> Found | None:
        """What a module's function gives, evaluated once (a recursive function gives nothing known)."""
        key = (module.path, function.name)
        if key not in self._functions:
            self._functions[key] = None
            self._functions[key] = _Evaluator(self, module).function(function, depth)
        return self._functions[key]

    @cached_property
    def expiry_settings(self) -> frozenset[bool | None]:
        """The `expire_on_commit` of every AsyncSession factory the indexed modules call (anywhere in them):
        {False} when the project turns expiry off wherever it makes sessions."""
        found: set[bool | None] = set()
        for path in self.files:
            module = self.module(path)
            if module is None:
                continue
            evaluator = _Evaluator(self, module)
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call) and _qualified(module, node.func) & _FACTORIES:
                    made = evaluator.value(node, {}, 0)
                    if made is not None:
                        found.add(made.expires)
        return frozenset(found)

    def _named(self, imported: Imported, importer: Path | None, depth: int) -> Found | None:
        module, name, _ = self._target(imported, (), importer)
        if module is None or name is None or depth > MAX_DEPTH:
            return None
        return _Evaluator(self, module).name(name, depth + 1)

    def _target(
        self, imported: Imported, attributes: tuple[str, ...], importer: Path | None
    ) -> tuple[_Module | None, str | None, tuple[str, ...]]:
        """The indexed module an imported name (and the attributes read of it) lives in, and the name in it:
        `from app import config` then `config.X` is `X` of app/config.py."""
        names = ((imported.name,) if imported.name is not None else ()) + attributes
        dotted = imported.module
        for position, name in enumerate(names):
            path = self.module_file(f"{dotted}.{name}" if dotted else name, imported.level, importer)
            if path is None:
                path = self.module_file(dotted, imported.level, importer)
                return (self.module(path) if path is not None else None), name, names[position + 1 :]
            dotted = f"{dotted}.{name}" if dotted else name
        return None, None, ()

    # --- URLs ----------------------------------------------------------------------------------------

    def text(self, imported: Imported, attributes: tuple[str, ...], importer: Path | None) -> str | None:
        """The string an imported constant or settings attribute holds (`settings.DATABASE_URL` with
        `DATABASE_URL: str = "..."` in the settings class); f-string holes become sqltext.HOLE."""
        module, name, rest = self._target(imported, attributes, importer)
        if module is None or name is None:
            return None
        return _Evaluator(self, module).text_of_name(name, rest, 0)


class _Evaluator:
    """Evaluation of one module's names and functions (following imports into other indexed modules)."""

    def __init__(self, index: ProjectIndex, module: _Module) -> None:
        self.index = index
        self.module = module

    def _import(self, name: str, depth: int) -> Found | None:
        imported = self.module.imports.get(name)
        if imported is None:
            return None
        return self.index._named(imported, self.module.path, depth + 1)

    def name(self, name: str, depth: int) -> Found | None:
        if depth > MAX_DEPTH:
            return None
        if name in self.module.functions:
            return self.index.function(self.module, self.module.functions[name], depth + 1)
        values = self.module.assigned.get(name, [])
        if values:
            return self.value(values[0], {}, depth + 1) if len(values) == 1 else None
        return self._import(name, depth)

    def function(self, function: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> Found | None:
        """What a function returns or yields: a session (SESSION), a factory (MAKER)."""
        local: dict[str, ast.expr] = {}
        given: list[ast.expr] = []
        for node in _own_nodes(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                key = target.id if isinstance(target, ast.Name) else _subscripted(target)
                if key is not None:
                    local[key] = node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
                local[node.target.id] = node.value
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        local[item.optional_vars.id] = item.context_expr
            elif isinstance(node, (ast.Return, ast.Yield)) and node.value is not None:
                given.append(node.value)
        found = {self.value(v, local, depth + 1) for v in given if not _is_none(v)}
        if len(found) != 1:
            return None
        result = found.pop()
        if result is None:
            return None
        return Found(MAKER if result.kind == FACTORY else SESSION, result.expires)

    def value(self, node: ast.expr, local: dict[str, ast.expr], depth: int) -> Found | None:
        """What an expression in a function (``local`` its assignments) or at module level holds."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Await):
            return self.value(node.value, local, depth + 1)
        if isinstance(node, ast.Name):
            if node.id in local:
                return self.value(local[node.id], local, depth + 1)
            return self.name(node.id, depth + 1)
        if isinstance(node, ast.Subscript):
            key = _subscripted(node)
            return self.value(local[key], local, depth + 1) if key in local else None
        if not isinstance(node, ast.Call):
            return None
        names = _qualified(self.module, node.func)
        if names & ASYNC_SESSION:
            return Found(SESSION, _expires(node))
        if names & ASYNC_SESSIONMAKER:
            return Found(FACTORY, _expires(node))
        if names & SESSIONMAKER:
            class_ = next((k.value for k in node.keywords if k.arg == "class_"), None)
            if class_ is not None and _qualified(self.module, class_) & ASYNC_SESSION:
                return Found(FACTORY, _expires(node))
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "begin":
            func = func.value
        called = self.value(func, local, depth + 1)
        if called is None:
            return None
        return Found(FACTORY if called.kind == MAKER else SESSION, called.expires)

    # --- strings -------------------------------------------------------------------------------------

    def text_of_name(self, name: str, attributes: tuple[str, ...], depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return None
        values = self.module.assigned.get(name, [])
        if len(values) == 1:
            return self._text_of_value(values[0], attributes, depth + 1)
        if name in self.module.classes:
            return self._class_text(self.module.classes[name], attributes, depth + 1)
        if name in self.module.functions:  # `get_settings()` returning `Settings()`
            returned = [n.value for n in _own_nodes(self.module.functions[name]) if isinstance(n, ast.Return)]
            if len(returned) == 1 and returned[0] is not None:
                return self._text_of_value(returned[0], attributes, depth + 1)
            return None
        imported = self.module.imports.get(name)
        if imported is None or values:
            return None
        return self.index.text(imported, attributes, self.module.path) if depth < MAX_DEPTH else None

    def _text_of_value(self, node: ast.expr, attributes: tuple[str, ...], depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return None
        if not attributes:
            return self._string(node, depth + 1)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.module.classes:
            return self._class_text(self.module.classes[node.func.id], attributes, depth + 1)  # `Settings()`
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            return self.text_of_name(node.func.id, attributes, depth + 1)  # `get_settings()`
        if isinstance(node, ast.Name):
            return self.text_of_name(node.id, attributes, depth + 1)
        return None

    def _class_text(self, cls: ast.ClassDef, attributes: tuple[str, ...], depth: int) -> str | None:
        """A class attribute's default (pydantic settings fields, `Field(default=...)`), through nested
        settings classes of the module (`database: DatabaseSettings = Field(default_factory=...)`)."""
        if not attributes or depth > MAX_DEPTH:
            return None
        first, rest = attributes[0], attributes[1:]
        for statement in cls.body:
            target: ast.expr | None = statement.target if isinstance(statement, ast.AnnAssign) else None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
            if not (isinstance(target, ast.Name) and target.id == first):
                continue
            value = getattr(statement, "value", None)
            if isinstance(value, ast.Call) and _qualified(self.module, value.func) & FIELD:
                value = next((k.value for k in value.keywords if k.arg in ("default", "default_factory")), None) or (
                    value.args[0] if value.args else None
                )
            if rest:
                annotation = statement.annotation if isinstance(statement, ast.AnnAssign) else None
                nested = value.func if isinstance(value, ast.Call) else value
                for candidate in (nested, annotation):
                    if isinstance(candidate, ast.Name) and candidate.id in self.module.classes:
                        return self._class_text(self.module.classes[candidate.id], rest, depth + 1)
                return None
            return self._string(value, depth + 1) if value is not None else None
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self.module.classes:
                return self._class_text(self.module.classes[base.id], attributes, depth + 1)
        return None

    def _string(self, node: ast.expr, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else HOLE for v in node.values]
            return "".join(str(p) for p in parts)
        if isinstance(node, ast.Call) and _qualified(self.module, node.func) & ENVIRON_GETTERS:
            default = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords), None)
            return self._string(default, depth + 1) if default is not None else None
        if isinstance(node, ast.Name):
            return self.text_of_name(node.id, (), depth + 1)
        return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _subscripted(node: ast.expr) -> str | None:
    """`CACHE[...]` as the key `CACHE[]` (a function that stores its factory in a dict and returns it)."""
    return f"{node.value.id}[]" if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) else None


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The function's nodes in source order, not those of nested functions, classes or lambdas."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


@lru_cache(maxsize=16)
def project_index(root: Path | None) -> ProjectIndex:
    """The index of the project at ``root`` (one per run)."""
    return ProjectIndex(root)
