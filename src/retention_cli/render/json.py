"""JSON output: one document per run (SPEC §12)."""

from __future__ import annotations

import json
from typing import Any

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
    return layout(document(result)).translate(_JSON_ESCAPES) + "\n"


def layout(doc: dict[str, Any]) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)``, faster on rows."""
    parts = [f"  {_dumps(key)}: {_value(value)}" for key, value in doc.items()]
    return "{\n" + ",\n".join(parts) + "\n}" if parts else "{}"


_SCALARS = frozenset({str, int, float, bool, type(None)})
_ROW_SEP = ",\n      "


def _dumps(value: object, **kw: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, **kw)


def _value(value: object) -> str:
    """One top-level value as ``json.dumps(..., indent=2)`` lays it out one level deep.

    A list of flat rows (the bulk of a large output) goes through the C encoder
    (``indent`` forces the pure-Python one: 3.1 s against 0.9 s CPU for 150,000 rows) with the
    indented layout as its separators; the same text, byte for byte.
    """
    if (
        isinstance(value, list)
        and value
        and all(type(r) is dict and r for r in value)
        and {type(v) for r in value for v in r.values()} <= _SCALARS
    ):
        # no raw newline inside JSON text: each "},\n      {" is a boundary between rows
        flat = _dumps(value, separators=(_ROW_SEP, ": "))
        rows = flat[2:-2].replace("}" + _ROW_SEP + "{", "\n    },\n    {\n      ")
        return "[\n    {\n      " + rows + "\n    }\n  ]"
    # nested: the indented layout, one level in (JSON text has no raw newline either)
    return _dumps(value, indent=2).replace("\n", "\n  ")
