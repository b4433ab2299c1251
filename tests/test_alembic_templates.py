"""The env.py and script templates Alembic ships stay clean under every rule."""

from __future__ import annotations

from pathlib import Path

import alembic
import pytest

from lintdb.config import build_settings
from lintdb.engine import lint_source

TEMPLATES = sorted((Path(alembic.__file__).parent / "templates").glob("*/env.py"))


@pytest.mark.parametrize("env", TEMPLATES, ids=lambda p: p.parent.name)
def test_official_template_is_clean(env: Path) -> None:
    settings = build_settings({}, {"select": ["ALL"]}, Path.cwd(), None).for_file(env)
    assert lint_source(env.read_text(encoding="utf-8"), settings) == []


def test_templates_found() -> None:
    assert {"generic", "async"} <= {p.parent.name for p in TEMPLATES}
