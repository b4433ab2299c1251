"""Every rule's metadata (code, name, message, fix availability, default selection, documentation), read
from its file under lintdb/rules/ with Python's `ast`, so `lintdb rule`, configuration and output know
the rules without importing them (and LibCST with them). The rule class stays the one source of truth.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lintdb.docs import rule_url

RULES_DIR = Path(__file__).resolve().parent / "rules"


@dataclass(frozen=True)
class RuleInfo:
    """A rule's class attributes as the rule class spells them, and where the class lives."""

    CODE: str
    NAME: str
    MESSAGE: str
    FIX_TITLE: str | None
    FIX_AVAILABILITY: str
    DEFAULT_ENABLED: bool
    module: str
    class_name: str
    docstring: str

    def url(self) -> str:
        """The rule's documentation page (docs/rules/, under the default base URL)."""
        return rule_url(self.CODE, self.NAME)

    def documentation(self) -> str:
        """The rule's documentation in ruff's template."""
        return textwrap.dedent(self.docstring).strip() + "\n"


_DEFAULTS: dict[str, object] = {"FIX_TITLE": None, "FIX_AVAILABILITY": "None", "DEFAULT_ENABLED": True}


def _value(node: ast.expr, constants: Mapping[str, object]) -> object:
    """A literal, or a module string constant, or an f-string of those (`f"{ERROR}: ..."`)."""
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.conversion != -1 or part.format_spec is not None:
                    raise ValueError("formatted value")
                part = part.value
            value = _value(part, constants)
            if not isinstance(value, str):
                raise ValueError("not a string")
            parts.append(value)
        return "".join(parts)
    return ast.literal_eval(node)


def _read(path: Path) -> RuleInfo:
    """The one class in a rule file that sets CODE, with its class attributes: literals, or f-strings of the
    module's string constants."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = _value(node.value, constants)
            except ValueError:
                continue
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        values: dict[str, object] = dict(_DEFAULTS)
        for statement in node.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name) and target.id in RuleInfo.__dataclass_fields__:
                    try:
                        values[target.id] = _value(statement.value, constants)
                    except ValueError:
                        continue
        if "CODE" in values:
            return RuleInfo(
                module=f"lintdb.rules.{path.stem}",
                class_name=node.name,
                docstring=ast.get_docstring(node, clean=False) or "",
                **values,  # type: ignore[arg-type]
            )
    raise LookupError(f"{path} defines no rule class with a CODE")


class Catalog(Mapping[str, RuleInfo]):
    """The rules by code, in code order; the files are read on first use."""

    @cached_property
    def _rules(self) -> dict[str, RuleInfo]:
        found = (_read(path) for path in sorted(RULES_DIR.glob("ldb[0-9][0-9][0-9]_*.py")))
        return {info.CODE: info for info in sorted(found, key=lambda info: info.CODE)}

    def __getitem__(self, code: str) -> RuleInfo:
        return self._rules[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


RULES_BY_CODE = Catalog()
