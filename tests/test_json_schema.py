"""`--output-format json` validates against ruff's 11-key schema (0.16), strictly (no extra keys)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.test_cli import BAD, UNSAFE_ONLY, write

LOCATION = {
    "type": "object",
    "required": ["column", "row"],
    "additionalProperties": False,
    "properties": {"column": {"type": "integer", "minimum": 1}, "row": {"type": "integer", "minimum": 1}},
}
EDIT = {
    "type": "object",
    "required": ["content", "end_location", "location"],
    "additionalProperties": False,
    "properties": {"content": {"type": "string"}, "end_location": LOCATION, "location": LOCATION},
}
FIX = {
    "type": ["object", "null"],
    "required": ["applicability", "edits", "message"],
    "additionalProperties": False,
    "properties": {
        "applicability": {"enum": ["safe", "unsafe", "displayonly"]},
        "edits": {"type": "array", "items": EDIT},
        "message": {"type": ["string", "null"]},
    },
}
RUFF_JSON = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [
            "cell",
            "code",
            "end_location",
            "filename",
            "fix",
            "location",
            "message",
            "name",
            "noqa_row",
            "severity",
            "url",
        ],
        "additionalProperties": False,
        "properties": {
            "cell": {"type": ["integer", "null"]},
            "code": {"type": ["string", "null"]},
            "end_location": LOCATION,
            "filename": {"type": ["string", "null"]},
            "fix": FIX,
            "location": LOCATION,
            "message": {"type": "string"},
            "name": {"type": "string"},
            "noqa_row": {"type": ["integer", "null"]},
            "severity": {"type": "string"},
            "url": {"type": ["string", "null"]},
        },
    },
}


def test_json_matches_ruffs_schema_key_order_and_sorting(lintdb, tmp_path: Path) -> None:
    write(tmp_path, "b.py", BAD + UNSAFE_ONLY.replace("find", "find2"))
    write(tmp_path, "a.py", BAD)
    out = lintdb("check", "--output-format", "json", ".").stdout
    data = json.loads(out)
    jsonschema.validate(data, RUFF_JSON)
    assert all(list(item) == sorted(item) for item in data)
    assert [(Path(d["filename"]).name, d["location"]["row"]) for d in data] == [("a.py", 2), ("b.py", 2), ("b.py", 4)]
    assert out.startswith('[\n  {\n    "cell": null,\n')
