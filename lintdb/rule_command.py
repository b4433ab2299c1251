"""`lintdb rule`: a rule's documentation as text or as ruff's JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lintdb.catalog import RULES_BY_CODE
from lintdb.docs import rule_text


def _rule_json(code: str) -> dict[str, Any]:
    rule = RULES_BY_CODE[code]
    return {
        "name": rule.NAME,
        "code": rule.CODE,
        "linter": "lintdb",
        "summary": rule.MESSAGE,
        "message_formats": [rule.MESSAGE],
        "fix": {"Always": "Fix is always available.", "Sometimes": "Fix is sometimes available."}.get(
            rule.FIX_AVAILABILITY, "Fix is not available."
        ),
        "fix_availability": rule.FIX_AVAILABILITY,
        "fix_title": rule.FIX_TITLE,
        "explanation": rule.documentation(),
        "preview": False,
        "default_enabled": rule.DEFAULT_ENABLED,
        "url": rule.url(),
    }


def rule_command(args: argparse.Namespace) -> int:
    codes = list(RULES_BY_CODE) if args.all else [args.code] if args.code else []
    if not codes:
        print("lintdb: error: give a rule code or --all", file=sys.stderr)
        return 2
    for code in codes:
        if code not in RULES_BY_CODE:
            print(f"lintdb: error: unknown rule code `{code}`", file=sys.stderr)
            return 2
    if args.output_format == "json":
        data = [_rule_json(c) for c in codes]
        print(json.dumps(data if args.all else data[0], indent=2))
    else:
        print("\n".join(rule_text(RULES_BY_CODE[c]) for c in codes), end="")
    return 0
