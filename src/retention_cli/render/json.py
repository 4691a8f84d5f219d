"""JSON output: one document per run (SPEC §12)."""

from __future__ import annotations

import json

from retention_cli import __version__
from retention_cli.render.values import rows
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
        "generated_by": f"retention {__version__}",
        **stamp,
        "input": result.input,
        "options": result.options,
        "definitions": result.definitions,
        "definitions_sha256": result.definitions_sha256,
        **data,
        "notes": notes,
        "warnings": list(result.warnings),
    }


def to_json(result: Result | Report) -> str:
    """Deterministic JSON text (2-space indent, trailing newline, no NaN)."""
    return json.dumps(document(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
