"""LDB900 unused-noqa (the engine does the work: it needs every other rule's findings)."""

from __future__ import annotations

from lintdb.diagnostics import Applicability
from lintdb.rule import Invalid, LintRule, Valid


class UnusedNoqa(LintRule):
    """
    ## What it does
    Checks for `# noqa: LDBnnn` directives that suppress nothing: the code is not reported on that
    line, is not enabled, or does not exist. Only LDB codes are judged; codes of other tools and
    blanket `# noqa` comments are left alone.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line, and misleads readers into thinking
    the line has a known problem.

    ## Example
    ```python
    rows = await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)  # noqa: LDB103
    ```

    Use instead:
    ```python
    rows = await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)
    ```

    ## Fix safety
    The fix is safe: it removes the unused codes, and the whole comment when no code is left.

    ## References
    - [ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
    """

    CODE = "LDB900"
    NAME = "unused-noqa"
    MESSAGE = "Unused `noqa` directive"
    FIX_TITLE = "Remove unused `noqa` directive"
    FIX_AVAILABILITY = "Always"

    VALID = (
        Valid("""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id IN $1", ids)  # noqa: LDB103
            """),
        Valid("""
            import os  # noqa: F401
            x = 1  # noqa
            """),
    )
    INVALID = (
        Invalid(
            """
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)  # noqa: LDB103
            """,
            positions=[(2, 73)],
            fixed="""
            async def find(con, ids):
                return await con.fetch("SELECT id FROM t WHERE id = ANY($1)", ids)
            """,
            applicability=Applicability.SAFE,
        ),
        Invalid(
            """
            import os  # noqa: F401, LDB101
            import sys  # noqa: LDB999 keep for the plugin loader
            """,
            positions=[(1, 12), (2, 13)],
            fixed="""
            import os  # noqa: F401
            import sys  # keep for the plugin loader
            """,
            applicability=Applicability.SAFE,
        ),
    )
