"""JSON output: one document per run (SPEC §12)."""

from __future__ import annotations

import json

import retention_cli
from retention_cli.render.values import VISIBLE, rows
from retention_cli.result import SCHEMA_VERSION, Report, Result


def document(result: Result | Report) -> dict:
    """The JSON document as a Python mapping, keys in their contract order.

    A report has one key per section (each a list of rows) where a single
    command has ``periods``.
    """
    if isinstance(result, Report):
        data = {name: rows(section) for name, section in result.sections.items()}
        notes = [*result.notes, *(n for s in result.sections.values() for n in s.notes)]
    else:
        data, notes = {result.rows_key: rows(result)}, list(result.notes)
    stamp = {"generated_at": result.stamp} if result.stamp else {}
    return {
        "schema_version": SCHEMA_VERSION,
        "command": result.command,
        "generated_by": f"retention {retention_cli.__version__}",
        **stamp,
        "input": result.input,
        "options": result.options,
        "definitions": result.definitions,
        "definitions_sha256": result.definitions_sha256,
        **data,
        "notes": notes,
        "warnings": list(result.warnings),
    }


_JSON_ESCAPES = str.maketrans({c: f"\\u{ord(c):04x}" for c in VISIBLE if ord(c) >= 0x20})
"""DEL, C1, bidi and the other controls ``json.dumps`` leaves raw (it escapes C0 itself)."""


def to_json(result: Result | Report) -> str:
    """Deterministic JSON text (2-space indent, trailing newline, no NaN).

    Text keeps the exact data; a control character in it is a ``\\u`` escape, so
    the document shows no raw terminal control when printed.
    """
    text = json.dumps(document(result), indent=2, ensure_ascii=False, allow_nan=False)
    return text.translate(_JSON_ESCAPES) + "\n"
